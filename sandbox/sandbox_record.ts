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
 *   read: ["/models/m"], write: [], net: [], env: [], sys: [], gpu: false,
 *   heapMb: 1024, memoryMb: 4096, dataLimitMb: 6656, openFiles: 1024,
 *   executeTimeoutMs: 60000, streamIdleTimeoutMs: 60000, maxOutputBytes: 1024, importMap: "",
 *   decoupled: false, maxBatchesInFlight: 1, maxBatchSize: 0,
 * });
 * console.log(decodeSandboxRecord(text).read); // ["/models/m"]
 * ```
 *
 * @module
 */

import { z } from "npm:zod@3.25.76";
import type { EffectiveSandbox } from "./effective.ts";
import type { Scheduling } from "./scheduling.ts";

/** The effective sandbox plus the import map the stub runs with. */
export interface SandboxRecord extends EffectiveSandbox, Scheduling {
  /** A `data:` URL, or "" for the runtime's own map. */
  readonly importMap: string;
}

// deno-lint-ignore no-control-regex
const list = z.string().regex(/^[^\x00-\x1f\x7f]*$/).transform((value) =>
  value === "" ? [] : value.split(",")
);
const decimal = z.string().regex(/^(0|[1-9][0-9]{0,15})$/).transform(Number);

/** The schema of the record (all values strings, as the C reader requires). */
export const SandboxRecordSchema = z.object({
  status: z.literal("ok"),
  read: list,
  write: list,
  net: list,
  env: list,
  sys: list,
  gpu: z.enum(["0", "1"]).transform((value) => value === "1"),
  heap_mb: decimal,
  memory_mb: decimal,
  data_limit_mb: decimal,
  open_files: decimal,
  execute_timeout_ms: decimal,
  stream_idle_timeout_ms: decimal,
  max_output_bytes: decimal,
  import_map: z.string(),
  decoupled: z.enum(["0", "1"]).transform((value) => value === "1"),
  max_batches_in_flight: decimal,
  max_batch_size: decimal,
}).strict();

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
  const parsed = SandboxRecordSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`invalid sandbox record: ${issue.path.join(".") || "?"}: ${issue.message}`);
  }
  const value = parsed.data;
  return {
    read: value.read,
    write: value.write,
    net: value.net,
    env: value.env,
    sys: value.sys,
    gpu: value.gpu,
    heapMb: value.heap_mb,
    memoryMb: value.memory_mb,
    dataLimitMb: value.data_limit_mb,
    openFiles: value.open_files,
    executeTimeoutMs: value.execute_timeout_ms,
    streamIdleTimeoutMs: value.stream_idle_timeout_ms,
    maxOutputBytes: value.max_output_bytes,
    importMap: value.import_map,
    decoupled: value.decoupled,
    maxBatchesInFlight: value.max_batches_in_flight,
    maxBatchSize: value.max_batch_size,
  };
}
