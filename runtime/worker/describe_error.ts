/**
 * Turns whatever a model threw into text for Triton's error messages: the
 * message and, separately, the stack frames (so `file:line:column` reaches
 * the user). Model values are hostile (getters that throw, Proxies), so
 * nothing here lets an exception escape.
 *
 * @example
 * ```ts
 * import { describeError } from "./describe_error.ts";
 *
 * const { message, frames } = describeError(new Error("bad"));
 * console.log(message, frames.startsWith("    at ")); // "bad" true
 * ```
 *
 * @module
 */

/** A thrown value, described. */
export interface ErrorDescription {
  /** The message (for an Error: `message`, for other values: their string form). */
  message: string;
  /** The stack's frame lines ("    at ..."), "" when there are none. */
  frames: string;
  /** The Triton error code when the value is a TritonError-like error with a valid code. */
  code: number | undefined;
}

/**
 * Describes `error`.
 *
 * @param error Anything that was thrown.
 * @param isTritonError Recognizes errors that carry a Triton error code.
 * @returns The description; never throws.
 */
export function describeError(
  error: unknown,
  isTritonError: (value: unknown) => value is { code: number } = neverTritonError,
): ErrorDescription {
  let message = "";
  let stack = "";
  let code: number | undefined;
  try {
    if (error instanceof Error) {
      message = String(error.message);
      stack = typeof error.stack === "string" ? error.stack : "";
    } else {
      message = String(error);
    }
  } catch {
    message ||= "a value that cannot be converted to a string was thrown";
  }
  try {
    if (isTritonError(error)) {
      const value = error.code;
      if (Number.isInteger(value) && value >= 0 && value <= 7) code = value;
    }
  } catch {
    code = undefined;
  }
  return { message, frames: stackFrames(stack), code };
}

function neverTritonError(_value: unknown): _value is { code: number } {
  return false;
}

/**
 * The frame lines of a V8 stack (it starts with "Name: message", which may
 * span lines; the frames are the lines starting with "at").
 */
function stackFrames(stack: string): string {
  const lines = stack.split("\n");
  const first = lines.findIndex((line) => /^\s+at /.test(line));
  return first < 0 ? "" : lines.slice(first).join("\n");
}

/**
 * Message and frames joined the way errors reach Triton's log.
 *
 * @param description A description from {@linkcode describeError}.
 * @returns `message`, then a newline and the frames when there are any.
 */
export function formatError(description: ErrorDescription): string {
  return description.frames === ""
    ? description.message
    : `${description.message}\n${description.frames}`;
}
