/**
 * One EXECUTE inside the Worker: decode the batch from the arena
 * (runtime/wire/batch_codec.ts), build the requests, await the model's
 * `execute`, settle each request's outcome (the response `execute` returned,
 * the one sent through its response sender, or a reschedule:
 * {@linkcode BatchSlots}), check each response against the model
 * configuration (runtime/api/check_response.ts), and write the RESULT in the
 * stub's half of the arena. Any failure of the batch as a whole becomes an
 * ERROR record whose text is in the arena. Everything the batch wrote belongs to one arena scope, which
 * the caller seals with the answer's sequence number once it has pushed it.
 *
 * @example
 * ```ts ignore
 * import { runBatch } from "./run_batch.ts";
 *
 * const { record, scope } = await runBatch(context, executeRecord);
 * link.toParent.push(record);
 * scope.seal(link.toParent.published);
 * ```
 *
 * @module
 */

import type { TraceMarks } from "./trace_marks.ts";
import type { ModelConfig } from "../model_config/config.ts";
import { ErrorCode, TritonError } from "../api/error.ts";
import {
  type CheckedResponse,
  checkParameters,
  checkResponse,
  makeRequest,
  makeResponseSender,
  parametersFromWire,
  parametersToWire,
  tensorFromWire,
} from "../api/internal.ts";
import type { InferenceParameters } from "../api/parameters.ts";
import { InferenceResponse } from "../api/response.ts";
import type { InferenceRequest } from "../api/request.ts";
import type { ResponseSender } from "../api/response_sender.ts";
import {
  readBatch,
  type ResultResponse,
  type WireRequest,
  writeResult,
} from "../wire/batch_codec.ts";
import { writeErrorTextIn } from "../wire/error_text.ts";
import { ERROR_CODE, MSG } from "../wire/layout.ts";
import type { ArenaScope, StubArena } from "../wire/stub_arena.ts";
import type { Cancellations } from "./cancellations.ts";
import type { WireRecord } from "../wire/ring.ts";
import { clientText } from "./client_text.ts";
import { describeError, formatError } from "./describe_error.ts";
import type { LoadedModel } from "./load_model.ts";

/** What a batch needs from the Worker. */
export interface BatchContext {
  /** The model object. */
  model: LoadedModel;
  /** The model's name, for messages. */
  modelName: string;
  /** The runtime's own copy of the configuration (not the model's). */
  config: ModelConfig;
  /** The arena (both halves). */
  arena: ArrayBuffer;
  /** The stub's half, where everything the stub writes goes. */
  stubArena: StubArena;
  /** Cancellations forwarded by the parent (optional in tests). */
  cancellations?: Cancellations;
  /** Sends the model's queued metric updates (decoupled models, as they stream). */
  flushMetrics?: () => void;
  /** Sees every error that fails the batch (the Worker reports denied imports). */
  noticeError?: (error: unknown) => void;
  /**
   * The model's directory: error texts that leave the stub are cut to what
   * a client may see (runtime/worker/client_text.ts). Absent in tests that
   * want the whole text.
   */
  modelDirectory?: string;
  /** Where the whole text of a failed batch goes (Triton's log) before it is cut. */
  logFailure?: (text: string) => void;
  /**
   * True once the Worker answered for all work in flight and the stub is
   * ending: nothing more may be sent for it.
   */
  halted?: () => boolean;
  /** The hop tracing's marks (runtime/worker/trace_marks.ts), when the parent traces. */
  marks?: TraceMarks;
}

/** A batch's answer and the scope its payloads live in. */
export interface BatchAnswer {
  /** The RESULT or ERROR record to send. */
  record: WireRecord;
  /** Seal it with the record's sequence number once pushed. */
  scope: ArenaScope;
}

/**
 * Runs one batch.
 *
 * @param context The model and the arena.
 * @param execute The EXECUTE record.
 * @returns The RESULT or ERROR record to send, and its scope.
 */
export async function runBatch(context: BatchContext, execute: WireRecord): Promise<BatchAnswer> {
  try {
    return await answerBatch(context, execute, context.stubArena.scope());
  } finally {
    context.cancellations?.forget(execute.id);
  }
}

