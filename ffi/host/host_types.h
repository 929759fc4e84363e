/*
 * host_types.h: the objects behind the opaque Triton handles, as the test
 * host (a stand-in for Triton's core) defines them.
 *
 * Every object starts with a magic number so that a handle the backend
 * passes back can be checked before it is trusted: a wrong or freed handle
 * is counted as a violation and answered with an error instead of a crash
 * where that is possible.
 *
 * Lifetimes follow Triton's: backend > model > instance; a request lives
 * until the test frees it (long after the backend released it, so that the
 * host can detect use after release without undefined behaviour); a
 * response lives until it is sent or deleted, and its outputs then move
 * into the request's record of sent responses.
 */
#ifndef HOST_TYPES_H
#define HOST_TYPES_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "triton_api.h"

#define HOST_MAGIC_ERROR 0x45525231u    /* "ERR1" */
#define HOST_MAGIC_MESSAGE 0x4d534731u  /* "MSG1" */
#define HOST_MAGIC_BACKEND 0x424b4e31u  /* "BKN1" */
#define HOST_MAGIC_MODEL 0x4d444c31u    /* "MDL1" */
#define HOST_MAGIC_INSTANCE 0x494e5331u /* "INS1" */
#define HOST_MAGIC_REQUEST 0x52455131u  /* "REQ1" */
#define HOST_MAGIC_INPUT 0x494e5031u    /* "INP1" */
#define HOST_MAGIC_RESPONSE 0x52535031u /* "RSP1" */
#define HOST_MAGIC_OUTPUT 0x4f555431u   /* "OUT1" */
#define HOST_MAGIC_FACTORY 0x46414331u  /* "FAC1" */
#define HOST_MAGIC_DEAD 0xdeadbeefu     /* written into freed objects */

struct TRITONSERVER_Error {
  uint32_t magic;
  TRITONSERVER_Error_Code code;
  char* message;
  /* Returned by TRITONSERVER_InferenceResponseError: the response owns it,
   * so the caller must not delete it (infer_response.c). */
  bool held_by_response;
};

struct TRITONSERVER_Message {
  uint32_t magic;
  char* json; /* NUL-terminated copy; byte_size excludes the NUL */
  size_t byte_size;
  bool counted; /* a live object for leak accounting (not one the host keeps) */
};

/* Triton's BufferAttributes: where one buffer lives. */
struct TRITONSERVER_BufferAttributes {
  TRITONSERVER_MemoryType memory_type;
  int64_t memory_type_id;
  uint64_t byte_size;
};

typedef TRITONSERVER_Error* (*host_backend_fn)(TRITONBACKEND_Backend*);
typedef TRITONSERVER_Error* (*host_model_fn)(TRITONBACKEND_Model*);
typedef TRITONSERVER_Error* (*host_instance_fn)(TRITONBACKEND_ModelInstance*);
typedef TRITONSERVER_Error* (*host_execute_fn)(TRITONBACKEND_ModelInstance*,
                                               TRITONBACKEND_Request**,
                                               const uint32_t);

struct TRITONBACKEND_Backend {
  uint32_t magic;
  char* name;
  char* directory;
  char* library_path;
  void* library;                /* dlopen handle of the backend */
  TRITONSERVER_Message* config; /* owned by the backend object, as in Triton */
  void* state;
  TRITONBACKEND_ExecutionPolicy execution_policy;
  uint32_t loaded_models; /* guarded by the host-wide model lock */
  host_backend_fn initialize;
  host_backend_fn finalize;
  host_model_fn model_initialize;
  host_model_fn model_finalize;
  host_instance_fn instance_initialize;
  host_instance_fn instance_finalize;
  host_execute_fn instance_execute;
  host_instance_fn instance_ready; /* optional: TRITONBACKEND_ModelInstanceReady */
  /* Set through TRITONBACKEND_GetBackendAttribute: a model's instances
   * initialize on a thread each, as Triton does for such a backend. */
  bool parallel_instance_loading;
};

/* What TRITONBACKEND_GetBackendAttribute fills in (the part the host uses). */
struct TRITONBACKEND_BackendAttribute {
  bool parallel_instance_loading;
};

/* Per-instance statistics, as reported by the backend. */
typedef struct host_instance_stats {
  uint64_t execute_calls;        /* host_execute calls on this instance */
  uint64_t request_success;      /* ReportStatistics(success = true) */
  uint64_t request_failure;      /* ReportStatistics(success = false) */
  uint64_t batch_reports;        /* ReportBatchStatistics calls */
  uint64_t batch_size_total;     /* sum of reported batch sizes */
  uint64_t last_batch_size;
  uint64_t last_request_ns[4];   /* exec start, compute start, compute end, exec end */
  uint64_t last_batch_ns[4];
} host_instance_stats;

struct TRITONBACKEND_ModelInstance {
  uint32_t magic;
  TRITONBACKEND_Model* model;
  char* name;
  uint32_t index;
  TRITONSERVER_InstanceGroupKind kind;
  int32_t device_id;
  void* state;
  bool initialized;
  /* Triton never runs two executes on one instance at once. */
  pthread_mutex_t execute_lock;
  pthread_mutex_t stats_lock;
  host_instance_stats stats;
};

