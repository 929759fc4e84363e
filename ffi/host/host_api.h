/*
 * host_api.h: the driver API of libtriton_host.so, called by the Deno tests
 * through FFI (tests/harness/host.ts) and by `deno task serve`
 * (ffi/host/bindings.ts, runtime/serve/host_executor.ts). Triton's own C API, which the backend
 * calls, is defined by the other files of this directory, and so is
 * Triton's server API (TRITONSERVER_ServerOptions*, TRITONSERVER_ServerNew,
 * ...; host_core.h), through which runtime/core/ drives the stand-in as it
 * drives Triton's libtritonserver.so.
 *
 * Conventions, chosen to be easy to call from Deno FFI:
 *   - handles are plain pointers; strings are NUL-terminated UTF-8;
 *   - a function that can fail takes (char* error_text, uint32_t error_cap)
 *     and writes the reason there; it returns NULL or a negative number;
 *   - a function returning variable-sized text writes into (out, cap) and
 *     returns the full length, excluding the NUL: call again with a bigger
 *     buffer when the result is >= cap.
 */
#ifndef HOST_API_H
#define HOST_API_H

#include <stdint.h>

#include "triton_api.h"

#define HOST_EXPORT __attribute__((visibility("default")))

/* ---- Server-wide settings. ---- */

/* The TRITONBACKEND API version the host reports (default 1.19); lets a test
 * check that the backend refuses a server that is too old. */
HOST_EXPORT void host_set_api_version(uint32_t major, uint32_t minor);
/* Whether TRITONSERVER_LogIsEnabled(VERBOSE) answers true (default no). */
HOST_EXPORT void host_set_log_verbose(int32_t enabled);
/* tritonserver's --log-info/--log-warning/--log-error/--log-verbose and
 * --log-file (NULL: none), and whether to echo every line to standard error
 * in Triton's format, as tritonserver logs. */
HOST_EXPORT void host_log_setup(int32_t info, int32_t warn, int32_t error, int32_t verbose,
                                int32_t echo, const char* file);

/* ---- Backend. ---- */

/* dlopens the backend library (after making the host's own symbols global),
 * resolves its entry points and runs TRITONBACKEND_Initialize.
 * cmdline_json is a JSON object of string values: the backend's
 * --backend-config settings; an empty object gives a config without
 * "cmdline", as in Triton. */
HOST_EXPORT TRITONBACKEND_Backend* host_backend_load(const char* name, const char* library_path,
                                                     const char* backend_dir,
                                                     const char* cmdline_json, char* error_text,
                                                     uint32_t error_cap);
/* Runs TRITONBACKEND_Finalize and dlcloses the library. Fails if models are
 * still loaded. Returns 0, or -1 with the reason (the backend is freed
 * anyway unless models are loaded). */
HOST_EXPORT int32_t host_backend_unload(TRITONBACKEND_Backend* backend, char* error_text,
                                        uint32_t error_cap);

/* ---- Model. ---- */

#define HOST_MODEL_AUTO_COMPLETE 1u

/* Runs TRITONBACKEND_ModelInitialize, then ModelInstanceInitialize for each
 * of instance_count CPU instances named "<name>_0_<i>". On the first error
 * it finalizes what was initialized, frees everything and returns NULL with
 * the error's message. */
HOST_EXPORT TRITONBACKEND_Model* host_model_load(TRITONBACKEND_Backend* backend, const char* name,
                                                 uint64_t version, const char* model_dir,
                                                 const char* config_json, uint32_t instance_count,
                                                 uint32_t flags, char* error_text,
                                                 uint32_t error_cap);
/* Finalizes every instance, then the model, and frees it. Finalize errors
 * are reported (the first one) but do not stop the unload. */
HOST_EXPORT int32_t host_model_unload(TRITONBACKEND_Model* model, char* error_text,
                                      uint32_t error_cap);
HOST_EXPORT uint32_t host_model_instance_count(TRITONBACKEND_Model* model);
HOST_EXPORT TRITONBACKEND_ModelInstance* host_model_instance(TRITONBACKEND_Model* model,
                                                              uint32_t index);
/* The model's current configuration JSON (after any ModelSetConfig). */
HOST_EXPORT uint64_t host_model_config_json(TRITONBACKEND_Model* model, char* out, uint64_t cap);

/* ---- Requests. ---- */

