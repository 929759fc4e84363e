/**
 * Deno FFI bindings of an in-process Triton core: Triton's own server API
 * (`TRITONSERVER_*`, declared in ffi/include/triton_api.h), opened from
 * Triton's `libtritonserver.so` or from the stand-in `libtriton_host.so`,
 * which exports the same names; and of `libtriton_deno_client.so`
 * (ffi/client/client.h), the C side of the client that runs on Triton's
 * threads (response allocator and callbacks, the benchmark loop).
 *
 * Calls that may wait for models (server start and stop, model control,
 * waiting for a response) run on Deno's blocking thread pool
 * (`nonblocking`) and return promises, so an event loop never stalls on a
 * model.
 *
 * @module
 */

/** Triton's server API, as both cores export it. */
export const CORE_SYMBOLS = {
  TRITONSERVER_ErrorCode: { parameters: ["pointer"], result: "u32" },
  TRITONSERVER_ErrorMessage: { parameters: ["pointer"], result: "pointer" },
  TRITONSERVER_ErrorDelete: { parameters: ["pointer"], result: "void" },
  TRITONSERVER_MessageSerializeToJson: {
    parameters: ["pointer", "buffer", "buffer"],
    result: "pointer",
  },
  TRITONSERVER_MessageDelete: { parameters: ["pointer"], result: "pointer" },
  TRITONSERVER_ServerOptionsNew: { parameters: ["buffer"], result: "pointer" },
  TRITONSERVER_ServerOptionsDelete: { parameters: ["pointer"], result: "pointer" },
  TRITONSERVER_ServerOptionsSetServerId: { parameters: ["pointer", "buffer"], result: "pointer" },
  TRITONSERVER_ServerOptionsSetModelRepositoryPath: {
    parameters: ["pointer", "buffer"],
    result: "pointer",
  },
  TRITONSERVER_ServerOptionsSetModelControlMode: {
    parameters: ["pointer", "u32"],
    result: "pointer",
  },
  TRITONSERVER_ServerOptionsSetStartupModel: {
    parameters: ["pointer", "buffer"],
    result: "pointer",
  },
  TRITONSERVER_ServerOptionsSetStrictModelConfig: {
    parameters: ["pointer", "bool"],
    result: "pointer",
  },
  TRITONSERVER_ServerOptionsSetStrictReadiness: {
    parameters: ["pointer", "bool"],
    result: "pointer",
  },
  TRITONSERVER_ServerOptionsSetExitTimeout: { parameters: ["pointer", "u32"], result: "pointer" },
  TRITONSERVER_ServerOptionsSetExitOnError: { parameters: ["pointer", "bool"], result: "pointer" },
  TRITONSERVER_ServerOptionsSetModelLoadRetryCount: {
    parameters: ["pointer", "u32"],
    result: "pointer",
  },
  TRITONSERVER_ServerOptionsSetLogFile: { parameters: ["pointer", "buffer"], result: "pointer" },
  TRITONSERVER_ServerOptionsSetLogInfo: { parameters: ["pointer", "bool"], result: "pointer" },
  TRITONSERVER_ServerOptionsSetLogWarn: { parameters: ["pointer", "bool"], result: "pointer" },
  TRITONSERVER_ServerOptionsSetLogError: { parameters: ["pointer", "bool"], result: "pointer" },
  TRITONSERVER_ServerOptionsSetLogVerbose: { parameters: ["pointer", "i32"], result: "pointer" },
  TRITONSERVER_ServerOptionsSetMetrics: { parameters: ["pointer", "bool"], result: "pointer" },
  TRITONSERVER_ServerOptionsSetBackendDirectory: {
    parameters: ["pointer", "buffer"],
    result: "pointer",
  },
  TRITONSERVER_ServerOptionsSetRepoAgentDirectory: {
    parameters: ["pointer", "buffer"],
    result: "pointer",
  },
  TRITONSERVER_ServerOptionsSetBackendConfig: {
    parameters: ["pointer", "buffer", "buffer", "buffer"],
    result: "pointer",
  },
  TRITONSERVER_ServerNew: {
    parameters: ["buffer", "pointer"],
    result: "pointer",
    nonblocking: true,
  },
  TRITONSERVER_ServerDelete: { parameters: ["pointer"], result: "pointer", nonblocking: true },
  TRITONSERVER_ServerStop: { parameters: ["pointer"], result: "pointer", nonblocking: true },
  TRITONSERVER_ServerIsLive: { parameters: ["pointer", "buffer"], result: "pointer" },
  TRITONSERVER_ServerIsReady: { parameters: ["pointer", "buffer"], result: "pointer" },
  TRITONSERVER_ServerModelIsReady: {
    parameters: ["pointer", "buffer", "i64", "buffer"],
    result: "pointer",
  },
  TRITONSERVER_ServerModelMetadata: {
    parameters: ["pointer", "buffer", "i64", "buffer"],
    result: "pointer",
  },
  TRITONSERVER_ServerModelStatistics: {
    parameters: ["pointer", "buffer", "i64", "buffer"],
    result: "pointer",
  },
  TRITONSERVER_ServerModelConfig: {
    parameters: ["pointer", "buffer", "i64", "u32", "buffer"],
    result: "pointer",
  },
  TRITONSERVER_ServerModelIndex: { parameters: ["pointer", "u32", "buffer"], result: "pointer" },
  TRITONSERVER_ServerLoadModel: {
    parameters: ["pointer", "buffer"],
    result: "pointer",
    nonblocking: true,
  },
  TRITONSERVER_ServerLoadModelWithParameters: {
    parameters: ["pointer", "buffer", "buffer", "u64"],
    result: "pointer",
    nonblocking: true,
  },
  TRITONSERVER_ParameterNew: { parameters: ["buffer", "u32", "buffer"], result: "pointer" },
  TRITONSERVER_ParameterBytesNew: { parameters: ["buffer", "buffer", "u64"], result: "pointer" },
  TRITONSERVER_ParameterDelete: { parameters: ["pointer"], result: "void" },
  TRITONSERVER_ServerUnloadModel: {
    parameters: ["pointer", "buffer"],
    result: "pointer",
    nonblocking: true,
  },
  TRITONSERVER_ServerUnloadModelAndDependents: {
    parameters: ["pointer", "buffer"],
    result: "pointer",
    nonblocking: true,
  },
  TRITONSERVER_ServerMetrics: { parameters: ["pointer", "buffer"], result: "pointer" },
  TRITONSERVER_MetricsFormatted: {
    parameters: ["pointer", "u32", "buffer", "buffer"],
    result: "pointer",
  },
  TRITONSERVER_MetricsDelete: { parameters: ["pointer"], result: "pointer" },
} as const;

