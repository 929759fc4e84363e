/**
 * One EXECUTE of a decoupled model inside the Worker. The serve loop does
 * not wait for it: several may run at once (up to the model's
 * `deno.max_batches_in_flight`, which the parent enforces). Each request
 * gets a response sender; every `send` becomes a RESPONSE record at once
 * (its payload a one-response RESULT in the stub's half), FINAL closing the
 * request. When `execute` settles the batch answers EXECUTE_DONE; if it
 * threw, every request still open gets the error as its FINAL response. A
 * model may go on sending after `execute` returned, from timers or
 * promises, until it closes each request. A request the model rescheduled
 * (before `execute` returned) ends its turn with a RESPONSE flagged
 * RESCHEDULE once `execute` settles.
 *
 * Arena: each request has a scope for the outputs it allocates (freed once
 * the parent has taken its FINAL); each response payload has its own scope.
 *
 * @example
 * ```ts ignore
 * import { runDecoupledBatch } from "./run_decoupled.ts";
 *
 * void runDecoupledBatch(context, executeRecord, link.toParent, openRequests);
 * ```
 *
 * @module
 */

import { ErrorCode, TritonError } from "../api/error.ts";
import { type CheckedResponse, checkResponse, makeResponseSender } from "../api/internal.ts";
import { InferenceResponse } from "../api/response.ts";
import type { ResponseSender } from "../api/response_sender.ts";
import { readBatch, type ResultAllocator, writeResult } from "../wire/batch_codec.ts";
import { writeErrorTextIn } from "../wire/error_text.ts";
import { ERROR_CODE, MSG, RECORD_FLAG, TRACE_EVENT } from "../wire/layout.ts";
import type { Ring, WireRecord } from "../wire/ring.ts";
import type { ArenaScope } from "../wire/stub_arena.ts";
import {
  type BatchContext,
  batchFailure,
  forClient,
  isIterativeSequence,
  requestFromWire,
  responseParameters,
} from "./run_batch.ts";

/** A request of a decoupled batch whose FINAL has not gone out yet. */
export interface OpenRequest {
  /** Its batch. */
  batchId: bigint;
  /** Its index in the batch. */
  index: number;
  /** Its request id, for messages. */
  requestId: string;
  /** Sends `error` as its FINAL response. */
  fail(error: TritonError): void;
  /**
   * The parent ended it (CANCEL flagged CLOSED): its sender closes, nothing
   * more goes out for it, and `acknowledge` sends the record that says so.
   */
  endedByServer(acknowledge: () => void): void;
}

/**
 * The open requests of all batches, so that finalize can close what the
 * model left open, and the parent can end one.
 */
export class OpenRequests extends Set<OpenRequest> {
  /** Called when the last open request closes. */
  onEmpty: (() => void) | undefined;

  /** Removes `request`; says whether it was open. */
  override delete(request: OpenRequest): boolean {
    const removed = super.delete(request);
    if (removed && this.size === 0) this.onEmpty?.();
    return removed;
  }

  /** The open request at `index` of batch `batchId`, if any. */
  find(batchId: bigint, index: number): OpenRequest | undefined {
    for (const request of this) {
      if (request.batchId === batchId && request.index === index) return request;
    }
    return undefined;
  }
}

/**
 * Runs one decoupled batch to the end of its `execute`.
 *
 * @param context The model and the arena.
 * @param execute The EXECUTE record.
 * @param toParent Where RESPONSE and EXECUTE_DONE go.
 * @param open Open requests, kept up to date.
 */
