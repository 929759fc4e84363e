/**
 * Streams a decoupled model's responses out of the test host: waits for each
 * response of one host request, copies it out and pushes it into the request's
 * {@linkcode ResponseSink}, until the response flagged FINAL. Then it waits
 * for the backend to release the request and frees it.
 *
 * @module
 */

import { dataTypeFromCode } from "../api/datatype.ts";
import { ErrorCode } from "../api/error.ts";
import { type HostLibrary, readText } from "../../ffi/host/bindings.ts";
import { parseJsonMaybeExact } from "./tensor_json.ts";
import type { InferResult, OutputTensor, ParameterValue, ResponseSink } from "./types.ts";

/** `TRITONSERVER_RESPONSE_COMPLETE_FINAL`. */
const RESPONSE_COMPLETE_FINAL = 1;

/** How long one wait lasts before the pumps look at cancellation again. */
const POLL_MS = 250;

/**
 * One waiter for all of a library's open streams. A pump whose request has
 * no news registers here; a single call on Deno's thread pool waits for any
 * request event (`host_request_wait_change`), then one non-blocking look per
 * registered request (`host_request_wait_response` with no wait) wakes only
 * the pumps whose request has news. After {@linkcode POLL_MS} with no event
 * every pump is woken, to look at cancellation.
 *
 * Measured (tests/bench/http_bench.ts, add_sub median with 50 stream_text
 * streams open): a blocking wait per stream held Deno's blocking threads,
 * 0.5 ms became 230 ms; one waiter that woke every pump at each event,
 * 5.5 ms; this one wakes only the pumps concerned.
 */
class ChangeWaiter {
  readonly #library: HostLibrary;
  #waiting = new Set<{ handle: Deno.PointerObject; seen: number; wake: () => void }>();
  #running = false;

  constructor(library: HostLibrary) {
    this.#library = library;
  }

