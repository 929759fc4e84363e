/**
 * Checks the configuration a model's `static autoCompleteConfig` proposed
 * before the parent hands it to Triton (`TRITONBACKEND_ModelSetConfig`). The
 * method runs in the model's sandboxed stub, so its answer is untrusted: it
 * may change only what the `AutoCompleteConfig` API can change
 * (`max_batch_size`, `dynamic_batching`, `input`, `output`,
 * `model_transaction_policy`). Everything else, above all `parameters` (the
 * model's declared permissions) and `backend`, must be exactly as before,
 * so completing a configuration can never widen a sandbox.
 *
 * @example
 * ```ts
 * import { checkAutoCompleted } from "./auto_complete_check.ts";
 *
 * const before = JSON.stringify({ name: "m", backend: "deno", max_batch_size: 0 });
 * const after = JSON.stringify({ name: "m", backend: "deno", max_batch_size: 8 });
 * console.log(checkAutoCompleted(before, after)); // {"name":"m","backend":"deno","max_batch_size":8}
 * ```
 *
 * @module
 */

/** The top-level fields `autoCompleteConfig` may change. */
export const AUTO_COMPLETE_FIELDS: readonly string[] = Object.freeze([
  "max_batch_size",
  "dynamic_batching",
  "input",
  "output",
  "model_transaction_policy",
]);

/** The most bytes a proposed configuration may have. */
export const MAX_CONFIG_BYTES = 1 << 20;

/** The proposal changed what it may not, or is not a configuration. */
export class AutoCompleteError extends Error {
  /** @param message What is wrong, naming the field. */
  constructor(message: string) {
    super(message);
    this.name = "AutoCompleteError";
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) if (!deepEqual(a[key], b[key])) return false;
    return true;
  }
  return false;
}

/**
 * Validates a proposed configuration against the original.
 *
 * @param originalJson Triton's configuration before auto-completion.
 * @param proposedJson What the model's `autoCompleteConfig` produced.
 * @returns The proposal, re-serialized.
 * @throws {AutoCompleteError} Naming the first field changed that may not be.
 */
export function checkAutoCompleted(originalJson: string, proposedJson: string): string {
  if (proposedJson.length > MAX_CONFIG_BYTES) {
    throw new AutoCompleteError(
      `autoCompleteConfig produced a configuration of ${proposedJson.length} bytes; at most ${MAX_CONFIG_BYTES} are accepted`,
    );
  }
  const original: unknown = JSON.parse(originalJson);
  let proposed: unknown;
  try {
    proposed = JSON.parse(proposedJson);
  } catch {
    throw new AutoCompleteError("autoCompleteConfig produced text that is not JSON");
  }
  if (!isObject(original) || !isObject(proposed)) {
    throw new AutoCompleteError("autoCompleteConfig must produce a model configuration object");
  }
  const keys = [...new Set([...Object.keys(original), ...Object.keys(proposed)])].sort();
  for (const key of keys) {
    if (AUTO_COMPLETE_FIELDS.includes(key)) continue;
    if (!deepEqual(original[key], proposed[key])) {
      throw new AutoCompleteError(
        `autoCompleteConfig may change only ${
          AUTO_COMPLETE_FIELDS.join(", ")
        }; it changed '${key}'`,
      );
    }
  }
  return JSON.stringify(proposed);
}
