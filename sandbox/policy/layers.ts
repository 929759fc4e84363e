/**
 * The numbers behind the limits the parent applies to a stub process below
 * Deno (ffi/src/sandbox_layers.c applies them between fork and exec).
 *
 * RLIMIT_DATA caps the process's private writable memory: the V8 heap, and
 * also ArrayBuffers and Wasm memory, which the heap cap does not see. V8
 * reserves writable memory up front for each isolate (code ranges and the
 * like), so a Deno process needs a floor before any model allocates
 * anything; measured with Deno 2.9.6 on x86-64: a plain runtime starts with
 * 700 MiB but not 512 MiB, a runtime plus one Worker with 1100 MiB but not
 * 1024 MiB. {@linkcode RUNTIME_DATA_RESERVE_MB} keeps a margin above that;
 * the model's heap cap and memory budget come on top.
 *
 * RLIMIT_NOFILE caps descriptors. The trusted side opens everything it
 * needs (the region, the helper library, the type check's pipes) before the
 * model's code runs, so the whole budget minus what is already open is the
 * model's, and running out hurts only the model's own requests.
 *
 * @example
 * ```ts
 * import { dataLimitMb } from "./layers.ts";
 *
 * console.log(dataLimitMb(1024, 4096)); // 6656
 * ```
 *
 * @module
 */

/** MiB of writable memory the runtime itself needs (main thread plus the model's Worker). */
export const RUNTIME_DATA_RESERVE_MB = 1536;

/** RLIMIT_NOFILE of a stub process. */
export const STUB_OPEN_FILES = 1024;

/**
 * The stub's RLIMIT_DATA in MiB.
 *
 * @param heapMb The V8 heap cap.
 * @param memoryMb The ArrayBuffer and Wasm budget.
 * @returns The reserve plus both.
 */
export function dataLimitMb(heapMb: number, memoryMb: number): number {
  return RUNTIME_DATA_RESERVE_MB + heapMb + memoryMb;
}
