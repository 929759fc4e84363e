/*
 * client.h: an in-process client of a Triton core, for the tests, the
 * benchmark and `deno task serve`. The server itself (options, start,
 * model control, JSON views) is driven from TypeScript straight through
 * Triton's API (runtime/core/); what needs C is what runs on Triton's
 * threads: the response allocator, the response and release callbacks,
 * and a benchmark loop whose timing no event loop disturbs.
 *
 * Conventions, chosen to be easy to call from Deno FFI: handles are
 * pointers; strings are NUL-terminated UTF-8; a function that can fail
 * takes (char* error, uint32_t cap), writes "CODE: message" there and
 * returns NULL or a negative number; a function returning text writes into
 * (out, cap) and returns the full length without the NUL (call again with
 * a bigger buffer when the result is >= cap).
 */
#ifndef TDC_CLIENT_H
#define TDC_CLIENT_H

#include <stdint.h>

#include "triton_api.h"

#define TDC_EXPORT __attribute__((visibility("default")))

typedef struct tdc_client tdc_client;
typedef struct tdc_call tdc_call;

/* Loads `core_library` into the global symbol scope (once per process,
 * before TRITONSERVER_ServerNew): backends that Triton dlopens resolve
 * their TRITONSERVER_ and TRITONBACKEND_ calls from it there, as they would
 * from the tritonserver executable. Deno's own dlopen keeps a library's
 * symbols local. Returns 0, or -1 with the reason. */
TDC_EXPORT int32_t tdc_core_make_global(const char* core_library, char* error, uint32_t cap);

/* Resolves the core's functions from `core_library` (already loaded or
 * not) for a started `server`, and makes the response allocator. */
TDC_EXPORT tdc_client* tdc_client_new(const char* core_library, TRITONSERVER_Server* server,
                                      char* error, uint32_t cap);
/* Every call must have been freed. */
TDC_EXPORT void tdc_client_delete(tdc_client* client);

/* ---- One inference ("call"): build, start, read its responses, free. ---- */

/* version -1: the server's choice. id may be NULL or "". */
TDC_EXPORT tdc_call* tdc_call_new(tdc_client* client, const char* model, int64_t version,
                                  const char* id, char* error, uint32_t cap);
/* Copies `data` (the call owns the copy until it is freed). */
TDC_EXPORT int32_t tdc_call_add_input(tdc_call* call, const char* name, uint32_t datatype,
                                      const int64_t* shape, uint32_t rank, const void* data,
                                      uint64_t byte_size, char* error, uint32_t cap);
TDC_EXPORT int32_t tdc_call_add_requested_output(tdc_call* call, const char* name, char* error,
                                                 uint32_t cap);
/* correlation_id_string: NULL or "" for the numeric one. */
TDC_EXPORT int32_t tdc_call_set_sequence(tdc_call* call, uint64_t correlation_id,
                                         const char* correlation_id_string, uint32_t flags,
                                         char* error, uint32_t cap);
TDC_EXPORT int32_t tdc_call_set_timeout(tdc_call* call, uint64_t timeout_us, char* error,
                                        uint32_t cap);
/* type: TRITONSERVER_ParameterType (STRING, INT, BOOL, DOUBLE); the
 * matching value argument is used. */
TDC_EXPORT int32_t tdc_call_add_parameter(tdc_call* call, const char* key, uint32_t type,
                                          const char* string_value, int64_t int_value,
                                          double double_value, char* error, uint32_t cap);
/* TRITONSERVER_ServerInferAsync. */
TDC_EXPORT int32_t tdc_call_start(tdc_call* call, char* error, uint32_t cap);
TDC_EXPORT void tdc_call_cancel(tdc_call* call);

/* Blocks until the call has more than `seen` responses, or is complete, or
 * timeout_ms passes. Returns the number of responses so far; -2 when the
 * call is complete (final flag and request released) with no more than
 * `seen` of them; -1 for a bad handle. */
TDC_EXPORT int64_t tdc_call_wait(tdc_call* call, uint32_t seen, uint32_t timeout_ms);
/* JSON of response `index`: {"flags", "error": null | {"code", "message"},
 * "parameters": [{"name", "type", "value"}], "outputs": [{"name",
 * "datatype", "shape", "byte_size"}]}. A flags-only FINAL is a response
 * with "flags_only": true. Returns 0 and writes "" for no such response. */
TDC_EXPORT uint64_t tdc_call_response_json(tdc_call* call, uint32_t index, char* out,
                                           uint64_t cap);
/* Copies one output's bytes; returns its size, or -1 if there is no such
 * output. Copies nothing when cap is too small. */
TDC_EXPORT int64_t tdc_call_output_data(tdc_call* call, uint32_t index, uint32_t output,
                                        void* out, uint64_t cap);
/* Frees the call; one still in flight is freed when Triton is done with it. */
TDC_EXPORT void tdc_call_free(tdc_call* call);

/* ---- Benchmark. ---- */

/* Runs request_total requests of `template_call`'s model and inputs (by
 * reference, never started itself) from `concurrency` client threads, each
 * submitting its next request when the previous one completed, as Triton's
 * perf_analyzer does in its in-process mode. latencies_ns receives
 * request_total values (submit to completion). Returns the number of failed
 * requests, or -1 with error; *elapsed_ns receives the wall time. */
TDC_EXPORT int64_t tdc_bench_run(tdc_call* template_call, uint32_t request_total,
                                 uint32_t concurrency, uint64_t* latencies_ns,
                                 uint64_t* elapsed_ns, char* error, uint32_t cap);

#endif /* TDC_CLIENT_H */
