/**
 * One EXECUTE inside the Worker: decode the batch from the arena, build the
 * requests, await the model's `execute`, check each response against the
 * model configuration, and write the RESULT in the stub's half of the arena.
 * Any failure of the batch as a whole becomes an ERROR record whose text is
 * in the arena. Everything the batch wrote belongs to one arena scope, which
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
import { TritonError } from "../api/error.ts";
import {
  type CheckedResponse,
  checkParameters,
  checkResponse,
  makeRequest,
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
import { BatchSlots, type SlotOutcome } from "./batch_slots.ts";
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