async function answerBatch(
  context: BatchContext,
  execute: WireRecord,
  scope: ArenaScope,
): Promise<BatchAnswer> {
  const batchId = execute.id;
  const fail = (code: number, text: string): BatchAnswer => {
    // A failed batch's outputs are dropped: only the text is kept.
    scope.release();
    const textScope = context.stubArena.scope();
    const written = writeErrorTextIn(textScope, text);
    return {
      scope: textScope,
      record: {
        kind: MSG.ERROR,
        flags: 0,
        aux: code,
        id: batchId,
        offset: written.offset,
        length: written.length,
      },
    };
  };
  const failure = (error: unknown): BatchAnswer => {
    const { code, text } = batchFailure(context, error);
    return fail(code, text);
  };

  let requests: InferenceRequest[];
  let requestedOutputs: string[][];
  let slots: BatchSlots;
  try {
    const batch = readBatch(
      context.arena,
      context.arena.byteLength,
      execute.offset,
      execute.length,
    );
    // Inputs passed through as outputs are referenced, not copied.
    scope.borrow(execute.offset, execute.length);
    requestedOutputs = batch.requests.map((request) => request.requestedOutputNames);
    context.cancellations?.open(execute.id, batch.requests.length);
    const isCancelled = (index: number) =>
      context.cancellations?.isCancelled(execute.id, index) ?? false;
    slots = new BatchSlots(batch.requests.map((request) => request.id), {
      reschedulable: isIterativeSequence(context.config),
      checker: (index, response) =>
        checkResponse(response, context.config, requestedOutputs[index]),
      isCancelled,
    });
    requests = batch.requests.map((request, index) =>
      requestFromWire(context, request, scope, {
        isCancelled: () => isCancelled(index),
        createResponseSender: () => slots.sender(index),
        reschedule: slots.rescheduler(index),
      })
    );
  } catch (error) {
    return failure(error);
  }

  let outcomes: SlotOutcome[];
  try {
    outcomes = await slots.settle(await context.model.execute(requests));
  } catch (error) {
    slots.abandon();
    return failure(error);
  }

  try {
    const checked: ResultResponse[] = outcomes.map((outcome, i): ResultResponse => {
      switch (outcome.kind) {
        case "reschedule":
          return { ok: true, outputs: [], reschedule: true };
        case "error":
          return { ok: false, code: outcome.error.code, message: outcome.error.message };
        case "sent":
          return { ...outcome.checked, parameters: responseParameters(outcome.response) };
        case "returned":
          return {
            ...forClient(
              context,
              checkResponse(outcome.response, context.config, requestedOutputs[i]),
            ),
            parameters: responseParameters(outcome.response),
          };
      }
    });
    const { offset, length } = writeResult(scope, checked);
    return { scope, record: { kind: MSG.RESULT, flags: 0, aux: 0, id: batchId, offset, length } };
  } catch (error) {
    return failure(error);
  }
}

/**
 * What an error that fails a whole batch becomes: Triton's error code (a
 * TritonError's own, else INTERNAL) and python_backend's wording, with the
 * model's message and stack. The Worker sees the error first (denied
 * imports are logged).
 *
 * @param context The model's name, and who notices errors.
 * @param error What the model threw.
 * @returns The code and text for the ERROR record or the responses.
 */
export function batchFailure(
  context: BatchContext,
  error: unknown,
): { code: number; text: string } {
  context.noticeError?.(error);
  const description = describeError(error, isTritonError);
  const text = `Failed to process the request(s) for model '${context.modelName}', message: ${
    formatError(description)
  }`;
  if (context.modelDirectory === undefined) {
    return { code: description.code ?? ERROR_CODE.INTERNAL, text };
  }
  context.logFailure?.(text);
  return {
    code: description.code ?? ERROR_CODE.INTERNAL,
    text: clientText(text, context.modelDirectory),
  };
}

/**
 * A checked response as it may leave the stub: an error's message cut to
 * what a client may see (the model chose it, and may have put paths in it).
 */
export function forClient(context: BatchContext, checked: CheckedResponse): CheckedResponse {
  if (checked.ok || context.modelDirectory === undefined) return checked;
  return { ...checked, message: clientText(checked.message, context.modelDirectory) };
}

