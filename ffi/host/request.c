/*
 * request.c: the TRITONBACKEND_Request and TRITONBACKEND_Input services the
 * backend calls during execute, and release.
 *
 * Inputs are kept sorted by name and requested outputs sorted and unique,
 * because Triton keeps them in a std::map and a std::set: index i means the
 * same thing here as in the server. A request stays allocated after its
 * release (the test frees it), so any later use is detected and counted
 * rather than being undefined behaviour.
 */
#include <errno.h>
#include <string.h>

#include "host_api.h"
#include "host_internal.h"
#include "host_server.h"

static pthread_mutex_t host_done_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t host_done_cond = PTHREAD_COND_INITIALIZER;
static uint64_t host_done_generation;

void host_request_signal(void) {
  pthread_mutex_lock(&host_done_lock);
  host_done_generation++;
  pthread_cond_broadcast(&host_done_cond);
  pthread_mutex_unlock(&host_done_lock);
}

static bool host_request_done(TRITONBACKEND_Request* request, void* context) {
  (void)context;
  pthread_mutex_lock(&request->lock);
  /* A RESCHEDULE release ends the turn: the caller executes it again. */
  bool done = request->release_count > 0 &&
              (request->final_sent ||
               (request->release_flags & TRITONSERVER_REQUEST_RELEASE_RESCHEDULE) != 0);
  pthread_mutex_unlock(&request->lock);
  return done;
}

bool host_request_wait_until(TRITONBACKEND_Request* request, host_request_predicate ready,
                             void* context, uint32_t timeout_ms) {
  /* A look without a wait takes no lock but the request's: serve looks at
   * every open stream on each event, from its event loop. */
  if (timeout_ms == 0) return ready(request, context);
  const struct timespec deadline = host_deadline_in(timeout_ms);
  pthread_mutex_lock(&host_done_lock);
  for (;;) {
    uint64_t generation = host_done_generation;
    pthread_mutex_unlock(&host_done_lock);
    if (ready(request, context)) return true;
    pthread_mutex_lock(&host_done_lock);
    while (host_done_generation == generation) {
      if (pthread_cond_timedwait(&host_done_cond, &host_done_lock, &deadline) == ETIMEDOUT) {
        pthread_mutex_unlock(&host_done_lock);
        return ready(request, context);
      }
    }
  }
}

uint64_t host_request_generation(void) {
  pthread_mutex_lock(&host_done_lock);
  uint64_t generation = host_done_generation;
  pthread_mutex_unlock(&host_done_lock);
  return generation;
}

uint64_t host_request_wait_change(uint64_t since, uint32_t timeout_ms) {
  const struct timespec deadline = host_deadline_in(timeout_ms);
  pthread_mutex_lock(&host_done_lock);
  while (host_done_generation == since) {
    if (pthread_cond_timedwait(&host_done_cond, &host_done_lock, &deadline) == ETIMEDOUT) break;
  }
  uint64_t generation = host_done_generation;
  pthread_mutex_unlock(&host_done_lock);
  return generation;
}

bool host_request_wait_done(TRITONBACKEND_Request* request, uint32_t timeout_ms) {
  return host_request_wait_until(request, host_request_done, NULL, timeout_ms);
}

bool host_request_note_use(TRITONBACKEND_Request* request, const char* api) {
  pthread_mutex_lock(&request->lock);
  bool released = request->release_count > 0;
  pthread_mutex_unlock(&request->lock);
  if (released) {
    host_violation_record(HOST_VIOLATION_REQUEST_USED_AFTER_RELEASE, "%s on request '%s'", api,
                          request->id);
  }
  return released;
}

