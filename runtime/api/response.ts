/**
 * The response a model returns for one request: output tensors, or an error.
 *
 * @module
 */

import { describeValue } from "./describe.ts";
import { ErrorCode, TritonError } from "./error.ts";
import { snapshotTensor, type Tensor } from "./tensor.ts";

/**
 * What the runtime reads from a response, taken from private fields.
 *
 * @internal Used by the Worker runtime through internal.ts.
 */
export interface ResponseSnapshot {
  /** The outputs, as a frozen copy of the array given at construction. */
  readonly outputs: readonly Tensor[];
  /** The error given at construction, if any. */
  readonly error: TritonError | undefined;
}

let snapshot: (value: unknown) => ResponseSnapshot | undefined;

/**
 * The answer to one request. `execute` returns one per request, in the order
 * of the requests. A response with an error fails only its own request; its
 * outputs are ignored.
 *
 * @example Answer a batch, failing a bad request without failing the others
 * ```ts
 * import { ErrorCode, InferenceResponse, Tensor, TritonError } from "@triton/deno";
 *
 * const ok = new InferenceResponse([new Tensor("OUTPUT0", "FP32", [1], [1.5])]);
 * const failed = new InferenceResponse(
 *   [],
 *   new TritonError("INPUT0 must not be empty", ErrorCode.INVALID_ARG),
 * );
 * console.log(ok.outputs.length, failed.error?.message); // 1 "INPUT0 must not be empty"
 * ```
 */
export class InferenceResponse {
  readonly #outputs: readonly Tensor[];
  readonly #error: TritonError | undefined;

  /**
   * @param outputs The output tensors (the array is copied).
   * @param error If given, the request fails with this error, with its `code`
   * if it is a {@linkcode TritonError} and `INTERNAL` if it is another `Error`.
   * @throws {TritonError} `INVALID_ARG` if `outputs` is not an array of
   * {@linkcode Tensor}s or `error` is not an `Error`.
   */
  constructor(outputs: readonly Tensor[], error?: Error) {
    if (!Array.isArray(outputs)) {
      throw new TritonError(
        `InferenceResponse needs an array of output tensors, got ${describeValue(outputs)}`,
        ErrorCode.INVALID_ARG,
      );
    }
    const copy: Tensor[] = Array.from(outputs);
    for (let i = 0; i < copy.length; i++) {
      if (snapshotTensor(copy[i]) === undefined) {
        throw new TritonError(
          `InferenceResponse output ${i} is not a Tensor: got ${describeValue(copy[i])}`,
          ErrorCode.INVALID_ARG,
        );
      }
    }
    if (error !== undefined && !(error instanceof Error)) {
      throw new TritonError(
        `InferenceResponse error must be an Error (ideally a TritonError), got ${
          describeValue(error)
        }`,
        ErrorCode.INVALID_ARG,
      );
    }
    this.#outputs = Object.freeze(copy);
    // Any other Error becomes an INTERNAL TritonError carrying its message.
    this.#error = error === undefined || error instanceof TritonError
      ? error
      : new TritonError(error.message, ErrorCode.INTERNAL);
  }

  /** The output tensors (frozen). */
  get outputs(): readonly Tensor[] {
    return this.#outputs;
  }

  /** The error that fails this request, if any (another `Error` given was wrapped as `INTERNAL`). */
  get error(): TritonError | undefined {
    return this.#error;
  }

  static {
    snapshot = (value) => {
      if (typeof value !== "object" || value === null || !(#outputs in value)) return undefined;
      return { outputs: value.#outputs, error: value.#error };
    };
  }
}

/**
 * Reads a response's outputs and error from its private fields, or returns
 * `undefined` if `value` was not made by the {@linkcode InferenceResponse}
 * constructor. Never runs model code.
 *
 * @internal Used by the Worker runtime through internal.ts.
 *
 * @example
 * ```ts
 * import { InferenceResponse, snapshotResponse } from "./response.ts";
 *
 * console.log(snapshotResponse(new InferenceResponse([]))?.outputs.length); // 0
 * console.log(snapshotResponse({ outputs: [] })); // undefined
 * ```
 */
export function snapshotResponse(value: unknown): ResponseSnapshot | undefined {
  return snapshot(value);
}
