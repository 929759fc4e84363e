/**
 * An in-process Triton core, driven through Triton's own server API: the
 * same code runs on Triton's `libtritonserver.so` or on the stand-in core.
 * Used by the real-core tests, the benchmark and `deno task serve`.
 *
 * @module
 */

export * from "./errors.ts";
export * from "./infer.ts";
export * from "./server.ts";
export * from "./triton_home.ts";
