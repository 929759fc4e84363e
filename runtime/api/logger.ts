/**
 * Writing to Triton's server log from a model, as python_backend's
 * `pb_utils.Logger` does. The runtime connects the logger to the log once the
 * model's Worker starts; lines written before that are kept (up to a bound)
 * and written when it connects.
 *
 * @module
 */

import { describeValue } from "./describe.ts";
import { ErrorCode, TritonError } from "./error.ts";

/**
 * Log severities, with the values of Triton's `TRITONSERVER_LogLevel`.
 *
 * @example
 * ```ts
 * import { LogLevel } from "@triton/deno";
 *
 * console.log(LogLevel.WARN); // 1
 * ```
 */
export enum LogLevel {
  /** `TRITONSERVER_LOG_INFO`. */
  INFO = 0,
  /** `TRITONSERVER_LOG_WARN`. */
  WARN = 1,
  /** `TRITONSERVER_LOG_ERROR`. */
  ERROR = 2,
  /** `TRITONSERVER_LOG_VERBOSE`: shown only when Triton's verbose logging is on. */
  VERBOSE = 3,
}

/**
 * Where log lines go: the runtime's writer to Triton's log. It decides
 * whether a level is enabled.
 *
 * @internal Set by the Worker runtime through internal.ts.
 */
export type LogSink = (level: LogLevel, message: string) => void;

/**
 * The model's logger: one method per {@linkcode LogLevel}, and `log` with the
 * level as an argument (python_backend's `Logger.log(message, level)`).
 *
 * @example
 * ```ts
 * import { type Logger, logger, LogLevel } from "@triton/deno";
 *
 * const log: Logger = logger;
 * log.info("ready");
 * log.log("cache warm", LogLevel.VERBOSE);
 * ```
 */
export interface Logger {
  /**
   * Logs `message` at `level` (`INFO` when omitted).
   *
   * @throws {TritonError} `INVALID_ARG` if `level` is not a {@linkcode LogLevel}.
   */
  log(message: string, level?: LogLevel): void;
  /** Logs `message` at `INFO`. */
  info(message: string): void;
  /** Logs `message` at `WARN`. */
  warn(message: string): void;
  /** Logs `message` at `ERROR`. */
  error(message: string): void;
  /** Logs `message` at `VERBOSE` (shown when Triton runs with verbose logging). */
  verbose(message: string): void;
}

/** Lines kept while no sink is set; later ones are only counted. */
export const PENDING_LOG_LINES = 32;

let sink: LogSink | undefined;
const pending: [LogLevel, string][] = [];
let dropped = 0;

function write(level: LogLevel, message: unknown): void {
  const text = typeof message === "string" ? message : stringify(message);
  if (sink === undefined) {
    if (pending.length < PENDING_LOG_LINES) pending.push([level, text]);
    else dropped++;
    return;
  }
  deliver(sink, level, text);
}

/** Calls the sink; a failing sink must not break the model's code. */
function deliver(target: LogSink, level: LogLevel, text: string): void {
  try {
    target(level, text);
  } catch {
    dropped++;
  }
}

function stringify(value: unknown): string {
  try {
    return String(value);
  } catch {
    // String() runs the value's own toString, which may throw.
    return describeValue(value);
  }
}

function isLogLevel(value: unknown): value is LogLevel {
  return value === LogLevel.INFO || value === LogLevel.WARN || value === LogLevel.ERROR ||
    value === LogLevel.VERBOSE;
}

/**
 * Writes to Triton's server log. A message that is not a string is turned
 * into one with `String()`.
 *
 * @example
 * ```ts
 * import { logger, LogLevel } from "@triton/deno";
 *
 * logger.info("model loaded");
 * logger.warn("INPUT0 was empty; answering zeros");
 * logger.verbose(`batch of ${4} requests`);
 * logger.log("the same, with the level as an argument", LogLevel.WARN);
 * ```
 */
export const logger: Logger = Object.freeze({
  log(message: string, level: LogLevel = LogLevel.INFO): void {
    if (!isLogLevel(level)) {
      throw new TritonError(
        `logger.log: level must be LogLevel.INFO (0), WARN (1), ERROR (2) or VERBOSE (3); ` +
          `got ${describeValue(level)}`,
        ErrorCode.INVALID_ARG,
      );
    }
    write(level, message);
  },
  info(message: string): void {
    write(LogLevel.INFO, message);
  },
  warn(message: string): void {
    write(LogLevel.WARN, message);
  },
  error(message: string): void {
    write(LogLevel.ERROR, message);
  },
  verbose(message: string): void {
    write(LogLevel.VERBOSE, message);
  },
});

/**
 * Connects the logger to `target` and writes the lines kept so far, then, if
 * some were dropped, one `WARN` line saying how many. `undefined`
 * disconnects it (lines are kept again).
 *
 * @internal Used by the Worker runtime through internal.ts.
 *
 * @example
 * ```ts
 * import { logger, setLogSink } from "./logger.ts";
 *
 * const lines: string[] = [];
 * logger.info("early");
 * setLogSink((level, message) => lines.push(`${level} ${message}`));
 * console.log(lines); // ["0 early"]
 * ```
 */
export function setLogSink(target: LogSink | undefined): void {
  sink = target;
  if (target === undefined) return;
  const lines = pending.splice(0);
  for (const [level, text] of lines) deliver(target, level, text);
  if (dropped > 0) {
    const count = dropped;
    dropped = 0;
    deliver(
      target,
      LogLevel.WARN,
      `${count} model log line${count === 1 ? " was" : "s were"} dropped ` +
        `(more than ${PENDING_LOG_LINES} written before the log was connected, or the log failed)`,
    );
  }
}

/**
 * How many lines were dropped since the last time the sink was set.
 *
 * @internal For the runtime's diagnostics and tests.
 *
 * @example
 * ```ts
 * import { droppedLogLines } from "./logger.ts";
 *
 * console.log(droppedLogLines()); // 0
 * ```
 */
export function droppedLogLines(): number {
  return dropped;
}
