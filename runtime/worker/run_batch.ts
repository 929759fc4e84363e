/**
 * One EXECUTE inside the Worker: decode the batch from the arena, build the
 * requests, await the model's `execute`, check each response against the
 * model configuration, and write the RESULT after the batch's inputs. Any
 * failure of the batch as a whole becomes an ERROR record whose text is in
 * the arena.
 *
 * @example
 * ```ts ignore
 * import { runBatch } from "./run_batch.ts";
 *
 * const reply = await runBatch(context, executeRecord);
 * link.toParent.push(reply);
 * ```
 *
 * @module
 */

import type { ModelConfig } from "../model_config/mod.ts";
import { TritonError } from "../api/error.ts";
import { checkResponse, makeRequest, tensorFromWire } from "../api/internal.ts";
import type { InferenceRequest } from "../api/request.ts";
import { BumpAllocator } from "../wire/arena_allocator.ts";
import { readBatch } from "../wire/batch_reader.ts";
import { writeErrorText } from "../wire/error_text.ts";
import { alignUp, BATCH_HEADER, ERROR_CODE, MSG } from "../wire/layout.ts";
import { type ResultResponse, writeResult } from "../wire/result_writer.ts";
import type { WireRecord } from "../wire/ring.ts";
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
  /** The arena. */
  arena: ArrayBuffer;
  /** The arena size the batch may use (it grows through `grow`). */
  arenaSize: () => number;
  /** Asks the parent for a larger arena; returns the arena size afterwards. */
  grow: (totalBytesNeeded: number) => number;
  /** Sees every error that fails the batch (the Worker reports denied imports). */
  noticeError?: (error: unknown) => void;
}

/**
 * Runs one batch.
 *
 * @param context The model and the arena.
 * @param execute The EXECUTE record.
 * @returns The RESULT or ERROR record to send.
 */
export async function runBatch(context: BatchContext, execute: WireRecord): Promise<WireRecord> {
  const batchId = execute.id;
  // Where an ERROR's text may go: the stub's part of the arena.
  let errorAt = alignUp(execute.offset + Math.max(execute.length, BATCH_HEADER.SIZE));
  const fail = (code: number, text: string): WireRecord => {
    const written = writeErrorText(context.arena, context.arenaSize(), errorAt, text);
    return {
      kind: MSG.ERROR,
      flags: 0,
      aux: code,
      id: batchId,
      offset: written.offset,
      length: written.length,
    };
  };
  const failure = (error: unknown): WireRecord => {
    context.noticeError?.(error);
    const description = describeError(error, isTritonError);
    return fail(
      description.code ?? ERROR_CODE.INTERNAL,
      `Failed to process the request(s) for model '${context.modelName}', message: ${
        formatError(description)
      }`,
    );
  };

  let allocator: BumpAllocator;
  let requests: InferenceRequest[];
  let requestedOutputs: string[][];
  try {
    const batch = readBatch(
      context.arena,
      context.arenaSize(),
      execute.offset,
      execute.length,
    );
    errorAt = batch.arenaUsed;
    allocator = new BumpAllocator({
      arena: context.arena,
      start: batch.arenaUsed,
      arenaSize: context.arenaSize,
      grow: context.grow,
    });
    requestedOutputs = batch.requests.map((request) => request.requestedOutputNames);
    const allocatorForModel = allocator;
    requests = batch.requests.map((request) =>
      makeRequest({
        id: request.id,
        correlationId: request.correlationId,
        flags: request.flags,
        inputs: request.inputs.map((input) =>
          tensorFromWire(
            input.name,
            input.datatype,
            input.shape,
            context.arena,
            input.dataOffset,
            input.dataSize,
          )
        ),
        // The model gets its own copy; the runtime keeps requestedOutputs.
        requestedOutputNames: [...request.requestedOutputNames],
        allocator: allocatorForModel,
      })
    );
  } catch (error) {
    return failure(error);
  }

  let returned: unknown;
  try {
    returned = await context.model.execute(requests);
  } catch (error) {
    return failure(error);
  }

  const responses: unknown[] = [];
  try {
    if (!Array.isArray(returned)) {
      throw new TypeError(
        `execute() must return an array with one response per request; it returned ${
          returned === null ? "null" : typeof returned
        }`,
      );
    }
    const count = returned.length;
    if (count !== requests.length) {
      throw new TypeError(
        `execute() must return one response per request: it returned ${count} for ${requests.length} request(s)`,
      );
    }
    for (let i = 0; i < count; i++) responses.push(returned[i]);
  } catch (error) {
    return failure(error);
  }

  try {
    const checked: ResultResponse[] = responses.map((response, i) =>
      checkResponse(response, context.config, requestedOutputs[i])
    );
    const { offset, length } = writeResult(allocator, checked);
    return { kind: MSG.RESULT, flags: 0, aux: 0, id: batchId, offset, length };
  } catch (error) {
    return failure(error);
  }
}

function isTritonError(value: unknown): value is TritonError {
  return value instanceof TritonError;
}
