/**
 * The Deno FFI binding of libtriton_host.so (host_api.h), shared by the tests
 * (tests/harness/host.ts) and `deno task serve` (runtime/serve/), plus the
 * small helpers every call needs: NUL-terminated strings, error out-buffers
 * and variable-length text results.
 *
 * Calls that wait on a model have a `_nonblocking` twin: it runs on Deno's
 * blocking thread pool and returns a Promise, so an event loop (the HTTP
 * server's) never stalls on a model.
 *
 * @example
 * ```ts ignore
 * import { openHostLibrary, readText } from "./bindings.ts";
 *
 * const lib = openHostLibrary("build/libtriton_host.so");
 * console.log(readText((out, cap) => lib.symbols.host_log_read(out, cap)));
 * ```
 *
 * @module
 */

const HOST_SYMBOLS = {
  host_set_api_version: { parameters: ["u32", "u32"], result: "void" },
  host_set_log_verbose: { parameters: ["i32"], result: "void" },
  host_log_setup: {
    parameters: ["i32", "i32", "i32", "i32", "i32", "buffer"],
    result: "void",
  },
  host_backend_load: {
    parameters: ["buffer", "buffer", "buffer", "buffer", "buffer", "u32"],
    result: "pointer",
  },
  host_backend_unload: { parameters: ["pointer", "buffer", "u32"], result: "i32" },
  host_backend_unload_nonblocking: {
    name: "host_backend_unload",
    parameters: ["pointer", "buffer", "u32"],
    result: "i32",
    nonblocking: true,
  },
  host_model_load: {
    parameters: ["pointer", "buffer", "u64", "buffer", "buffer", "u32", "u32", "buffer", "u32"],
    result: "pointer",
  },
  host_model_load_nonblocking: {
    name: "host_model_load",
    parameters: ["pointer", "buffer", "u64", "buffer", "buffer", "u32", "u32", "buffer", "u32"],
    result: "pointer",
    nonblocking: true,
  },
  host_model_unload: { parameters: ["pointer", "buffer", "u32"], result: "i32" },
  host_model_unload_nonblocking: {
    name: "host_model_unload",
    parameters: ["pointer", "buffer", "u32"],
    result: "i32",
    nonblocking: true,
  },
  host_model_instance_count: { parameters: ["pointer"], result: "u32" },
  host_model_instance: { parameters: ["pointer", "u32"], result: "pointer" },
  host_model_config_json: { parameters: ["pointer", "buffer", "u64"], result: "u64" },
  host_request_new: {
    parameters: ["buffer", "u64", "buffer", "u32", "u64"],
    result: "pointer",
  },
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
  host_request_place_in_gpu: { parameters: ["pointer", "buffer", "i64"], result: "i32" },
  host_request_add_parameter: {
    parameters: ["pointer", "buffer", "u32", "buffer", "i64", "f64"],
    result: "i32",
  },
  host_request_cancel: { parameters: ["pointer"], result: "void" },
  host_request_wait: { parameters: ["pointer", "u32"], result: "i32" },
  host_request_wait_nonblocking: {
    name: "host_request_wait",
    parameters: ["pointer", "u32"],
    result: "i32",
    nonblocking: true,
  },
  host_request_result_json: { parameters: ["pointer", "buffer", "u64"], result: "u64" },
  host_request_output_data: {
    parameters: ["pointer", "u32", "u32", "buffer", "u64"],
    result: "i64",
  },
  host_request_free: { parameters: ["pointer"], result: "void" },
  host_execute: { parameters: ["pointer", "buffer", "u32", "buffer", "u32"], result: "i32" },
  host_execute_nonblocking: {
    name: "host_execute",
    parameters: ["pointer", "buffer", "u32", "buffer", "u32"],
    result: "i32",
    nonblocking: true,
  },
  host_instance_stats_json: { parameters: ["pointer", "buffer", "u64"], result: "u64" },
  host_instance_ready: { parameters: ["pointer", "buffer", "u32"], result: "i32" },
  host_instance_ready_nonblocking: {
    name: "host_instance_ready",
    parameters: ["pointer", "buffer", "u32"],
    result: "i32",
    nonblocking: true,
  },
  host_violations_json: { parameters: ["buffer", "u64"], result: "u64" },
  host_violations_reset: { parameters: [], result: "void" },
  host_log_read: { parameters: ["buffer", "u64"], result: "u64" },
  host_log_clear: { parameters: [], result: "void" },
  host_bench_run: {
    parameters: ["pointer", "pointer", "u32", "u32", "buffer", "buffer", "buffer", "u32"],
    result: "i64",
    nonblocking: true,
  },
  host_pingpong_floor: {
    parameters: ["u32", "u32", "buffer", "buffer", "buffer", "u32"],
    result: "i32",
    nonblocking: true,
  },
  // Streaming (host_api.h): a decoupled model's responses, one at a time.
  host_request_wait_response: { parameters: ["pointer", "u32", "u32"], result: "i64" },
  host_request_wait_response_nonblocking: {
    name: "host_request_wait_response",
    parameters: ["pointer", "u32", "u32"],
    result: "i64",
    nonblocking: true,
  },
  host_request_generation: { parameters: [], result: "u64" },
  host_request_wait_change_nonblocking: {
    name: "host_request_wait_change",
    parameters: ["u64", "u32"],
    result: "u64",
    nonblocking: true,
  },
  host_request_response_json: {
    parameters: ["pointer", "u32", "buffer", "u64"],
    result: "u64",
  },
  // In-process inference (BLS), model control and custom metrics.
  host_set_model_control: { parameters: ["i32"], result: "void" },
  host_register_loadable: {
    parameters: ["pointer", "buffer", "u64", "buffer", "buffer", "u32"],
    result: "i32",
  },
  host_server_models_json: { parameters: ["buffer", "u64"], result: "u64" },
  host_wait_idle: { parameters: ["u32"], result: "i32" },
  host_wait_idle_nonblocking: {
    name: "host_wait_idle",
    parameters: ["u32"],
    result: "i32",
    nonblocking: true,
  },
  host_metrics_text: { parameters: ["buffer", "u64"], result: "u64" },
  host_metrics_reset: { parameters: [], result: "void" },
  // In-process calls handed to the embedding server (serve's schedulers).
  host_forward_start: { parameters: [], result: "void" },
  host_forward_stop: { parameters: [], result: "void" },
  host_forward_wait_nonblocking: {
    name: "host_forward_wait",
    parameters: ["u32"],
    result: "i32",
    nonblocking: true,
  },
  host_forward_next: { parameters: ["buffer", "u64"], result: "u64" },
  host_forward_claim: { parameters: ["pointer"], result: "i32" },
  host_forward_answer: { parameters: ["pointer", "u32", "buffer"], result: "i32" },
  host_forward_done: { parameters: ["pointer", "u32", "buffer"], result: "void" },
  host_forward_response_new: { parameters: ["pointer"], result: "pointer" },
  host_forward_response_output: {
    parameters: ["pointer", "buffer", "u32", "buffer", "u32", "buffer", "u64", "buffer", "u32"],
    result: "i32",
  },
  host_forward_response_delete: { parameters: ["pointer"], result: "void" },
  host_forward_response_send_nonblocking: {
    name: "host_forward_response_send",
    parameters: ["pointer"],
    result: "i32",
    nonblocking: true,
  },
  host_repository_set_config: {
    parameters: ["buffer", "buffer", "buffer", "buffer"],
    result: "i32",
  },
} as const;