/* correlation_id_string: NULL or "" for a numeric correlation id. */
HOST_EXPORT TRITONBACKEND_Request* host_request_new(const char* id, uint64_t correlation_id,
                                                    const char* correlation_id_string,
                                                    uint32_t flags, uint64_t timeout_us);
/* Copies the data, split into buffer_count buffers allocated separately
 * (the last takes the remainder) to exercise multi-buffer inputs. The byte
 * size is checked against the shape as Triton does (BYTES: the
 * length-prefixed elements must exactly fill it). */
HOST_EXPORT int32_t host_request_add_input(TRITONBACKEND_Request* request, const char* name,
                                           uint32_t datatype, const int64_t* shape,
                                           uint32_t rank, const void* data, uint64_t byte_size,
                                           uint32_t buffer_count, char* error_text,
                                           uint32_t error_cap);
HOST_EXPORT int32_t host_request_add_requested_output(TRITONBACKEND_Request* request,
                                                      const char* name);
/* Simulated GPU memory, for backends' copy paths on machines without one:
 * the backend is told that the buffers of input `name` (added before), or
 * the buffer of each output `name` it allocates, are in the memory of GPU
 * `device_id`. The memory stays the host's, so a CUDA runtime stand-in
 * (tests/harness/fake_cudart/) can "copy" it. 0, or -1 for a bad handle. */
HOST_EXPORT int32_t host_request_place_in_gpu(TRITONBACKEND_Request* request, const char* name,
                                              int64_t device_id);
/* type: TRITONSERVER_ParameterType; the matching value argument is used. */
HOST_EXPORT int32_t host_request_add_parameter(TRITONBACKEND_Request* request, const char* key,
                                               uint32_t type, const char* string_value,
                                               int64_t int_value, double double_value);
HOST_EXPORT void host_request_cancel(TRITONBACKEND_Request* request);
/* 1 when the request has its final response and has been released, 0 if
 * the timeout passed first. */
HOST_EXPORT int32_t host_request_wait(TRITONBACKEND_Request* request, uint32_t timeout_ms);
/* JSON: release count and flags, responses (error, flags, parameters,
 * outputs' name/datatype/shape/byte_size), statistics reports, latency. */
HOST_EXPORT uint64_t host_request_result_json(TRITONBACKEND_Request* request, char* out,
                                              uint64_t cap);
/* Copies one output's bytes; returns its size, or -1 if there is no such
 * output. Copies nothing when cap is too small. */
HOST_EXPORT int64_t host_request_output_data(TRITONBACKEND_Request* request,
                                             uint32_t response_index, uint32_t output_index,
                                             void* out, uint64_t cap);
/* Frees the request. An executed request that was never released or never
 * got a final response counts as a violation; a request the backend still
 * holds responses or factories for is leaked on purpose (and counted). */
HOST_EXPORT void host_request_free(TRITONBACKEND_Request* request);

/* ---- Execution. ---- */

/* Calls TRITONBACKEND_ModelInstanceExecute synchronously under the
 * instance's execute lock. Returns 0 if it succeeded; 1 if it returned an
 * error (written to error_text; the host then answered and released every
 * request the backend had not, as Triton does); -1 on bad arguments. */
HOST_EXPORT int32_t host_execute(TRITONBACKEND_ModelInstance* instance,
                                 TRITONBACKEND_Request* const* requests, uint32_t count,
                                 char* error_text, uint32_t error_cap);

/* Asks the backend whether the instance is ready, as Triton's model
 * readiness does (TRITONBACKEND_ModelInstanceReady; a backend without it is
 * ready). Returns 1 ready, 0 not ready (the reason in error_text), -1 for a
 * bad handle. Safe beside host_execute on the same instance. */
HOST_EXPORT int32_t host_instance_ready(TRITONBACKEND_ModelInstance* instance, char* error_text,
                                        uint32_t error_cap);

/* ---- Observations. ---- */

/* JSON of the instance's statistics reports. */
HOST_EXPORT uint64_t host_instance_stats_json(TRITONBACKEND_ModelInstance* instance, char* out,
                                              uint64_t cap);
/* JSON: {"violations":{name:count...},"live":{kind:count...}}. */
HOST_EXPORT uint64_t host_violations_json(char* out, uint64_t cap);
HOST_EXPORT void host_violations_reset(void);
/* The in-memory log, one line per TRITONSERVER_LogMessage. */
HOST_EXPORT uint64_t host_log_read(char* out, uint64_t cap);
HOST_EXPORT void host_log_clear(void);

/* ---- Benchmark. ---- */