/**
 * Builds the request a model sees from its wire form: inputs as views of
 * the arena, its parameters, outputs allocated in `allocator`.
 *
 * @param context The arena.
 * @param wire The request as the batch reader decoded it.
 * @param allocator Where `allocateOutput` allocates.
 * @param extra Cancellation, and for decoupled models the sender.
 * @returns The request.
 */
export function requestFromWire(
  context: BatchContext,
  wire: WireRequest,
  allocator: ArenaScope,
  extra: {
    isCancelled: () => boolean;
    decoupled?: boolean;
    createResponseSender?: () => ResponseSender;
    reschedule?: () => void;
  },
): InferenceRequest {
  return makeRequest({
    id: wire.id,
    correlationId: wire.correlationId,
    flags: wire.flags,
    timeoutMicros: wire.timeoutMicros,
    inputs: wire.inputs.map((input) =>
      tensorFromWire(
        input.name,
        input.datatype,
        input.shape,
        context.arena,
        input.dataOffset,
        input.dataSize,
      )
    ),
    // The model gets its own copy; the runtime keeps the original.
    requestedOutputNames: [...wire.requestedOutputNames],
    allocator,
    parameters: requestParameters(wire.parametersJson),
    ...extra,
  });
}

/**
 * A request's parameters for the model: the wire text parsed once. Most
 * requests have none: that costs nothing.
 *
 * @param json The wire form (runtime/api/parameters.ts), or "".
 * @throws {TritonError} `INVALID_ARG` naming a bad parameter.
 */
export function requestParameters(json: string): InferenceParameters {
  return parametersFromWire(json, "request parameter");
}

/** A response's parameters in the wire form ("" for none or not a response). */
export function responseParameters(response: unknown): string {
  if (!(response instanceof InferenceResponse)) return "";
  const parameters = response.parameters;
  // The common case, on the busy path: no parameters, no JSON.
  for (const _ in parameters) {
    return parametersToWire(checkParameters(parameters, "response parameter"));
  }
  return "";
}

/**
 * Whether the model may reschedule requests: `sequence_batching {
 * iterative_sequence: true }` (Triton refuses a RESCHEDULE otherwise).
 */
export function isIterativeSequence(config: ModelConfig): boolean {
  return config.schedulingChoice.case === "sequenceBatching" &&
    config.schedulingChoice.value.iterativeSequence;
}

function isTritonError(value: unknown): value is TritonError {
  return value instanceof TritonError;
}

// ---- Each request's outcome ------------------------------------------------

/** One request's end: a response to check, one already checked and sent, an error or a reschedule. */
export type SlotOutcome =
  | { kind: "returned"; response: unknown }
  | { kind: "sent"; checked: CheckedResponse; response: InferenceResponse }
  | { kind: "error"; error: TritonError }
  | { kind: "reschedule" };

interface Slot {
  readonly id: string;
  sender: ResponseSender | undefined;
  sent: { checked: CheckedResponse; response: InferenceResponse } | undefined;
  final: boolean;
  rescheduled: boolean;
  readonly done: PromiseWithResolvers<void>;
}

/**
 * What each request of a batch ends with, for a model that is not
 * decoupled: the response `execute` returned in its place, the one response
 * it sent through its response sender (from `execute` or later), or a
 * reschedule (`request.reschedule()`, no response this turn). The batch's
 * RESULT is written once every request has one of them.
 */
export class BatchSlots {
  readonly #slots: Slot[];
  readonly #checker: (index: number, response: InferenceResponse) => CheckedResponse;
  readonly #reschedulable: boolean;
  readonly #isCancelled: (index: number) => boolean;
  /** Why nothing more may be sent: the batch is over. */
  #over: string | undefined;