export async function runDecoupledBatch(
  context: BatchContext,
  execute: WireRecord,
  toParent: Ring,
  open: OpenRequests,
): Promise<void> {
  const batchId = execute.id;
  const halted = () => context.halted?.() === true;
  const pushError = (code: number, text: string): void => {
    if (halted()) return;
    const scope = context.stubArena.scope();
    const written = writeErrorTextIn(scope, text);
    toParent.push({
      kind: MSG.ERROR,
      flags: 0,
      aux: code,
      id: batchId,
      offset: written.offset,
      length: written.length,
    });
    scope.seal(toParent.published);
  };

  let senders: ResponseSender[];
  let requests;
  const mine: OpenRequest[] = [];
  /** Per request: its FINAL (or RESCHEDULE) went out; it was rescheduled. */
  const states: { closed: boolean; rescheduled: boolean; end: () => void }[] = [];
  let settled = false;
  const reschedulable = isIterativeSequence(context.config);
  try {
    const batch = readBatch(
      context.arena,
      context.arena.byteLength,
      execute.offset,
      execute.length,
    );
    context.cancellations?.open(batchId, batch.requests.length);
    senders = [];
    requests = batch.requests.map((wire, index) => {
      // Outputs allocated for this request live until its FINAL is taken.
      const requestScope = context.stubArena.scope();
      requestScope.borrow(execute.offset, execute.length);
      const isCancelled = () => context.cancellations?.isCancelled(batchId, index) ?? false;
      let closedScope = false;
      const closeScope = () => {
        if (!closedScope) {
          closedScope = true;
          requestScope.seal(toParent.published);
        }
      };
      const owner = wire.id === "" ? `request ${index} of the batch` : `request '${wire.id}'`;
      const transport = (
        requestIndex: number,
        response: InferenceResponse | undefined,
        final: boolean,
        checked: CheckedResponse | undefined,
      ): void => {
        if (halted()) {
          throw new TritonError("the stub is restarting: no more responses can be sent");
        }
        if (final && entry.rescheduled) {
          throw new TritonError(
            `${owner} was rescheduled: its final response belongs to a later turn`,
            ErrorCode.INVALID_ARG,
          );
        }
        // Metric updates made while streaming go out beside the responses.
        context.flushMetrics?.();
        sendResponse(
          context,
          toParent,
          batchId,
          requestIndex,
          requestScope,
          response,
          final,
          checked,
        );
        if (final) entry.end();
      };
      let ended = false;
      const sender = makeResponseSender({
        requestId: wire.id,
        requestIndex: index,
        transport,
        isCancelled,
        checker: (response) =>
          forClient(context, checkResponse(response, context.config, wire.requestedOutputNames)),
        endedByServer: () => ended,
        refusal: () =>
          entry.rescheduled && settled
            ? "the request was rescheduled: it gets no more responses this turn"
            : undefined,
      });
      senders.push(sender);
      const entry = {
        closed: false,
        rescheduled: false,
        end: () => {
          closeScope();
          entry.closed = true;
          open.delete(openEntry);
          maybeForget();
        },
      };
      states.push(entry);
      const openEntry: OpenRequest = {
        batchId,
        index,
        requestId: wire.id,
        fail: (error) => {
          if (!sender.closed) sender.send(new InferenceResponse([], error), { final: true });
        },
        endedByServer: (acknowledge) => {
          ended = true;
          entry.closed = true;
          open.delete(openEntry);
          acknowledge();
          // Its outputs' blocks come back once the parent has read past
          // the acknowledgement.
          closeScope();
          maybeForget();
        },
      };
      open.add(openEntry);
      mine.push(openEntry);
      const reschedule = () => {
        if (settled) {
          throw new TritonError(
            `${owner}: a decoupled model reschedules a request before execute returns`,
            ErrorCode.INVALID_ARG,
          );
        }
        if (entry.closed) {
          throw new TritonError(
            `${owner} already has its final response; it cannot also be rescheduled`,
            ErrorCode.INVALID_ARG,
          );
        }
        entry.rescheduled = true;
      };
      return requestFromWire(context, wire, requestScope, {
        isCancelled,
        decoupled: true,
        createResponseSender: () => sender,
        reschedule: reschedulable ? reschedule : undefined,
      });
    });
  } catch (error) {
    const { code, text } = batchFailure(context, error);
    for (const entry of mine) open.delete(entry);
    context.cancellations?.forget(batchId);
    pushError(code, text);
    return;
  }
  const maybeForget = () => {
    if (states.every((state) => state.closed)) context.cancellations?.forget(batchId);
  };

  let returned: unknown;
  try {
    returned = await context.model.execute(requests);
    // A decoupled model may also return responses: each closes its request.
    if (Array.isArray(returned)) {
      returned.forEach((response, i) => {
        if (i < senders.length && !senders[i].closed && !states[i].rescheduled) {
          senders[i].send(response as InferenceResponse, { final: true });
        }
      });
    }
    settled = true;
    // Rescheduled requests end their turn: Triton gives them back later.
    states.forEach((state, i) => {
      if (!state.rescheduled || state.closed) return;
      toParent.push({
        kind: MSG.RESPONSE,
        flags: RECORD_FLAG.RESCHEDULE,
        aux: i,
        id: batchId,
        offset: 0,
        length: 0,
      });
      state.end();
    });
  } catch (error) {
    settled = true;
    // The batch failed: rescheduled requests are answered with the error too.
    for (const state of states) state.rescheduled = false;
    const { code, text } = batchFailure(context, error);
    const failure = new TritonError(text, code);
    let told = 0;
    for (const sender of senders) {
      if (!sender.closed) {
        sender.send(new InferenceResponse([], failure), { final: true });
        told++;
      }
    }
    // Every request was already closed: no client will see the error, so
    // at least the log does.
    if (told === 0) console.error(`${text} (after every request of the batch was closed)`);
  }
  if (halted()) return;
  context.flushMetrics?.();
  toParent.push({ kind: MSG.EXECUTE_DONE, flags: 0, aux: 0, id: batchId, offset: 0, length: 0 });
}

/** Writes one response (or only the FINAL flag) as a RESPONSE record. */
function sendResponse(
  context: BatchContext,
  toParent: Ring,
  batchId: bigint,
  index: number,
  requestScope: ArenaScope,
  response: InferenceResponse | undefined,
  final: boolean,
  checked: CheckedResponse | undefined,
): void {
  const flags = final ? RECORD_FLAG.FINAL : 0;
  if (response === undefined && checked === undefined) {
    toParent.push({ kind: MSG.RESPONSE, flags, aux: index, id: batchId, offset: 0, length: 0 });
    return;
  }
  const scope = context.stubArena.scope();
  const allocator: ResultAllocator = {
    arena: scope.arena,
    reserve: (bytes) => scope.reserve(bytes),
    canReference: (offset, length) =>
      requestScope.canReference(offset, length) || scope.canReference(offset, length),
  };
  const parameters = response === undefined ? "" : responseParameters(response);
  const result = checked ??
    { ok: false as const, code: ERROR_CODE.INTERNAL, message: "no response" };
  const { offset, length } = writeResult(allocator, [{ ...result, parameters }]);
  context.marks?.mark(TRACE_EVENT.RESPONSE_SENT, batchId);
  toParent.push({ kind: MSG.RESPONSE, flags, aux: index, id: batchId, offset, length });
  scope.seal(toParent.published);
  context.marks?.flush();
}
