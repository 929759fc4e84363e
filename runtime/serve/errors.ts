/**
 * Errors the HTTP server answers with, in Triton's shape: a JSON body
 * `{"error": "..."}` and the HTTP status Triton's HTTP frontend derives from
 * the `TRITONSERVER_Error_Code` (`HttpCodeFromError` in Triton's
 * http_server.cc).
 *
 * @module
 */

import { ErrorCode } from "../api/error.ts";

export { ErrorCode };

/**
 * A failure to be sent to the client: a Triton error code and a message.
 * The HTTP status follows from the code unless `status` is given (for the
 * few answers that are HTTP-level, such as 405 or 413).
 *
 * @example
 * ```ts
 * import { ErrorCode, ServeError } from "./errors.ts";
 *
 * const error = new ServeError(ErrorCode.NOT_FOUND, "Request for unknown model: 'x' is not found");
 * console.log(error.status); // 404
 * ```
 */
export class ServeError extends Error {
  /** The Triton error code. */
  readonly code: ErrorCode;
  /** The HTTP status the client receives. */
  readonly status: number;

  /**
   * @param code The Triton error code.
   * @param message Written for the client; becomes the body's `error`.
   * @param status Overrides the status derived from `code`.
   */
  constructor(code: ErrorCode, message: string, status?: number) {
    super(message);
    this.name = "ServeError";
    this.code = code;
    this.status = status ?? httpStatusFromErrorCode(code);
  }
}

/**
 * The HTTP status for a Triton error code, as Triton's HTTP frontend maps it:
 * INTERNAL 500, NOT_FOUND 404, UNAVAILABLE 503, UNSUPPORTED 501, and 400 for
 * UNKNOWN, INVALID_ARG, ALREADY_EXISTS and CANCELLED.
 *
 * @example
 * ```ts
 * import { ErrorCode, httpStatusFromErrorCode } from "./errors.ts";
 *
 * console.log(httpStatusFromErrorCode(ErrorCode.UNAVAILABLE)); // 503
 * ```
 */
export function httpStatusFromErrorCode(code: number): number {
  switch (code) {
    case ErrorCode.INTERNAL:
      return 500;
    case ErrorCode.NOT_FOUND:
      return 404;
    case ErrorCode.UNAVAILABLE:
      return 503;
    case ErrorCode.UNSUPPORTED:
      return 501;
    default:
      return 400;
  }
}

/** Shorthand for an `INVALID_ARG` error (HTTP 400). */
export function invalidArg(message: string): ServeError {
  return new ServeError(ErrorCode.INVALID_ARG, message);
}

/**
 * The JSON error response Triton sends: `{"error": message}` with the
 * error's status. Any other thrown value becomes a 500 with its message.
 *
 * @example
 * ```ts
 * import { errorResponse, invalidArg } from "./errors.ts";
 *
 * const response = errorResponse(invalidArg("Unable to parse 'inputs'"));
 * console.log(response.status); // 400
 * ```
 */
export function errorResponse(error: unknown): Response {
  const serveError = error instanceof ServeError
    ? error
    : new ServeError(ErrorCode.INTERNAL, error instanceof Error ? error.message : String(error));
  return new Response(JSON.stringify({ error: serveError.message }), {
    status: serveError.status,
    headers: { "content-type": "application/json" },
  });
}