#define HOST_CHECK_REQUEST(request, out, api)                                              \
  do {                                                                                     \
    if (!host_check_magic((request), HOST_MAGIC_REQUEST, "request") || (out) == NULL) {    \
      return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid request or NULL out"); \
    }                                                                                      \
    host_request_note_use((request), (api));                                               \
  } while (0)

TRITONSERVER_Error* TRITONBACKEND_RequestId(TRITONBACKEND_Request* request, const char** id) {
  HOST_CHECK_REQUEST(request, id, "RequestId");
  *id = request->id;
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_RequestCorrelationId(TRITONBACKEND_Request* request,
                                                       uint64_t* id) {
  HOST_CHECK_REQUEST(request, id, "RequestCorrelationId");
  if (request->correlation_id_is_string) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                          "[request id: %s] correlation ID in request is not an unsigned int",
                          request->id);
  }
  *id = request->correlation_id;
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_RequestCorrelationIdString(TRITONBACKEND_Request* request,
                                                             const char** id) {
  HOST_CHECK_REQUEST(request, id, "RequestCorrelationIdString");
  if (!request->correlation_id_is_string) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                          "[request id: %s] correlation ID in request is not a string",
                          request->id);
  }
  *id = request->correlation_id_string;
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_RequestFlags(TRITONBACKEND_Request* request,
                                               uint32_t* flags) {
  HOST_CHECK_REQUEST(request, flags, "RequestFlags");
  *flags = request->flags;
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_InferenceRequestTimeoutMicroseconds(
    TRITONBACKEND_Request* request, uint64_t* timeout) {
  HOST_CHECK_REQUEST(request, timeout, "InferenceRequestTimeoutMicroseconds");
  *timeout = request->timeout_us;
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_RequestIsCancelled(TRITONBACKEND_Request* request,
                                                     bool* is_cancelled) {
  HOST_CHECK_REQUEST(request, is_cancelled, "RequestIsCancelled");
  pthread_mutex_lock(&request->lock);
  *is_cancelled = request->cancelled;
  pthread_mutex_unlock(&request->lock);
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_RequestInputCount(TRITONBACKEND_Request* request,
                                                    uint32_t* count) {
  HOST_CHECK_REQUEST(request, count, "RequestInputCount");
  *count = request->input_count;
  return NULL;
}

static TRITONSERVER_Error* host_index_error(TRITONBACKEND_Request* request, uint32_t index,
                                            uint32_t count, const char* what) {
  return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                        "[request id: %s] out of bounds index %u: request has %u %s",
                        request->id, index, count, what);
}

TRITONSERVER_Error* TRITONBACKEND_RequestInputName(TRITONBACKEND_Request* request,
                                                   const uint32_t index,
                                                   const char** input_name) {
  HOST_CHECK_REQUEST(request, input_name, "RequestInputName");
  *input_name = NULL;
  if (index >= request->input_count) {
    return host_index_error(request, index, request->input_count, "inputs");
  }
  *input_name = request->inputs[index]->name;
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_RequestInput(TRITONBACKEND_Request* request, const char* name,
                                               TRITONBACKEND_Input** input) {
  HOST_CHECK_REQUEST(request, input, "RequestInput");
  *input = NULL;
  for (uint32_t i = 0; name != NULL && i < request->input_count; i++) {
    if (strcmp(request->inputs[i]->name, name) == 0) {
      *input = request->inputs[i];
      return NULL;
    }
  }
  return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                        "[request id: %s] unknown request input name %s", request->id,
                        name == NULL ? "(null)" : name);
}

TRITONSERVER_Error* TRITONBACKEND_RequestInputByIndex(TRITONBACKEND_Request* request,
                                                      const uint32_t index,
                                                      TRITONBACKEND_Input** input) {
  HOST_CHECK_REQUEST(request, input, "RequestInputByIndex");
  if (index >= request->input_count) {
    return host_index_error(request, index, request->input_count, "inputs");
  }
  *input = request->inputs[index];
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_RequestOutputCount(TRITONBACKEND_Request* request,
                                                     uint32_t* count) {
  HOST_CHECK_REQUEST(request, count, "RequestOutputCount");
  *count = request->requested_output_count;
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_RequestOutputName(TRITONBACKEND_Request* request,
                                                    const uint32_t index,
                                                    const char** output_name) {
  HOST_CHECK_REQUEST(request, output_name, "RequestOutputName");
  *output_name = NULL;
  if (index >= request->requested_output_count) {
    return host_index_error(request, index, request->requested_output_count,
                            "requested outputs");
  }
  *output_name = request->requested_outputs[index];
  return NULL;
}

/* The host's response allocator always answers CPU memory; an in-process
 * caller's allocator answers through its query function, if it has one. */
TRITONSERVER_Error* TRITONBACKEND_RequestOutputBufferProperties(
    TRITONBACKEND_Request* request, const char* name, size_t* byte_size,
    TRITONSERVER_MemoryType* memory_type, int64_t* memory_type_id) {
  HOST_CHECK_REQUEST(request, memory_type, "RequestOutputBufferProperties");
  host_infer_call* call = host_infer_call_acquire(request);
  if (call != NULL) {
    TRITONSERVER_Error* error = NULL;
    bool answered =
        host_infer_call_query(call, name, byte_size, memory_type, memory_type_id, &error);
    host_infer_call_unref(call);
    if (answered) return error;
  }
  *memory_type = TRITONSERVER_MEMORY_CPU;
  if (memory_type_id != NULL) *memory_type_id = 0;
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_RequestParameterCount(TRITONBACKEND_Request* request,
                                                        uint32_t* count) {
  HOST_CHECK_REQUEST(request, count, "RequestParameterCount");
  *count = request->parameter_count;
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_RequestParameter(TRITONBACKEND_Request* request,
                                                   const uint32_t index, const char** key,
                                                   TRITONSERVER_ParameterType* type,
                                                   const void** vvalue) {
  HOST_CHECK_REQUEST(request, key, "RequestParameter");
  if (type == NULL || vvalue == NULL) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "NULL out-pointer");
  }
  if (index >= request->parameter_count) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                          "out of bounds index %u: request has %u parameters", index,
                          request->parameter_count);
  }
  const host_parameter* parameter = &request->parameters[index];
  *key = parameter->key;
  *type = parameter->value.type;
  *vvalue = host_typed_value_pointer(&parameter->value);
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_RequestRelease(TRITONBACKEND_Request* request,
                                                 uint32_t release_flags) {
  if (!host_check_magic(request, HOST_MAGIC_REQUEST, "request")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid request handle");
  }
  /* RESCHEDULE: the turn ends and whoever executes requests (the test or the
   * server through host_execute) executes it again. In-process requests
   * (TRITONSERVER_ServerInferAsync) are not rescheduled by this host. */
  if ((release_flags & TRITONSERVER_REQUEST_RELEASE_RESCHEDULE) != 0) {
    pthread_mutex_lock(&request->lock);
    bool in_process = request->call != NULL;
    pthread_mutex_unlock(&request->lock);
    if (in_process) {
      return host_error_new(TRITONSERVER_ERROR_UNSUPPORTED,
                            "the test host does not reschedule in-process requests");
    }
  }
  host_infer_call* call = host_infer_call_acquire(request);
  pthread_mutex_lock(&request->lock);
  bool twice = request->release_count > 0;
  request->release_count++;
  request->release_flags = release_flags;
  if ((release_flags & TRITONSERVER_REQUEST_RELEASE_RESCHEDULE) != 0) request->reschedules++;
  pthread_mutex_unlock(&request->lock);
  if (twice) {
    host_violation_record(HOST_VIOLATION_REQUEST_RELEASED_TWICE, "request '%s'", request->id);
    host_infer_call_unref(call);
    return host_error_new(TRITONSERVER_ERROR_INTERNAL, "request '%s' was already released",
                          request->id);
  }
  host_request_signal();
  /* An in-process caller's release callback runs here, as in Triton. */
  host_infer_call_progress(call);
  return NULL;
}

/* ---- Inputs. ---- */

static bool host_input_usable(TRITONBACKEND_Input* input, const char* api) {
  if (!host_check_magic(input, HOST_MAGIC_INPUT, "input")) return false;
  host_request_note_use(input->request, api);
  return true;
}

static void host_input_properties(TRITONBACKEND_Input* input, const char** name,
                                  TRITONSERVER_DataType* datatype, const int64_t** shape,
                                  uint32_t* dims_count, uint64_t* byte_size,
                                  uint32_t* buffer_count) {
  if (name != NULL) *name = input->name;
  if (datatype != NULL) *datatype = input->datatype;
  if (shape != NULL) *shape = input->shape;
  if (dims_count != NULL) *dims_count = input->rank;
  if (byte_size != NULL) *byte_size = input->byte_size;
  if (buffer_count != NULL) *buffer_count = input->buffer_count;
}

TRITONSERVER_Error* TRITONBACKEND_InputProperties(TRITONBACKEND_Input* input, const char** name,
                                                  TRITONSERVER_DataType* datatype,
                                                  const int64_t** shape, uint32_t* dims_count,
                                                  uint64_t* byte_size, uint32_t* buffer_count) {
  if (!host_input_usable(input, "InputProperties")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid input handle");
  }
  host_input_properties(input, name, datatype, shape, dims_count, byte_size, buffer_count);
  return NULL;
}

/* The host has one (default) host policy. */
TRITONSERVER_Error* TRITONBACKEND_InputPropertiesForHostPolicy(
    TRITONBACKEND_Input* input, const char* host_policy_name, const char** name,
    TRITONSERVER_DataType* datatype, const int64_t** shape, uint32_t* dims_count,
    uint64_t* byte_size, uint32_t* buffer_count) {
  (void)host_policy_name;
  if (!host_input_usable(input, "InputPropertiesForHostPolicy")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid input handle");
  }
  host_input_properties(input, name, datatype, shape, dims_count, byte_size, buffer_count);
  return NULL;
}

/* The input handle and buffer index an InputBuffer getter ('api') was given. */
static TRITONSERVER_Error* host_input_buffer_check(TRITONBACKEND_Input* input, uint32_t index,
                                                   const char* api) {
  if (!host_input_usable(input, api)) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid input handle");
  }
  if (index >= input->buffer_count) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                          "buffer index %u out of range: input '%s' has %u buffers", index,
                          input->name, input->buffer_count);
  }
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_InputBuffer(TRITONBACKEND_Input* input, const uint32_t index,
                                              const void** buffer, uint64_t* buffer_byte_size,
                                              TRITONSERVER_MemoryType* memory_type,
                                              int64_t* memory_type_id) {
  if (buffer == NULL || buffer_byte_size == NULL || memory_type == NULL ||
      memory_type_id == NULL) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "NULL out-pointer");
  }
  *buffer = NULL;
  *buffer_byte_size = 0;
  TRITONSERVER_Error* error = host_input_buffer_check(input, index, "InputBuffer");
  if (error != NULL) return error;
  *buffer = input->buffers[index].data;
  *buffer_byte_size = input->buffers[index].attributes.byte_size;
  *memory_type = input->buffers[index].attributes.memory_type;
  *memory_type_id = input->buffers[index].attributes.memory_type_id;
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_InputBufferAttributes(
    TRITONBACKEND_Input* input, const uint32_t index, const void** buffer,
    TRITONSERVER_BufferAttributes** buffer_attributes) {
  if (buffer == NULL || buffer_attributes == NULL) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "NULL out-pointer");
  }
  *buffer = NULL;
  *buffer_attributes = NULL;
  TRITONSERVER_Error* error = host_input_buffer_check(input, index, "InputBufferAttributes");
  if (error != NULL) return error;
  *buffer = input->buffers[index].data;
  *buffer_attributes = &input->buffers[index].attributes;
  return NULL;
}
