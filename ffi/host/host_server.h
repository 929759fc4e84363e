/*
 * host_server.h: the server-side objects a backend uses beyond executing
 * requests: in-process inference (BLS) requests and responses, response
 * allocators, parameters, the registry of loaded models that in-process
 * inference and model control look names up in, and custom metrics.
 * Nothing here is exported from libtriton_host.so.
 *
 * These objects are not checked by a magic number but by membership in a
 * set of live handles (handle_set.c): a deleted handle is never read, so a
 * double delete is counted as a violation without touching freed memory.
 */
#ifndef HOST_SERVER_H
#define HOST_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "host_internal.h"
#include "host_types.h"

/* ---- Live handle sets (handle_set.c). ---- */

typedef enum host_handle_kind {
  HOST_HANDLE_INFER_REQUEST = 0,
  HOST_HANDLE_INFER_RESPONSE,
  HOST_HANDLE_ALLOCATOR,
  HOST_HANDLE_PARAMETER,
  HOST_HANDLE_METRIC_FAMILY,
  HOST_HANDLE_METRIC,
  HOST_HANDLE_METRIC_ARGS,
  HOST_HANDLE_KIND_COUNT
} host_handle_kind;

/* Registers a new live handle (and counts it as a live object). */
void host_handle_add(host_handle_kind kind, const void* handle);
/* True if the handle is live; otherwise records a bad_handle violation
 * naming 'api'. */
bool host_handle_check(host_handle_kind kind, const void* handle, const char* api);
/* Unregisters a handle before it is freed. Returns false, and records a
 * deleted_twice (or bad_handle) violation naming 'api', if it was not
 * live. */
bool host_handle_remove(host_handle_kind kind, const void* handle, const char* api);

/* ---- Parameters (parameter.c). ---- */

struct TRITONSERVER_Parameter {
  char* name;
  TRITONSERVER_ParameterType type;
  char* string_value; /* STRING only */
  int64_t int_value;
  bool bool_value;
  double double_value;
  const void* bytes; /* BYTES only: the caller's, not copied (as Triton) */
  uint64_t byte_size;
};

/* ---- Response allocators (allocator.c). ---- */

struct TRITONSERVER_ResponseAllocator {
  TRITONSERVER_ResponseAllocatorAllocFn_t alloc_fn;
  TRITONSERVER_ResponseAllocatorReleaseFn_t release_fn;
  TRITONSERVER_ResponseAllocatorStartFn_t start_fn;
  TRITONSERVER_ResponseAllocatorQueryFn_t query_fn;
  /* In-flight requests and live responses that will still call it. */
  uint32_t users;
  bool deleted; /* deleted while in use: freed when the last user ends */
};

/* Pins an allocator for a request or response that will call it. */
void host_allocator_use(TRITONSERVER_ResponseAllocator* allocator);
/* Ends a use; frees an allocator deleted in the meantime. */
void host_allocator_unuse(TRITONSERVER_ResponseAllocator* allocator);

/* ---- In-process inference requests (infer_request.c). ---- */

/* One buffer appended to an input; the caller keeps ownership. */
typedef struct host_input_buffer {
  const void* base;
  uint64_t byte_size;
  TRITONSERVER_MemoryType memory_type;
  int64_t memory_type_id;
} host_input_buffer;

typedef struct host_infer_input {
  char* name;
  TRITONSERVER_DataType datatype;
  int64_t* shape;
  uint32_t rank;
  uint32_t buffer_count;
  host_input_buffer* buffers;
} host_infer_input;

struct TRITONSERVER_InferenceRequest {
  pthread_mutex_t lock; /* guards every field: the caller may use any thread */
  char* model_name;
  int64_t model_version; /* as requested: -1 = the latest ready version */
  char* id;
  uint32_t flags;
  bool correlation_id_is_string;
  uint64_t correlation_id;
  char* correlation_id_string;
  uint64_t timeout_us;
  uint64_t priority;
  uint32_t input_count;
  host_infer_input* inputs;
  uint32_t requested_output_count;
  char** requested_outputs;
  uint32_t parameter_count;
  host_parameter* parameters;
  TRITONSERVER_InferenceRequestReleaseFn_t release_fn;
  void* release_userp;
  TRITONSERVER_ResponseAllocator* allocator;
  void* allocator_userp;
  TRITONSERVER_InferenceResponseCompleteFn_t response_fn;
  void* response_userp;
  /* Between a successful ServerInferAsync and the release callback the
   * server owns the request. */
  bool in_flight;
  /* The latest submission, kept so Cancel reaches it (one reference). */
  struct host_infer_call* call;
};

/* ---- Responses (infer_response.c). ---- */

typedef struct host_infer_output {
  char* name;
  TRITONSERVER_DataType datatype;
  int64_t* shape;
  uint32_t rank;
  void* base; /* from the caller's allocator */
  uint64_t byte_size;
  TRITONSERVER_MemoryType memory_type;
  int64_t memory_type_id;
  void* buffer_userp;
  bool allocated; /* alloc_fn succeeded: release_fn is owed */
} host_infer_output;