/* Runs request_total requests cloned from template_request (sharing its
 * input buffers) from `concurrency` client threads. Each execute carries one
 * request and goes to the lowest-numbered free instance of the model.
 * latencies_ns receives request_total values (submit to final response, in
 * completion order). Returns the number of requests that failed, or -1 with
 * error_text; *elapsed_ns receives the wall time of the whole run. */
HOST_EXPORT int64_t host_bench_run(TRITONBACKEND_Model* model,
                                   TRITONBACKEND_Request* template_request,
                                   uint32_t request_total, uint32_t concurrency,
                                   uint64_t* latencies_ns, uint64_t* elapsed_ns,
                                   char* error_text, uint32_t error_cap);

/* The C-to-C floor: forks a child that ping-pongs a 64-byte message with
 * this process through a MAP_SHARED anonymous region, using the wire
 * format's ring protocol (spin spin_us, then futex wait). Writes the round
 * trip median and p99 in ns. Returns 0, or -1 with error_text. */
HOST_EXPORT int32_t host_pingpong_floor(uint32_t iterations, uint32_t spin_us,
                                        uint64_t* median_ns, uint64_t* p99_ns, char* error_text,
                                        uint32_t error_cap);

/* ---- Streaming: a decoupled model's responses, one at a time. ---- */

/* Blocks until the request has more than `seen` responses (counting
 * flags-only ones), or the timeout passes. Returns the number of responses
 * recorded so far (read each with host_request_response_json; the one whose
 * flags carry TRITONSERVER_RESPONSE_COMPLETE_FINAL is the last); -3 once a request released
 * with RESCHEDULE has no more to send (execute it again); -2 once all
 * of them have been seen and the backend released the request without a
 * final response and with nothing left that could send one; -1 for a bad
 * handle. */
HOST_EXPORT int64_t host_request_wait_response(TRITONBACKEND_Request* request, uint32_t seen,
                                               uint32_t timeout_ms);
/* The count of request events so far (a response recorded, a request
 * released, ...), for any request. With host_request_wait_change, one thread
 * can wait for news on every open stream at once instead of one thread per
 * stream. */
HOST_EXPORT uint64_t host_request_generation(void);
/* Blocks until the count of request events differs from `since`, or the
 * timeout passes; returns the count then. */
HOST_EXPORT uint64_t host_request_wait_change(uint64_t since, uint32_t timeout_ms);
/* JSON of response `index`, as in host_request_result_json's "responses"
 * (flags_only, flags, error, parameters, outputs); returns 0 and writes ""
 * when there is no such response. */
HOST_EXPORT uint64_t host_request_response_json(TRITONBACKEND_Request* request, uint32_t index,
                                                char* out, uint64_t cap);
/* ---- In-process inference (BLS), model control and custom metrics. ---- */

/* Whether the server runs with explicit model control (default no, as
 * Triton's default mode): TRITONSERVER_ServerLoadModel/UnloadModel are
 * refused otherwise, with Triton's UNAVAILABLE "explicit model load /
 * unload is not allowed if polling is enabled". */
HOST_EXPORT void host_set_model_control(int32_t explicit_mode);
/* Makes a model loadable by name through TRITONSERVER_ServerLoadModel (the
 * host's stand-in for a model repository): it is loaded with
 * host_model_load's arguments. Registering a name again replaces it; the
 * registration ends with the backend. Returns 0, or -1 on bad arguments. */
HOST_EXPORT int32_t host_register_loadable(TRITONBACKEND_Backend* backend, const char* name,
                                           uint64_t version, const char* model_dir,
                                           const char* config_json, uint32_t instance_count);
/* JSON array of the models in-process inference can reach or could until
 * an unload began: [{"name","version","ready","server_owned","in_flight"}]. */
HOST_EXPORT uint64_t host_server_models_json(char* out, uint64_t cap);
/* Waits until no in-process request is in flight and no background unload
 * runs. Returns 1, or 0 if the timeout passed first. */
HOST_EXPORT int32_t host_wait_idle(uint32_t timeout_ms);
/* The custom metrics in Prometheus' text exposition format, as Triton's
 * /metrics endpoint shows them. */
HOST_EXPORT uint64_t host_metrics_text(char* out, uint64_t cap);
/* Forgets metric family names no handle or series uses any more (Triton
 * never unregisters a name; tests sharing one process start clean). */
HOST_EXPORT void host_metrics_reset(void);

/* ---- In-process calls handed to the embedding server (forward.c). ---- */

