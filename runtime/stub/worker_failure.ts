/**
 * The text of the ERROR the stub's main thread sends when the model's
 * Worker dies (an `error` event that reached the main thread: the Worker's
 * own runtime failed, since it catches what the model throws). It answers
 * the work in flight, a request or the load, so clients see it: paths are
 * made model-relative or hidden as in the Worker's own errors
 * (runtime/worker/client_text.ts); the full text is for the log.
 *
 * @example
 * ```ts
 * import { workerFailureText } from "./worker_failure.ts";
 *
 * const { client } = workerFailureText(
 *   { message: "boom", filename: "file:///opt/backend/runtime/worker/main.ts", lineno: 3, colno: 1 },
 *   "/models/m",
 * );
 * console.log(client); // the model's Worker died: boom (<server path>:3:1)
 * ```
 *
 * @module
 */

import { clientText } from "../worker/client_text.ts";

/** What the main thread learns of the Worker's death (an `ErrorEvent`'s fields). */
export interface WorkerErrorFields {
  /** The error's message. */
  readonly message: string;
  /** The script it came from ("" when unknown). */
  readonly filename: string;
  /** Its line. */
  readonly lineno: number;
  /** Its column. */
  readonly colno: number;
}

/**
 * The failure's text, whole and as clients may see it.
 *
 * @param event The `error` event's fields.
 * @param modelDirectory The model's directory (absolute).
 * @returns `full` for the log, `client` for the ERROR record.
 */
export function workerFailureText(
  event: WorkerErrorFields,
  modelDirectory: string,
): { full: string; client: string } {
  const where = event.filename ? ` (${event.filename}:${event.lineno}:${event.colno})` : "";
  const full = `the model's Worker died: ${event.message}${where}`;
  return { full, client: clientText(full, modelDirectory) };
}