struct TRITONBACKEND_Model {
  uint32_t magic;
  TRITONBACKEND_Backend* backend;
  char* name;
  uint64_t version;
  char* repository;
  bool auto_complete_config;
  void* state;
  pthread_mutex_t config_lock;
  TRITONSERVER_Message* config; /* current configuration JSON */
  uint32_t instance_count;
  TRITONBACKEND_ModelInstance** instances;
  /* Loaded by the stand-in server (ServerNew, ServerLoadModel): its
   * parsed configuration, scheduler and statistics (host_core.h). NULL for
   * a model a test loaded with host_model_load. */
  struct host_model_runtime* runtime;
};

/* One buffer of an input tensor. */
typedef struct host_buffer {
  const void* data;
  struct TRITONSERVER_BufferAttributes attributes;
} host_buffer;

struct TRITONBACKEND_Input {
  uint32_t magic;
  TRITONBACKEND_Request* request;
  char* name;
  TRITONSERVER_DataType datatype;
  int64_t* shape;
  uint32_t rank;
  uint64_t byte_size;
  uint32_t buffer_count;
  host_buffer* buffers;
  bool owns_data; /* false for bench clones that share a template's buffers */
};

/* A parameter's typed value, stored the way Triton's parameter getters
 * hand it out (host_typed_value_pointer). */
typedef struct host_typed_value {
  TRITONSERVER_ParameterType type;
  char* string_value;
  int64_t int_value;
  bool bool_value;
  double double_value;
} host_typed_value;

/* A request parameter (TRITONBACKEND_RequestParameter). */
typedef struct host_parameter {
  char* key;
  host_typed_value value;
} host_parameter;

/* A response parameter set by the backend: its value as JSON text for the
 * tests, and typed for TRITONSERVER_InferenceResponseParameter (its
 * string_value NULL unless STRING). */
typedef struct host_response_parameter {
  char* name;
  char* json_value;
  host_typed_value value;
} host_response_parameter;

struct TRITONBACKEND_Output {
  uint32_t magic;
  TRITONBACKEND_Request* request; /* whose response it belongs to */
  char* name;
  TRITONSERVER_DataType datatype;
  int64_t* shape;
  uint32_t rank;
  void* buffer; /* CPU memory owned by the response, then by the record */
  uint64_t byte_size;
  bool has_buffer;
  struct TRITONSERVER_BufferAttributes attributes;
};

/* What the host recorded for one response the backend sent. */
typedef struct host_sent_response {
  bool flags_only; /* ResponseFactorySendFlags: no response object, only flags */
  bool has_error;
  TRITONSERVER_Error_Code error_code;
  char* error_message;
  uint32_t flags;
  uint64_t sent_ns;
  uint32_t output_count;
  TRITONBACKEND_Output** outputs;
  uint32_t parameter_count;
  host_response_parameter* parameters;
} host_sent_response;

struct TRITONBACKEND_Request {
  uint32_t magic;
  char* id;
  bool correlation_id_is_string;
  uint64_t correlation_id;
  char* correlation_id_string;
  uint32_t flags;
  uint64_t timeout_us;
  uint32_t input_count; /* inputs sorted by name, as Triton's std::map */
  TRITONBACKEND_Input** inputs;
  uint32_t requested_output_count; /* sorted and unique, as Triton's std::set */
  char** requested_outputs;
  uint32_t parameter_count;
  host_parameter* parameters;

  /* Everything below changes while the backend works; guarded by lock. */
  pthread_mutex_t lock;
  bool cancelled;
  bool executed;
  TRITONBACKEND_ModelInstance* instance;
  /* The instance's name, copied when it took the request: the instance may
   * be gone (its model unloaded) by the time the result is read. */
  char* instance_name;
  uint32_t release_count;
  uint32_t release_flags;
  bool released_by_host; /* Execute failed and the host took the request back */
  uint32_t reschedules;  /* releases with RESCHEDULE: turns given back for another execute */
  uint32_t stats_reports;
  bool stats_success;
  uint32_t live_responses; /* created, not yet sent or deleted */
  uint32_t live_factories;
  bool final_sent;
  uint64_t submit_ns;
  uint64_t final_ns;
  uint32_t response_count;
  uint32_t response_capacity;
  host_sent_response* responses;

  /* Set (once, before execute) for a request made with
   * TRITONSERVER_ServerInferAsync: its responses go to that caller. */
  struct host_infer_call* call;

  /* Outputs whose buffers the backend is told are in GPU memory
   * (host_request_place_in_gpu); the memory is the host's. */
  uint32_t gpu_output_count;
  char** gpu_outputs;
  int64_t* gpu_output_devices;
};

struct TRITONBACKEND_Response {
  uint32_t magic;
  TRITONBACKEND_Request* request;
  uint32_t output_count;
  uint32_t output_capacity;
  TRITONBACKEND_Output** outputs;
  uint32_t parameter_count;
  uint32_t parameter_capacity;
  host_response_parameter* parameters;
};

struct TRITONBACKEND_ResponseFactory {
  uint32_t magic;
  TRITONBACKEND_Request* request;
};

#endif /* HOST_TYPES_H */