/** The client library (ffi/client/client.h). */
export const CLIENT_SYMBOLS = {
  tdc_core_make_global: { parameters: ["buffer", "buffer", "u32"], result: "i32" },
  tdc_client_new: { parameters: ["buffer", "pointer", "buffer", "u32"], result: "pointer" },
  tdc_client_delete: { parameters: ["pointer"], result: "void" },
  tdc_call_new: {
    parameters: ["pointer", "buffer", "i64", "buffer", "buffer", "u32"],
    result: "pointer",
  },
  tdc_call_add_input: {
    parameters: ["pointer", "buffer", "u32", "buffer", "u32", "buffer", "u64", "buffer", "u32"],
    result: "i32",
  },
  tdc_call_add_requested_output: {
    parameters: ["pointer", "buffer", "buffer", "u32"],
    result: "i32",
  },
  tdc_call_set_sequence: {
    parameters: ["pointer", "u64", "buffer", "u32", "buffer", "u32"],
    result: "i32",
  },
  tdc_call_set_timeout: { parameters: ["pointer", "u64", "buffer", "u32"], result: "i32" },
  tdc_call_add_parameter: {
    parameters: ["pointer", "buffer", "u32", "buffer", "i64", "f64", "buffer", "u32"],
    result: "i32",
  },
  tdc_call_start: { parameters: ["pointer", "buffer", "u32"], result: "i32" },
  tdc_call_cancel: { parameters: ["pointer"], result: "void" },
  tdc_call_wait: {
    parameters: ["pointer", "u32", "u32"],
    result: "i64",
    nonblocking: true,
  },
  tdc_call_response_json: {
    parameters: ["pointer", "u32", "buffer", "u64"],
    result: "u64",
  },
  tdc_call_output_data: {
    parameters: ["pointer", "u32", "u32", "buffer", "u64"],
    result: "i64",
  },
  tdc_call_free: { parameters: ["pointer"], result: "void" },
  tdc_bench_run: {
    parameters: ["pointer", "u32", "u32", "buffer", "buffer", "buffer", "u32"],
    result: "i64",
    nonblocking: true,
  },
} as const;

/** An opened core library. */
export type CoreLibrary = Deno.DynamicLibrary<typeof CORE_SYMBOLS>;
/** The opened client library. */
export type ClientLibrary = Deno.DynamicLibrary<typeof CLIENT_SYMBOLS>;

/**
 * Opens a core: Triton's `libtritonserver.so` or the stand-in.
 *
 * @throws {Error} If the library cannot be loaded or lacks a function.
 */
export function openCoreLibrary(path: string): CoreLibrary {
  return Deno.dlopen(path, CORE_SYMBOLS);
}

/** Opens `libtriton_deno_client.so`. */
export function openClientLibrary(path: string): ClientLibrary {
  return Deno.dlopen(path, CLIENT_SYMBOLS);
}