struct TRITONSERVER_InferenceResponse {
  char* model_name;
  int64_t model_version;
  char* id;
  TRITONSERVER_Error* error; /* held by the response */
  uint32_t output_count;
  host_infer_output* outputs;
  uint32_t parameter_count;
  host_response_parameter* parameters;
  TRITONSERVER_ResponseAllocator* allocator;
};

/* Builds the caller's view of one response the backend sent: outputs are
 * placed with the allocator (start_fn, then alloc_fn per output) and the
 * bytes copied there; parameters and the error are moved from 'record'. */
TRITONSERVER_InferenceResponse* host_infer_response_build(struct host_infer_call* call,
                                                          host_sent_response* record);

/* ---- Calls: one ServerInferAsync submission (infer_call.c). ---- */

struct host_model_entry;

typedef struct host_infer_call {
  pthread_mutex_t lock;         /* complete and backend_request, for Cancel */
  pthread_mutex_t deliver_lock; /* serializes delivery, completion and abandonment */
  _Atomic uint32_t refs;
  struct host_model_entry* entry; /* pinned until complete */
  TRITONBACKEND_Model* model;
  char* model_name;
  int64_t model_version; /* the version that runs it */
  char* request_id;
  TRITONSERVER_InferenceRequest* request; /* not touched after the release callback */
  TRITONBACKEND_Request* backend_request; /* NULL once complete */
  TRITONSERVER_ResponseAllocator* allocator;
  void* allocator_userp;
  TRITONSERVER_InferenceResponseCompleteFn_t response_fn;
  void* response_userp;
  TRITONSERVER_InferenceRequestReleaseFn_t release_fn;
  void* release_userp;
  uint32_t delivered;                    /* records already handed over (deliver_lock) */
  bool final_delivered;                  /* (deliver_lock) */
  bool release_reported;                 /* (deliver_lock) */
  bool executed;                         /* (deliver_lock) handed to an instance, or answered */
  bool complete;                         /* (lock; written under deliver_lock too) */
  struct host_infer_call* next_in_entry; /* (registry lock) */
  /* Handed to the embedding server (forward.c) instead of run here: no
   * registry entry; the backend request lives until both the call is
   * complete and the server is done with it. */
  bool forwarded;
  bool forward_done;                       /* (lock) the server let go */
  TRITONBACKEND_Request* forward_request;  /* (lock) complete, kept for the server */
} host_infer_call;

/* For a request made by ServerInferAsync: a reference to its call, taken
 * while the request is surely alive (before an event that may finish it).
 * NULL for other requests. */
host_infer_call* host_infer_call_acquire(TRITONBACKEND_Request* request);
/* Delivers what the backend sent since the last progress, reports the
 * release, finishes the call when nothing more can come, then drops the
 * reference. Never call with a request's lock held. NULL is a no-op. */
void host_infer_call_progress(host_infer_call* call);
void host_infer_call_unref(host_infer_call* call);
/* Answers a call whose model is being unloaded and that never ran, or
 * gives up on one that ran but never finished (counted as abandoned). */
void host_infer_call_abandon(host_infer_call* call);
/* Answers a call with `error` (a FINAL error response and the release, as
 * the server answers a request it refuses) if it was not claimed for an
 * instance, or with `claimed_too` if it was but no execute took it (one
 * that refused it); false, and nothing done, otherwise. Not while an
 * execute of the call may still start. */
bool host_infer_call_answer(host_infer_call* call, TRITONSERVER_Error* error, bool claimed_too);
/* Marks a call as handed to an instance (or answered); false if it already was. */
bool host_infer_call_claim(host_infer_call* call);

/* ---- Calls handed to the embedding server (forward.c). ---- */

/* Whether ServerInferAsync hands calls to the embedding server. */
bool host_forward_active(void);
/* The event describing a new call (JSON, malloc'ed); called with the
 * caller's request lock held. */
char* host_forward_describe(const TRITONSERVER_InferenceRequest* from, host_infer_call* call,
                            TRITONBACKEND_Request* request);
/* Queues a call for the server, which takes over the call's worker
 * reference; answered at once if forwarding stopped meanwhile. */
void host_forward_submit(host_infer_call* call, char* event);
/* Tells the server that the caller cancelled a queued call. */
void host_forward_cancel(host_infer_call* call);
/* The call is complete: its backend request is freed now, or when the
 * server is done with it. */
void host_forward_complete(host_infer_call* call, TRITONBACKEND_Request* request);

/* TRITONBACKEND_RequestOutputBufferProperties for such a request: asks the
 * caller's allocator (query_fn) when it has one. Returns false if not. */
bool host_infer_call_query(host_infer_call* call, const char* name, size_t* byte_size,
                           TRITONSERVER_MemoryType* memory_type, int64_t* memory_type_id,
                           TRITONSERVER_Error** error);

/* ---- Registry of loaded models (model_registry.c). ---- */

