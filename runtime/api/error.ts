/**
 * Errors a model reports to Triton, with Triton's error codes.
 *
 * @module
 */

/**
 * Triton's error codes (`TRITONSERVER_Error_Code`), as python_backend's
 * `TritonError` exposes them. The code decides how a client sees the failure
 * (for example, HTTP 400 for `INVALID_ARG`, 500 for `INTERNAL`).
 *
 * @example
 * ```ts
 * import { ErrorCode, TritonError } from "@triton/deno";
 *
 * const error = new TritonError("INPUT0 must not be empty", ErrorCode.INVALID_ARG);
 * console.log(error.code === ErrorCode.INVALID_ARG); // true
 * ```
 */
export enum ErrorCode {
  /** The cause is not known. */
  UNKNOWN = 0,
  /** A fault inside the model or the runtime. The default. */
  INTERNAL = 1,
  /** Something that was asked for does not exist. */
  NOT_FOUND = 2,
  /** The request is malformed: a missing input, a wrong value, a bad shape. */
  INVALID_ARG = 3,
  /** The model cannot serve right now; the client may retry. */
  UNAVAILABLE = 4,
  /** The request asks for something the model does not support. */
  UNSUPPORTED = 5,
  /** Something that was to be created exists already. */
  ALREADY_EXISTS = 6,
  /** The request was cancelled. */
  CANCELLED = 7,
}

/**
 * An error with a Triton error code. Put one in an `InferenceResponse`
 * to fail a single request, or throw one from `execute` to fail the whole batch
 * with its code; any other thrown value fails the batch as `INTERNAL`.
 *
 * @example Fail one request of a batch
 * ```ts
 * import { ErrorCode, InferenceResponse, TritonError } from "@triton/deno";
 *
 * const response = new InferenceResponse(
 *   [],
 *   new TritonError("INPUT0 and INPUT1 must have the same shape", ErrorCode.INVALID_ARG),
 * );
 * console.log(response.error?.code); // 3
 * ```
 */
export class TritonError extends Error {
  /** The Triton error code the client will see. */
  readonly code: ErrorCode;

  /**
   * @param message What went wrong, written for the client that sent the request.
   * @param code The Triton error code; `ErrorCode.INTERNAL` when omitted.
   */
  constructor(message: string, code: ErrorCode = ErrorCode.INTERNAL) {
    super(message);
    this.name = "TritonError";
    this.code = code;
  }
}
