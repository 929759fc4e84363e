/**
 * The effective sandbox as one flat JSON object of strings: what the
 * policy evaluator (sandbox/evaluate_main.ts) prints, what the parent
 * (ffi/src/policy_eval.c, with its strict reader of flat string objects)
 * applies to the stub process, and what the stub receives back verbatim in
 * its INIT arguments (`sandbox`) to give its model Worker the same
 * permissions. ffi/WIRE_FORMAT.md, "The sandbox record", lists the fields.
 *
 * @example
 * ```ts
 * import { decodeSandboxRecord, encodeSandboxRecord } from "./sandbox_record.ts";
 *
 * const text = encodeSandboxRecord({
 *   read: ["/models/m"], write: [], net: [], env: [], sys: [], gpu: false, models: [],
 *   modelControl: [],
 *   heapMb: 1024, memoryMb: 4096, dataLimitMb: 6656, openFiles: 1024,
 *   executeTimeoutMs: 60000, streamIdleTimeoutMs: 60000, maxOutputBytes: 1024, importMap: "",
 *   decoupled: false, maxBatchesInFlight: 1, maxBatchSize: 0,
 * });
 * console.log(decodeSandboxRecord(text).read); // ["/models/m"]
 * ```
 *
 * @module
 */

import { FieldReader } from "../../runtime/wire/json_fields.ts";
import type { EffectiveSandbox } from "./effective.ts";
import type { Scheduling } from "./scheduling.ts";

/** The effective sandbox plus the import map the stub runs with. */
export interface SandboxRecord extends EffectiveSandbox, Scheduling {
  /** A `data:` URL, or "" for the runtime's own map. */
  readonly importMap: string;
}

/** The record's fields (all values strings, as the C reader requires). */
const FIELDS = [
  "status",
  "read",
  "write",
  "net",
  "env",
  "sys",
  "gpu",
  "models",
  "model_control",
  "heap_mb",
  "memory_mb",
  "data_limit_mb",
  "open_files",
  "execute_timeout_ms",
  "stream_idle_timeout_ms",
  "max_output_bytes",
  "import_map",
  "decoupled",
  "max_batches_in_flight",
  "max_batch_size",
] as const;

// deno-lint-ignore no-control-regex
const LIST = { pattern: /^[^\x00-\x1f\x7f]*$/, patternMessage: "must hold no control characters" };
const DECIMAL = { pattern: /^(0|[1-9][0-9]{0,15})$/, patternMessage: "must be a decimal integer" };
const FLAG = { pattern: /^[01]$/, patternMessage: 'must be "0" or "1"' };

/**
 * Encodes the record.
 *
 * @param sandbox The effective sandbox and import map.
 * @returns Compact JSON whose values are all strings.
 */
export function encodeSandboxRecord(sandbox: SandboxRecord): string {
  return JSON.stringify({
    status: "ok",
    read: sandbox.read.join(","),
    write: sandbox.write.join(","),
    net: sandbox.net.join(","),
    env: sandbox.env.join(","),
    sys: sandbox.sys.join(","),
    gpu: sandbox.gpu ? "1" : "0",
    models: sandbox.models.join(","),
    model_control: sandbox.modelControl.join(","),
    heap_mb: String(sandbox.heapMb),
    memory_mb: String(sandbox.memoryMb),
    data_limit_mb: String(sandbox.dataLimitMb),
    open_files: String(sandbox.openFiles),
    execute_timeout_ms: String(sandbox.executeTimeoutMs),
    stream_idle_timeout_ms: String(sandbox.streamIdleTimeoutMs),
    max_output_bytes: String(sandbox.maxOutputBytes),
    import_map: sandbox.importMap,
    decoupled: sandbox.decoupled ? "1" : "0",
    max_batches_in_flight: String(sandbox.maxBatchesInFlight),
    max_batch_size: String(sandbox.maxBatchSize),
  });
}

/**
 * Decodes and validates the record.
 *
 * @param text The JSON text.
 * @returns The sandbox.
 * @throws {Error} Naming the first invalid field.
 */
export function decodeSandboxRecord(text: string): SandboxRecord {
  // Checked by hand, not with a schema library: every stub's main thread
  // decodes the record, and what it does not load costs it nothing.
  const fields = new FieldReader(JSON.parse(text));
  const list = (name: string) => {
    const value = fields.string(name, LIST);
    return value === "" ? [] : value.split(",");
  };
  const decimal = (name: string) => Number(fields.string(name, DECIMAL));
  const flag = (name: string) => fields.string(name, FLAG) === "1";
  fields.string("status", { pattern: /^ok$/, patternMessage: 'must be "ok"' });
  const record: SandboxRecord = {
    read: list("read"),
    write: list("write"),
    net: list("net"),
    env: list("env"),
    sys: list("sys"),
    gpu: flag("gpu"),
    models: list("models"),
    modelControl: list("model_control"),
    heapMb: decimal("heap_mb"),
    memoryMb: decimal("memory_mb"),
    dataLimitMb: decimal("data_limit_mb"),
    openFiles: decimal("open_files"),
    executeTimeoutMs: decimal("execute_timeout_ms"),
    streamIdleTimeoutMs: decimal("stream_idle_timeout_ms"),
    maxOutputBytes: decimal("max_output_bytes"),
    importMap: fields.string("import_map"),
    decoupled: flag("decoupled"),
    maxBatchesInFlight: decimal("max_batches_in_flight"),
    maxBatchSize: decimal("max_batch_size"),
  };
  for (const name of fields.unknownFields(FIELDS)) fields.problems.push(`${name}: unknown field`);
  if (fields.problems.length > 0) {
    throw new Error(`invalid sandbox record: ${fields.problems[0]}`);
  }
  return record;
}