  /** Resolves once `handle` has more than `seen` responses (or ended), or after a while. */
  after(handle: Deno.PointerObject, seen: number): Promise<void> {
    if (this.#hasNews(handle, seen)) return Promise.resolve();
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#waiting.add({ handle, seen, wake: resolve });
    if (!this.#running) this.#run();
    return promise;
  }

  #hasNews(handle: Deno.PointerObject, seen: number): boolean {
    const count = Number(this.#library.symbols.host_request_wait_response(handle, seen, 0));
    return count < 0 || count > seen;
  }

  async #run(): Promise<void> {
    this.#running = true;
    const symbols = this.#library.symbols;
    try {
      let since = BigInt(symbols.host_request_generation());
      while (this.#waiting.size > 0) {
        const now = BigInt(await symbols.host_request_wait_change_nonblocking(since, POLL_MS));
        const timedOut = now === since;
        since = now;
        for (const waiter of this.#waiting) {
          if (timedOut || this.#hasNews(waiter.handle, waiter.seen)) {
            this.#waiting.delete(waiter);
            waiter.wake();
          }
        }
      }
    } finally {
      this.#running = false;
    }
  }
}

const waiters = new WeakMap<HostLibrary, ChangeWaiter>();

function changeWaiter(library: HostLibrary): ChangeWaiter {
  let waiter = waiters.get(library);
  if (waiter === undefined) {
    waiter = new ChangeWaiter(library);
    waiters.set(library, waiter);
  }
  return waiter;
}

/** How long to wait for the release after the final response (a safety net). */
const RELEASE_WAIT_MS = 30_000;

/** One recorded response, as `host_request_response_json` writes it. */
export interface HostResponse {
  /** `ResponseFactorySendFlags`: flags, no response. */
  flags_only: boolean;
  /** `TRITONSERVER_ResponseCompleteFlag` bits. */
  flags: number;
  /** The error sent with it. */
  error: { code: number; message: string } | null;
  /** Its parameters (64-bit integers may be `bigint`). */
  parameters: Record<string, ParameterValue>;
  /** Its outputs. */
  outputs: {
    name: string;
    datatype_code: number;
    shape: number[];
    byte_size: number;
    has_buffer: boolean;
  }[];
}

/** What the pump needs to know about the request. */
export interface PumpContext {
  /** The model's name, for messages. */
  readonly model: string;
  /** The request's id, for messages. */
  readonly requestId: string;
  /** Outputs the client asked for (empty: all). */
  readonly requestedOutputs: readonly string[];
  /** A reason to stop waiting (the execute itself failed), if any. */
  readonly aborted: () => string | undefined;
}

/**
 * Pumps the responses of `handle` into `sink`, then frees the request. Never
 * throws: a failure becomes an error response. The sink is always ended.
 *
 * @example
 * ```ts ignore
 * pumpResponses(library, handle, channel, {
 *   model: "stream_text", requestId: "1", requestedOutputs: [], aborted: () => undefined,
 * });
 * ```
 */
export async function pumpResponses(
  library: HostLibrary,
  handle: Deno.PointerObject,
  sink: ResponseSink,
  context: PumpContext,
): Promise<void> {
  const symbols = library.symbols;
  let freed = false;
  sink.onCancel(() => {
    if (!freed) symbols.host_request_cancel(handle);
  });
  const scratch = { buffer: new Uint8Array(4096) };
  let seen = 0;
  let final = false;
  try {
    while (!final) {
      const aborted = context.aborted();
      if (aborted !== undefined) {
        sink.push(failure(ErrorCode.INTERNAL, aborted));
        break;
      }
      const count = Number(symbols.host_request_wait_response(handle, seen, 0));
      if (count >= 0 && count <= seen) {
        await changeWaiter(library).after(handle, seen);
        continue;
      }
      if (count === -3) {
        // Streams come from /generate_stream, which carries no sequence (as
        // in Triton): an iterative model's stream is not rescheduled here.
        sink.push(failure(
          ErrorCode.UNSUPPORTED,
          `model '${context.model}' rescheduled streamed request '${context.requestId}'; this ` +
            "server reschedules only requests sent to /infer",
        ));
        break;
      }
      if (count === -2) {
        sink.push(failure(
          ErrorCode.INTERNAL,
          `model '${context.model}' released request '${context.requestId}' without sending ` +
            "a final response",
        ));
        break;
      }
      if (count < 0) {
        sink.push(failure(ErrorCode.INTERNAL, "the host refused the request handle"));
        break;
      }
      for (; seen < count && !final; seen++) {
        const text = readText(
          (out, cap) => symbols.host_request_response_json(handle, seen, out, cap),
          scratch,
        );
        const record = parseJsonMaybeExact(text) as HostResponse;
        if (!record.flags_only) sink.push(copyResponse(library, handle, seen, record, context));
        final = (record.flags & RESPONSE_COMPLETE_FINAL) !== 0;
      }
    }
    if (final) await symbols.host_request_wait_nonblocking(handle, RELEASE_WAIT_MS);
  } catch (error) {
    sink.push(failure(ErrorCode.INTERNAL, error instanceof Error ? error.message : String(error)));
  } finally {
    freed = true;
    symbols.host_request_free(handle);
    sink.end();
  }
}

/** A recorded response as an {@linkcode InferResult} that owns copies of its outputs. */
export function copyResponse(
  library: HostLibrary,
  handle: Deno.PointerObject,
  index: number,
  record: HostResponse,
  context: Pick<PumpContext, "model" | "requestedOutputs">,
): InferResult {
  if (record.error !== null) {
    return failure(record.error.code, record.error.message);
  }
  const wanted = new Set(context.requestedOutputs);
  const outputs: OutputTensor[] = [];
  for (let outputIndex = 0; outputIndex < record.outputs.length; outputIndex++) {
    const output = record.outputs[outputIndex];
    if (wanted.size > 0 && !wanted.has(output.name)) continue;
    const datatype = dataTypeFromCode(output.datatype_code);
    if (datatype === undefined) continue;
    const bytes = new Uint8Array(output.has_buffer ? output.byte_size : 0);
    if (bytes.byteLength > 0) {
      const copied = library.symbols.host_request_output_data(
        handle,
        index,
        outputIndex,
        bytes,
        BigInt(bytes.byteLength),
      );
      if (Number(copied) !== bytes.byteLength) {
        return failure(
          ErrorCode.INTERNAL,
          `output '${output.name}' of model '${context.model}': the host returned ${copied} bytes`,
        );
      }
    }
    outputs.push({
      name: output.name,
      datatype,
      shape: output.shape.map(Number),
      byteSize: bytes.byteLength,
      read: (destination) => destination.set(bytes),
    });
  }
  return { ok: true, outputs, parameters: record.parameters };
}

function failure(code: number, message: string): InferResult {
  return { ok: false, code, message };
}