  /**
   * @param requestIds The batch's request ids, in order ("" for none).
   * @param options Whether requests may be rescheduled (iterative sequence
   * batching), the response check and the cancellation flag of request `index`.
   */
  constructor(
    requestIds: readonly string[],
    options: {
      reschedulable: boolean;
      checker: (index: number, response: InferenceResponse) => CheckedResponse;
      isCancelled: (index: number) => boolean;
    },
  ) {
    this.#slots = requestIds.map((id) => ({
      id,
      sender: undefined,
      sent: undefined,
      final: false,
      rescheduled: false,
      done: Promise.withResolvers<void>(),
    }));
    this.#checker = options.checker;
    this.#reschedulable = options.reschedulable;
    this.#isCancelled = options.isCancelled;
  }

  /** The response sender of request `index` (one response, then the final flag). */
  sender(index: number): ResponseSender {
    const slot = this.#slots[index];
    slot.sender ??= makeResponseSender({
      requestId: slot.id,
      requestIndex: index,
      single: true,
      isCancelled: () => this.#isCancelled(index),
      checker: (response) => this.#checker(index, response),
      refusal: () => {
        if (slot.rescheduled) return "the request was rescheduled: it gets no response this turn";
        return this.#over;
      },
      transport: (_index, response, final, checked) => {
        if (response !== undefined && checked !== undefined) slot.sent = { checked, response };
        if (final) {
          slot.final = true;
          slot.done.resolve();
        }
      },
    });
    return slot.sender;
  }

  /** Request `index`'s `reschedule()`, or undefined when the model cannot reschedule. */
  rescheduler(index: number): (() => void) | undefined {
    if (!this.#reschedulable) return undefined;
    const slot = this.#slots[index];
    return () => {
      const owner = slot.id === "" ? `request ${index} of the batch` : `request '${slot.id}'`;
      if (this.#over !== undefined) {
        throw new TritonError(
          `${owner} cannot be rescheduled: ${this.#over}`,
          ErrorCode.INVALID_ARG,
        );
      }
      if (slot.sent !== undefined || slot.final) {
        throw new TritonError(
          `${owner} already has its response; it cannot also be rescheduled`,
          ErrorCode.INVALID_ARG,
        );
      }
      slot.rescheduled = true;
    };
  }

  /**
   * Ends the batch: from `execute`'s return value and what the requests'
   * senders carry, each request's outcome; waits for the responses of
   * requests whose sender was taken and that `execute` left without one.
   *
   * @param returned What `execute` returned (or resolved with).
   * @throws {TypeError} If it is neither an array with one entry per request
   * nor `undefined`/`null`: the whole batch fails.
   */
  async settle(returned: unknown): Promise<SlotOutcome[]> {
    try {
      const count = this.#slots.length;
      let entries: readonly unknown[];
      if (returned === undefined || returned === null) {
        entries = new Array(count).fill(undefined);
      } else if (!Array.isArray(returned)) {
        throw new TypeError(
          "execute() must return an array with one response per request (undefined in the " +
            "place of a request answered through its response sender or rescheduled); it " +
            `returned ${typeof returned}`,
        );
      } else if (returned.length !== count) {
        throw new TypeError(
          `execute() must return one response per request: it returned ${returned.length} for ${count} request(s)`,
        );
      } else {
        entries = returned;
      }
      return await Promise.all(entries.map((entry, i) => this.#outcome(i, entry)));
    } finally {
      this.#over = "its batch is over";
    }
  }

  /** Ends the batch without outcomes (`execute` threw): later sends are refused. */
  abandon(): void {
    this.#over = "its batch failed (execute threw)";
  }

  async #outcome(index: number, entry: unknown): Promise<SlotOutcome> {
    const slot = this.#slots[index];
    const owner = slot.id === "" ? `request ${index} of the batch` : `request '${slot.id}'`;
    const error = (message: string): SlotOutcome => ({
      kind: "error",
      error: new TritonError(`${owner}: ${message}`, ErrorCode.INVALID_ARG),
    });
    if (entry !== undefined && entry !== null) {
      if (slot.rescheduled) {
        return error("it was rescheduled, and execute also returned a response for it");
      }
      if (slot.sent !== undefined) {
        return error(
          "it got a response through its response sender, and execute also returned one",
        );
      }
      return { kind: "returned", response: entry };
    }
    if (slot.rescheduled) return { kind: "reschedule" };
    if (slot.sender === undefined) {
      return error(
        "execute returned no response for it and sent none through its response sender",
      );
    }
    await slot.done.promise;
    return { kind: "sent", checked: slot.sent!.checked, response: slot.sent!.response };
  }
}
