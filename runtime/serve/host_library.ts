/**
 * The FFI binding of `build/libtriton_host.so` (ffi/host/host_api.h):
 * the test host that plays Triton's core around the Deno backend. The server
 * drives the backend through it, so every request crosses exactly the code
 * Triton would run.
 *
 * Calls that wait on a model (load, unload, execute, waiting for a final
 * response) are bound `nonblocking`: they run on Deno's blocking thread pool
 * and return Promises, so the HTTP event loop never stalls on a model.
 *
 * @module
 */

const SYMBOLS = {
  host_backend_load: {
    parameters: ["buffer", "buffer", "buffer", "buffer", "buffer", "u32"],
    result: "pointer",
  },
  host_backend_unload: {
    parameters: ["pointer", "buffer", "u32"],
    result: "i32",
    nonblocking: true,
  },
  host_model_load: {
    parameters: ["pointer", "buffer", "u64", "buffer", "buffer", "u32", "u32", "buffer", "u32"],
    result: "pointer",
    nonblocking: true,
  },
  host_model_unload: {
    parameters: ["pointer", "buffer", "u32"],
    result: "i32",
    nonblocking: true,
  },
  host_model_instance_count: { parameters: ["pointer"], result: "u32" },
  host_model_instance: { parameters: ["pointer", "u32"], result: "pointer" },
  host_model_config_json: { parameters: ["pointer", "buffer", "u64"], result: "u64" },
  host_request_new: { parameters: ["buffer", "u64", "buffer", "u32", "u64"], result: "pointer" },
  host_request_add_input: {
    parameters: [
      "pointer",
      "buffer",
      "u32",
      "buffer",
      "u32",
      "buffer",
      "u64",
      "u32",
      "buffer",
      "u32",
    ],
    result: "i32",
  },
  host_request_add_requested_output: { parameters: ["pointer", "buffer"], result: "i32" },
  host_request_add_parameter: {
    parameters: ["pointer", "buffer", "u32", "buffer", "i64", "f64"],
    result: "i32",
  },
  host_request_wait: { parameters: ["pointer", "u32"], result: "i32", nonblocking: true },
  host_request_result_json: { parameters: ["pointer", "buffer", "u64"], result: "u64" },
  host_request_output_data: {
    parameters: ["pointer", "u32", "u32", "buffer", "u64"],
    result: "i64",
  },
  host_request_free: { parameters: ["pointer"], result: "void" },
  host_execute: {
    parameters: ["pointer", "buffer", "u32", "buffer", "u32"],
    result: "i32",
    nonblocking: true,
  },
  host_instance_stats_json: { parameters: ["pointer", "buffer", "u64"], result: "u64" },
  host_log_read: { parameters: ["buffer", "u64"], result: "u64" },
  host_log_clear: { parameters: [], result: "void" },
} as const;

/** The opened host library. */
export type HostLibrary = Deno.DynamicLibrary<typeof SYMBOLS>;

/** Opens the host library at `path`. */
export function openHostLibrary(path: string): HostLibrary {
  return Deno.dlopen(path, SYMBOLS);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A NUL-terminated UTF-8 copy of a string, for a `const char*` argument.
 *
 * @example
 * ```ts
 * import { cString } from "./host_library.ts";
 *
 * console.log(cString("ab")); // Uint8Array [97, 98, 0]
 * ```
 */
export function cString(text: string): Uint8Array<ArrayBuffer> {
  if (text.includes("\0")) throw new TypeError("a C string cannot contain NUL");
  return encoder.encode(`${text}\0`);
}

/** An out-buffer for the `(char* error_text, uint32_t error_cap)` convention. */
export class ErrorText {
  /** The buffer. */
  readonly buffer: Uint8Array<ArrayBuffer> = new Uint8Array(4096);
  /** Its capacity. */
  readonly capacity: number = this.buffer.byteLength;

  /** The text written, up to its NUL. */
  text(): string {
    const end = this.buffer.indexOf(0);
    return decoder.decode(this.buffer.subarray(0, end < 0 ? this.buffer.byteLength : end));
  }
}

/**
 * Reads a variable-length text result `(out, cap) -> full length`, calling
 * again with a large enough buffer when the first was too small. `scratch`
 * is reused across calls to avoid an allocation per request.
 */
export function readText(
  call: (out: Uint8Array<ArrayBuffer>, cap: bigint) => number | bigint,
  scratch: { buffer: Uint8Array<ArrayBuffer> },
): string {
  let length = Number(call(scratch.buffer, BigInt(scratch.buffer.byteLength)));
  if (length >= scratch.buffer.byteLength) {
    scratch.buffer = new Uint8Array(Math.max(length + 1, scratch.buffer.byteLength * 2));
    length = Number(call(scratch.buffer, BigInt(scratch.buffer.byteLength)));
  }
  return decoder.decode(
    scratch.buffer.subarray(0, Math.min(length, scratch.buffer.byteLength - 1)),
  );
}
