/**
 * The response a model returns for one request: output tensors, or an error.
 *
 * @module
 */

import { describeValue } from "./describe.ts";
import { ErrorCode, TritonError } from "./error.ts";
import { checkParameters, type InferenceParameters, type ParameterValue } from "./parameters.ts";
import { snapshotTensor, type Tensor } from "./tensor.ts";

/**
 * The optional parts of a response, given as the second argument of
 * {@linkcode InferenceResponse}.
 *
 * @example
 * ```ts
 * import { InferenceResponse, type InferenceResponseOptions } from "@triton/deno";
 *
 * const options: InferenceResponseOptions = { parameters: { tokens: 12, finish: "stop" } };
 * console.log(new InferenceResponse([], options).parameters.tokens); // 12
 * ```
 */
export interface InferenceResponseOptions {
  /** If given, the request fails with this error (see the constructor). */
  readonly error?: Error;
  /**
   * Response parameters sent back to the client: a string is sent as
   * `STRING`, a boolean as `BOOL`, a `bigint` or a whole-number `number` as
   * `INT`, any other number as `DOUBLE`.
   */
  readonly parameters?: Readonly<Record<string, ParameterValue>>;
}

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
  /** The checked, frozen parameters. */
  readonly parameters: InferenceParameters;
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
 *
 * @example Send response parameters
 * ```ts
 * import { InferenceResponse, Tensor } from "@triton/deno";
 *
 * const response = new InferenceResponse([new Tensor("Y", "FP32", [1], [1])], {
 *   parameters: { model_version: "2", tokens: 17, score: 0.93, cached: false },
 * });
 * console.log(response.parameters.tokens); // 17
 * ```
 */
export class InferenceResponse {
  readonly #outputs: readonly Tensor[];
  readonly #error: TritonError | undefined;
  readonly #parameters: InferenceParameters;

  /**
   * @param outputs The output tensors (the array is copied).
   * @param errorOrOptions An error, or {@linkcode InferenceResponseOptions}
   * holding an error and/or parameters. With an error the request fails,
   * with its `code` if it is a {@linkcode TritonError} and `INTERNAL` if it is
   * another `Error`.
   * @throws {TritonError} `INVALID_ARG` if `outputs` is not an array of
   * {@linkcode Tensor}s, `error` is not an `Error`, the options have an
   * unknown key, or a parameter is invalid (an empty key, more than 256, a
   * string over 64 KiB, an integer outside int64, a value of another type).
   */
  constructor(outputs: readonly Tensor[], errorOrOptions?: Error | InferenceResponseOptions) {
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
    const { error, parameters } = readOptions(errorOrOptions);
    if (error !== undefined && !(error instanceof Error)) {
      throw new TritonError(
        `InferenceResponse error must be an Error (ideally a TritonError), got ${
          describeValue(error)
        }`,
        ErrorCode.INVALID_ARG,
      );
    }
    this.#outputs = Object.freeze(copy);
    this.#parameters = checkParameters(parameters, "response parameter");
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

  /** The response parameters (frozen; empty when none were given). */
  get parameters(): InferenceParameters {
    return this.#parameters;
  }

  static {
    snapshot = (value) => {
      if (typeof value !== "object" || value === null || !(#outputs in value)) return undefined;
      return { outputs: value.#outputs, error: value.#error, parameters: value.#parameters };
    };
  }
}

const OPTION_KEYS: ReadonlySet<string> = new Set(["error", "parameters"]);

/** Splits the constructor's second argument into an error and parameters, unchecked. */
function readOptions(value: unknown): { error: unknown; parameters: unknown } {
  if (value === undefined || value instanceof Error) return { error: value, parameters: undefined };
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    // Most likely a mistaken error value: say what the common case expects.
    return { error: value, parameters: undefined };
  }
  for (const key of Object.keys(value)) {
    if (!OPTION_KEYS.has(key)) {
      throw new TritonError(
        `InferenceResponse options may have 'error' and 'parameters', got '${key}'`,
        ErrorCode.INVALID_ARG,
      );
    }
  }
  const options = value as InferenceResponseOptions;
  return { error: options.error, parameters: options.parameters };
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
