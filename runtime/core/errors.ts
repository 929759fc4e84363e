/**
 * Errors of an in-process Triton core, as `TRITONSERVER_Error` carries them.
 *
 * @module
 */

/** `TRITONSERVER_Error_Code` names, by code. */
export const ERROR_CODE_NAMES = [
  "UNKNOWN",
  "INTERNAL",
  "NOT_FOUND",
  "INVALID_ARG",
  "UNAVAILABLE",
  "UNSUPPORTED",
  "ALREADY_EXISTS",
  "CANCELLED",
] as const;

/** A `TRITONSERVER_Error_Code` name. */
export type CoreErrorCode = typeof ERROR_CODE_NAMES[number];

/** An error the core returned, with Triton's code and message. */
export class CoreError extends Error {
  /** Triton's error code. */
  readonly code: CoreErrorCode;

  /**
   * @param code Triton's error code.
   * @param message Triton's message.
   */
  constructor(code: CoreErrorCode, message: string) {
    super(message);
    this.name = "CoreError";
    this.code = code;
  }

  /**
   * Parses the client library's "CODE: message" text.
   *
   * @example
   * ```ts
   * import { CoreError } from "./errors.ts";
   *
   * const error = CoreError.fromText("NOT_FOUND: no model 'x'");
   * console.log(error.code, error.message); // NOT_FOUND no model 'x'
   * ```
   */
  static fromText(text: string): CoreError {
    const match = /^([A-Z_]+): ([\s\S]*)$/.exec(text);
    const code = ERROR_CODE_NAMES.find((name) => name === match?.[1]);
    return code === undefined || match === null
      ? new CoreError("UNKNOWN", text)
      : new CoreError(code, match[2]);
  }
}