struct host_infer_call;

/* From now on TRITONSERVER_ServerInferAsync hands every call to the server
 * that embeds the host (`deno task serve`'s model manager) instead of
 * running it on an idle instance: it queues an event the server reads. */
HOST_EXPORT void host_forward_start(void);
/* Stops forwarding: calls not yet read, and later ones, are answered with
 * UNAVAILABLE; host_forward_wait returns -1. Calls the server holds stay
 * its own to finish. */
HOST_EXPORT void host_forward_stop(void);
/* Waits up to timeout_ms for an event: 1 when one is queued, 0 when none
 * came, -1 once forwarding stopped. */
HOST_EXPORT int32_t host_forward_wait(uint32_t timeout_ms);
/* The next event as JSON, taken from the queue only when it fits in `cap`
 * (otherwise ask again with room for the returned length); 0 and "" when
 * none. {"kind":"call","call","request","model","version","id",
 * "correlation_id" or "correlation_id_string","flags","priority",
 * "timeout_us","inputs":[{"name","datatype","shape","buffers":[[address,
 * size]]}],"outputs","parameters":[{"key", one of "string","int","bool",
 * "double"}]} (addresses and 64-bit numbers as decimal strings), whose
 * "call" the server now holds until host_forward_done; or
 * {"kind":"cancel","call"}: the caller cancelled that call. */
HOST_EXPORT uint64_t host_forward_next(char* out, uint64_t cap);
/* Claims a call for an execute of its "request" (host_execute); 0 when it
 * was answered already (then it must not run). */
HOST_EXPORT int32_t host_forward_claim(struct host_infer_call* call);
/* Answers a call not claimed yet with an error (code: a
 * TRITONSERVER_Error_Code); 1 if answered, 0 if it was claimed or done. */
HOST_EXPORT int32_t host_forward_answer(struct host_infer_call* call, uint32_t code, const char* message);
/* The server is done with a call (its execute, if any, returned): a call
 * that nothing answered and no execute took is answered with this error
 * (code, message: why it did not run); the request is freed once the call
 * is also complete. */
HOST_EXPORT void host_forward_done(struct host_infer_call* call, uint32_t code,
                                   const char* message);

/* Answering a call from the server itself, for a model it runs without a
 * backend (an ensemble; forward_respond.c): once host_forward_claim
 * returned 1, a response on the call's "request", its outputs (bytes
 * copied), then host_forward_response_send, which sends it (FINAL, for a
 * decoupled model's caller too) and releases the request, running the
 * caller's callbacks on this thread. NULL or -1 (with the reason in
 * error_text) when a step fails; host_forward_response_delete drops a
 * response that will not be sent. */
HOST_EXPORT TRITONBACKEND_Response* host_forward_response_new(TRITONBACKEND_Request* request);
HOST_EXPORT int32_t host_forward_response_output(TRITONBACKEND_Response* response,
                                                 const char* name, uint32_t datatype,
                                                 const int64_t* shape, uint32_t rank,
                                                 const void* data, uint64_t byte_size,
                                                 char* error_text, uint32_t error_cap);
HOST_EXPORT void host_forward_response_delete(TRITONBACKEND_Response* response);
HOST_EXPORT int32_t host_forward_response_send(TRITONBACKEND_Response* response);

/* ---- The stand-in server's model configurations. ---- */

/* The stand-in's stand-in for Triton's own config parser. The stand-in
 * also implements Triton's server API (TRITONSERVER_ServerOptions*,
 * TRITONSERVER_ServerNew, ...: runtime/core/ drives it as it drives
 * libtritonserver.so), but it cannot read config.pbtxt (protobuf text
 * format). Its driver registers Triton's JSON form of each model's
 * configuration here instead, before TRITONSERVER_ServerNew and before
 * each TRITONSERVER_ServerLoadModel; runtime/core/server.ts does so for
 * every model directory of the repository when the core exports this
 * function (Triton's does not).
 *
 * config_json: the configuration; or NULL with `problem`, why it could not
 * be read (e.g. a config.pbtxt syntax error), which becomes the model's
 * load error; both NULL forget the model's registration. Registering again
 * replaces. A model without a registration does not load, saying so.
 * Returns 0, or -1 for bad arguments or malformed JSON. */
HOST_EXPORT int32_t host_repository_set_config(const char* repository, const char* model_name,
                                               const char* config_json, const char* problem);

#endif /* HOST_API_H */