typedef struct host_model_entry {
  struct host_model_entry* next;
  TRITONBACKEND_Model* model;
  char* name;
  uint64_t version;
  bool ready;        /* found by name; false once an unload began */
  bool server_owned; /* loaded by TRITONSERVER_ServerLoadModel */
  bool unloading;    /* a server unload is under way */
  bool abort_calls;  /* unload gave up waiting: calls not yet run are answered */
  uint32_t pins;     /* calls not yet complete */
  uint32_t running;  /* executes the host runs for those calls */
  uint32_t workers;  /* threads of those calls not yet finished with the entry */
  host_infer_call* calls;
  uint32_t retired_count; /* finished backend requests kept for use-after-release checks */
  TRITONBACKEND_Request** retired;
} host_model_entry;

/* Called by host_model_load and host_model_unload (model.c). */
void host_registry_add(TRITONBACKEND_Model* model);
/* Makes the model unreachable by name, waits (bounded) for its in-flight
 * calls, and frees what the registry kept for it. */
void host_registry_forget(TRITONBACKEND_Model* model);

/* Finds the model for a request and pins it for a new call (a lookup only
 * when 'call' is NULL); an error worded as Triton's if there is no such
 * ready model. */
TRITONSERVER_Error* host_registry_pin(const char* name, int64_t version, host_infer_call* call);
/* Ends a call's pin; keeps its finished backend request for a while. */
void host_registry_unpin(host_infer_call* call, TRITONBACKEND_Request* finished);
/* Lookup without pinning. */
bool host_registry_is_ready(const char* name, int64_t version);
/* The ready model for (name, version), held (an unload waits for it)
 * until host_registry_unhold; NULL if there is none. */
TRITONBACKEND_Model* host_registry_hold(const char* name, int64_t version);
void host_registry_unhold(TRITONBACKEND_Model* model);
/* Triton's model readiness beyond its state: every instance answers
 * TRITONBACKEND_ModelInstanceReady without an error (when the backend
 * implements it). An error is logged as the reason (model.c). */
bool host_model_instances_ready(TRITONBACKEND_Model* model);
/* Waits for an idle instance of the call's model and claims it (its
 * execute lock is held on return). NULL if the model is being unloaded
 * and gave up on this call. */
TRITONBACKEND_ModelInstance* host_registry_claim_instance(host_infer_call* call);
void host_registry_release_instance(host_infer_call* call, TRITONBACKEND_ModelInstance* instance);
/* The call's thread is done with its entry. */
void host_registry_worker_done(host_infer_call* call);
/* Wakes callers waiting for an idle instance (execute.c). */
void host_registry_instance_idle(void);
/* Marks every version of 'name' (but 'keep') not ready; returns the
 * server-owned models among them, which the caller unloads, in a malloc'ed
 * array. */
uint32_t host_registry_retire_name(const char* name, TRITONBACKEND_Model* keep,
                                   TRITONBACKEND_Model*** owned);
void host_registry_set_server_owned(TRITONBACKEND_Model* model);
/* Server-owned models of a backend, for its unload (malloc'ed array). */
uint32_t host_registry_owned_by(TRITONBACKEND_Backend* backend, TRITONBACKEND_Model*** owned);
/* True when no call is in flight. */
bool host_registry_idle(void);
uint64_t host_registry_json(char* out, uint64_t cap);

/* ---- Model control (model_control.c). ---- */

/* Unloads the backend's server-owned models and waits for background
 * unloads, before the backend itself is finalized (backend.c). */
void host_model_control_drain(TRITONBACKEND_Backend* backend);
/* The background unloads still running. */
uint32_t host_model_control_pending(void);

/* ---- Execution (execute.c). ---- */

/* host_execute for a caller that already holds instance->execute_lock. */
int32_t host_execute_locked(TRITONBACKEND_ModelInstance* instance,
                            TRITONBACKEND_Request* const* requests, uint32_t count,
                            char* error_text, uint32_t error_cap);
/* The server's answer to requests it takes back: a FINAL error response
 * (unless one was sent) and the release. */
void host_requests_take_back(TRITONBACKEND_Request* const* requests, uint32_t count,
                             TRITONSERVER_Error* error);

/* ---- Requests (request_builder.c). ---- */

/* Adds an input whose buffers stay owned by the caller. */
void host_request_add_input_borrowed(TRITONBACKEND_Request* request, const char* name,
                                     TRITONSERVER_DataType datatype, const int64_t* shape,
                                     uint32_t rank, const host_input_buffer* buffers,
                                     uint32_t buffer_count);

/* ---- Model configuration (config_outputs.c). ---- */

/* The names in the configuration's "output" array, malloc'ed (array and
 * strings); *count receives their number. */
char** host_config_output_names(const char* json, size_t length, uint32_t* count);

/* ---- The server handle (model.c). ---- */

TRITONSERVER_Server* host_server(void);
/* Checks a TRITONSERVER_Server* argument; records bad_handle if wrong. */
bool host_server_check(TRITONSERVER_Server* server, const char* api);

/* ---- Response parameters (response.c). ---- */

void host_response_parameters_free(host_response_parameter* parameters, uint32_t count);

#endif /* HOST_SERVER_H */