/** The dlopen'ed host library with its typed symbols. */
export type HostLibrary = Deno.DynamicLibrary<typeof HOST_SYMBOLS>;

/** Opens libtriton_host.so. */
export function openHostLibrary(path: string): HostLibrary {
  return Deno.dlopen(path, HOST_SYMBOLS);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A NUL-terminated UTF-8 copy of a string, for a `const char*` parameter. */
export function cString(text: string): Uint8Array<ArrayBuffer> {
  if (text.includes("\0")) throw new TypeError("a C string cannot contain NUL");
  return encoder.encode(`${text}\0`);
}

/** An out-buffer for error text and its capacity. */
export class ErrorText {
  /** The buffer passed as `char* error_text`. */
  readonly buffer: Uint8Array<ArrayBuffer> = new Uint8Array(4096);
  /** The capacity passed as `uint32_t error_cap`. */
  readonly capacity: number = this.buffer.byteLength;

  /** The NUL-terminated text written into the buffer. */
  text(): string {
    const end = this.buffer.indexOf(0);
    return decoder.decode(this.buffer.subarray(0, end < 0 ? this.buffer.byteLength : end));
  }
}

/**
 * Reads a variable-length text result: the call writes into (out, cap) and
 * returns the full length; a longer result is fetched again with room for it.
 * A `scratch` buffer, when given, is reused (and grown) across calls so that a
 * hot path does not allocate per request.
 */
export function readText(
  call: (out: Uint8Array<ArrayBuffer>, cap: bigint) => number | bigint,
  scratch: { buffer: Uint8Array<ArrayBuffer> } = { buffer: new Uint8Array(16384) },
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

/** A pointer's address as a bigint, for arrays of handles. */
export function pointerValue(pointer: Deno.PointerValue): bigint {
  return BigInt(Deno.UnsafePointer.value(pointer));
}
