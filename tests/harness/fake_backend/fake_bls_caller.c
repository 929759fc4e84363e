/*
 * fake_bls_caller.c: the "caller" role of the BLS test backend. The
 * request id names a scenario; request parameters configure it:
 *
 *   "sync"     runs "target" (version "target_version", default -1) with the
 *              caller's inputs (by reference), the outputs listed in
 *              "outputs" (comma-separated; none = all), id "inner_id",
 *              correlation id "inner_correlation" or
 *              "inner_correlation_string", flags "inner_flags", timeout
 *              "inner_timeout_us", and every "fwd_<key>" parameter as <key>;
 *              waits for the final response and the release, and answers
 *              with the last response's outputs and what it observed.
 *   "stream"   the same against a decoupled target: INT32 VALUES holds
 *              every response's OUT, "flags" lists the send flags.
 *   "cancel"   like "stream", cancelling after the first response.
 *   "unknown"  TRITONSERVER_InferenceRequestNew for "target".
 *   "errors"   the API's error paths (see fake_caller_errors).
 *   "async"    submits and returns at once; the outcome is kept for a
 *              later "async_result" (which waits for it) or "async_drop"
 *              (which does not).
 *   "unloaded" creates a request for "target", unloads the target by name,
 *              then submits.
 *   "control"  "action" load | unload | ready on "model" ("version").
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fake_bls.h"

#define FAKE_MAX_RESPONSES 256
#define FAKE_WAIT_SECONDS 20

typedef struct fake_call {
  pthread_mutex_t lock;
  pthread_cond_t changed;
  TRITONSERVER_InferenceResponse* responses[FAKE_MAX_RESPONSES];
  uint32_t flags[FAKE_MAX_RESPONSES];
  uint32_t count;
  bool final;
  bool released;
  uint32_t release_flags;
  uint32_t allocs;
  uint32_t releases;
  uint32_t starts;
  uint32_t queries;
  TRITONSERVER_InferenceRequest* cancel_after_first;
  /* "async": copies of the inputs, owned here. */
  void* owned_data[16];
  uint32_t owned_count;
} fake_call;

static fake_call* fake_call_new(void) {
  fake_call* call = calloc(1, sizeof *call);
  pthread_mutex_init(&call->lock, NULL);
  pthread_cond_init(&call->changed, NULL);
  return call;
}

static void fake_call_free(fake_call* call) {
  for (uint32_t i = 0; i < call->count; i++) {
    if (call->responses[i] != NULL)
      fake_failed(TRITONSERVER_InferenceResponseDelete(call->responses[i]));
  }
  for (uint32_t i = 0; i < call->owned_count; i++) free(call->owned_data[i]);
  pthread_mutex_destroy(&call->lock);
  pthread_cond_destroy(&call->changed);
  free(call);
}

/* ---- Callbacks. ---- */

static TRITONSERVER_Error* fake_alloc(TRITONSERVER_ResponseAllocator* allocator,
                                      const char* tensor_name, size_t byte_size,
                                      TRITONSERVER_MemoryType memory_type, int64_t memory_type_id,
                                      void* userp, void** buffer, void** buffer_userp,
                                      TRITONSERVER_MemoryType* actual_memory_type,
                                      int64_t* actual_memory_type_id) {
  (void)allocator;
  (void)tensor_name;
  (void)memory_type;
  (void)memory_type_id;
  fake_call* call = userp;
  pthread_mutex_lock(&call->lock);
  call->allocs++;
  pthread_mutex_unlock(&call->lock);
  *buffer = malloc(byte_size == 0 ? 1 : byte_size);
  *buffer_userp = call;
  *actual_memory_type = TRITONSERVER_MEMORY_CPU;
  *actual_memory_type_id = 0;
  return NULL;
}

static TRITONSERVER_Error* fake_release_buffer(TRITONSERVER_ResponseAllocator* allocator,
                                               void* buffer, void* buffer_userp, size_t byte_size,
                                               TRITONSERVER_MemoryType memory_type,
                                               int64_t memory_type_id) {
  (void)allocator;
  (void)byte_size;
  (void)memory_type;
  (void)memory_type_id;
  fake_call* call = buffer_userp;
  pthread_mutex_lock(&call->lock);
  call->releases++;
  pthread_mutex_unlock(&call->lock);
  free(buffer);
  return NULL;
}

static TRITONSERVER_Error* fake_start(TRITONSERVER_ResponseAllocator* allocator, void* userp) {
  (void)allocator;
  fake_call* call = userp;
  pthread_mutex_lock(&call->lock);
  call->starts++;
  pthread_mutex_unlock(&call->lock);
  return NULL;
}

static TRITONSERVER_Error* fake_query(TRITONSERVER_ResponseAllocator* allocator, void* userp,
                                      const char* tensor_name, size_t* byte_size,
                                      TRITONSERVER_MemoryType* memory_type,
                                      int64_t* memory_type_id) {
  (void)allocator;
  (void)tensor_name;
  (void)byte_size;
  fake_call* call = userp;
  pthread_mutex_lock(&call->lock);
  call->queries++;
  pthread_mutex_unlock(&call->lock);
  *memory_type = TRITONSERVER_MEMORY_CPU;
  *memory_type_id = 0;
  return NULL;
}

static void fake_on_response(TRITONSERVER_InferenceResponse* response, const uint32_t flags,
                             void* userp) {
  fake_call* call = userp;
  pthread_mutex_lock(&call->lock);
  if (call->count < FAKE_MAX_RESPONSES) {
    call->responses[call->count] = response;
    call->flags[call->count] = flags;
    call->count++;
  } else if (response != NULL) {
    fake_failed(TRITONSERVER_InferenceResponseDelete(response));
  }
  if ((flags & TRITONSERVER_RESPONSE_COMPLETE_FINAL) != 0) call->final = true;
  TRITONSERVER_InferenceRequest* cancel = call->count == 1 ? call->cancel_after_first : NULL;
  pthread_cond_broadcast(&call->changed);
  pthread_mutex_unlock(&call->lock);
  /* From the target's thread, as a client cancels a stream it reads. */
  if (cancel != NULL) fake_failed(TRITONSERVER_InferenceRequestCancel(cancel));
}

static void fake_on_release(TRITONSERVER_InferenceRequest* request, const uint32_t flags,
                            void* userp) {
  (void)request;
  fake_call* call = userp;
  pthread_mutex_lock(&call->lock);
  call->released = true;
  call->release_flags = flags;
  pthread_cond_broadcast(&call->changed);
  pthread_mutex_unlock(&call->lock);
}

/* Waits for the final response and the release; false on timeout. */
static bool fake_call_wait(fake_call* call) {
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += FAKE_WAIT_SECONDS;
  pthread_mutex_lock(&call->lock);
  while (!(call->final && call->released)) {
    if (pthread_cond_timedwait(&call->changed, &call->lock, &deadline) != 0) break;
  }
  bool done = call->final && call->released;
  pthread_mutex_unlock(&call->lock);
  return done;
}

/* ---- Building the inner request. ---- */

static TRITONSERVER_ResponseAllocator* fake_allocator(void) {
  TRITONSERVER_ResponseAllocator* allocator = NULL;
  fake_failed(
      TRITONSERVER_ResponseAllocatorNew(&allocator, fake_alloc, fake_release_buffer, fake_start));
  fake_failed(TRITONSERVER_ResponseAllocatorSetQueryFunction(allocator, fake_query));
  return allocator;
}

/* Points the inner request's release and response callbacks at 'call',
 * its responses allocated by 'allocator'. */
static TRITONSERVER_Error* fake_attach(TRITONSERVER_InferenceRequest* inner, fake_call* call,
                                       TRITONSERVER_ResponseAllocator* allocator) {
  TRITONSERVER_Error* error =
      TRITONSERVER_InferenceRequestSetReleaseCallback(inner, fake_on_release, call);
  if (error != NULL) return error;
  return TRITONSERVER_InferenceRequestSetResponseCallback(inner, allocator, call, fake_on_response,
                                                          call);
}

/* Copies the caller's inputs into the inner request (by reference, or by
 * copy into 'owner' when it must outlive the caller's request). */
static TRITONSERVER_Error* fake_forward_inputs(TRITONBACKEND_Request* from,
                                               TRITONSERVER_InferenceRequest* to,
                                               fake_call* owner) {
  uint32_t count = 0;
  TRITONSERVER_Error* error = TRITONBACKEND_RequestInputCount(from, &count);
  for (uint32_t i = 0; error == NULL && i < count; i++) {
    TRITONBACKEND_Input* input = NULL;
    const char* name = NULL;
    TRITONSERVER_DataType datatype;
    const int64_t* shape = NULL;
    uint32_t rank = 0, buffers = 0;
    uint64_t byte_size = 0;
    error = TRITONBACKEND_RequestInputByIndex(from, i, &input);
    if (error == NULL) {
      error = TRITONBACKEND_InputProperties(input, &name, &datatype, &shape, &rank, &byte_size,
                                            &buffers);
    }
    if (error == NULL)
      error = TRITONSERVER_InferenceRequestAddInput(to, name, datatype, shape, rank);
    for (uint32_t b = 0; error == NULL && b < buffers; b++) {
      const void* data = NULL;
      uint64_t size = 0;
      TRITONSERVER_MemoryType type = TRITONSERVER_MEMORY_CPU;
      int64_t type_id = 0;
      error = TRITONBACKEND_InputBuffer(input, b, &data, &size, &type, &type_id);
      if (error == NULL && owner != NULL && owner->owned_count < 16) {
        void* copy = malloc(size == 0 ? 1 : size);
        memcpy(copy, data, size);
        owner->owned_data[owner->owned_count++] = copy;
        data = copy;
      }
      if (error == NULL) {
        error = TRITONSERVER_InferenceRequestAppendInputData(to, name, data, size, type, type_id);
      }
    }
  }
  return error;
}

/* Metadata, requested outputs and forwarded parameters. */
static TRITONSERVER_Error* fake_inner_metadata(TRITONBACKEND_Request* from,
                                               TRITONSERVER_InferenceRequest* to) {
  TRITONSERVER_Error* error =
      TRITONSERVER_InferenceRequestSetId(to, fake_string_parameter(from, "inner_id", "inner"));
  const char* correlation = fake_string_parameter(from, "inner_correlation_string", NULL);
  if (error == NULL && correlation != NULL) {
    error = TRITONSERVER_InferenceRequestSetCorrelationIdString(to, correlation);
  } else if (error == NULL) {
    error = TRITONSERVER_InferenceRequestSetCorrelationId(
        to, (uint64_t)fake_int_parameter(from, "inner_correlation", 0));
  }
  if (error == NULL) {
    error = TRITONSERVER_InferenceRequestSetFlags(
        to, (uint32_t)fake_int_parameter(from, "inner_flags", 0));
  }
  if (error == NULL) {
    error = TRITONSERVER_InferenceRequestSetTimeoutMicroseconds(
        to, (uint64_t)fake_int_parameter(from, "inner_timeout_us", 0));
  }
  char outputs[256];
  snprintf(outputs, sizeof outputs, "%s", fake_string_parameter(from, "outputs", ""));
  for (char* name = strtok(outputs, ","); error == NULL && name != NULL; name = strtok(NULL, ",")) {
    error = TRITONSERVER_InferenceRequestAddRequestedOutput(to, name);
  }
  uint32_t parameters = 0;
  if (error == NULL) error = TRITONBACKEND_RequestParameterCount(from, &parameters);
  for (uint32_t p = 0; error == NULL && p < parameters; p++) {
    const char* key = NULL;
    TRITONSERVER_ParameterType type;
    const void* value = NULL;
    error = TRITONBACKEND_RequestParameter(from, p, &key, &type, &value);
    if (error != NULL || strncmp(key, "fwd_", 4) != 0) continue;
    const char* name = key + 4;
    if (type == TRITONSERVER_PARAMETER_INT) {
      error = TRITONSERVER_InferenceRequestSetIntParameter(to, name, *(const int64_t*)value);
    } else if (type == TRITONSERVER_PARAMETER_BOOL) {
      error = TRITONSERVER_InferenceRequestSetBoolParameter(to, name, *(const bool*)value);
    } else if (type == TRITONSERVER_PARAMETER_DOUBLE) {
      error = TRITONSERVER_InferenceRequestSetDoubleParameter(to, name, *(const double*)value);
    } else {
      error = TRITONSERVER_InferenceRequestSetStringParameter(to, name, (const char*)value);
    }
  }
  return error;
}

/* Creates and submits the inner request; on success *inner owns it until
 * the release callback. */
static TRITONSERVER_Error* fake_submit(TRITONBACKEND_ModelInstance* instance,
                                       TRITONBACKEND_Request* from, fake_call* call,
                                       TRITONSERVER_ResponseAllocator* allocator, bool copy_inputs,
                                       TRITONSERVER_InferenceRequest** inner) {
  TRITONSERVER_Error* error = TRITONSERVER_InferenceRequestNew(
      inner, fake_server(instance), fake_string_parameter(from, "target", "adder"),
      fake_int_parameter(from, "target_version", -1));
  if (error != NULL) return error;
  error = fake_forward_inputs(from, *inner, copy_inputs ? call : NULL);
  if (error == NULL) error = fake_inner_metadata(from, *inner);
  if (error == NULL) error = fake_attach(*inner, call, allocator);
  if (error == NULL) error = TRITONSERVER_ServerInferAsync(fake_server(instance), *inner, NULL);
  if (error != NULL) {
    fake_failed(TRITONSERVER_InferenceRequestDelete(*inner));
    *inner = NULL;
  }
  return error;
}

/* ---- Reporting. ---- */

/* Code and message of an error the caller does not own (a response's). */
static void fake_report_held_error(TRITONBACKEND_Response* response, const char* prefix,
                                   TRITONSERVER_Error* error) {
  char key[128];
  snprintf(key, sizeof key, "%s_code", prefix);
  fake_failed(TRITONBACKEND_ResponseSetStringParameter(
      response, key, error == NULL ? "none" : TRITONSERVER_ErrorCodeString(error)));
  if (error == NULL) return;
  snprintf(key, sizeof key, "%s_message", prefix);
  fake_failed(
      TRITONBACKEND_ResponseSetStringParameter(response, key, TRITONSERVER_ErrorMessage(error)));
}

/* The inner response's outputs become the caller's, its parameters
 * "inner.<name>". */
static void fake_copy_response(fake_call* call, TRITONSERVER_InferenceResponse* inner,
                               TRITONBACKEND_Response* response) {
  fake_report_held_error(response, "inner_error", TRITONSERVER_InferenceResponseError(inner));
  const char* id = NULL;
  const char* model = NULL;
  int64_t version = 0;
  if (!fake_failed(TRITONSERVER_InferenceResponseId(inner, &id))) {
    fake_failed(TRITONBACKEND_ResponseSetStringParameter(response, "inner_response_id", id));
  }
  if (!fake_failed(TRITONSERVER_InferenceResponseModel(inner, &model, &version))) {
    fake_failed(TRITONBACKEND_ResponseSetStringParameter(response, "inner_model", model));
    fake_failed(TRITONBACKEND_ResponseSetIntParameter(response, "inner_model_version", version));
  }
  uint32_t outputs = 0;
  bool userp_ok = true;
  fake_failed(TRITONSERVER_InferenceResponseOutputCount(inner, &outputs));
  for (uint32_t o = 0; o < outputs; o++) {
    const char* name = NULL;
    TRITONSERVER_DataType datatype;
    const int64_t* shape = NULL;
    uint64_t rank = 0;
    const void* base = NULL;
    size_t byte_size = 0;
    TRITONSERVER_MemoryType type;
    int64_t type_id = 0;
    void* userp = NULL;
    if (fake_failed(TRITONSERVER_InferenceResponseOutput(inner, o, &name, &datatype, &shape, &rank,
                                                         &base, &byte_size, &type, &type_id,
                                                         &userp))) {
      continue;
    }
    userp_ok = userp_ok && userp == call;
    TRITONBACKEND_Output* output = NULL;
    void* buffer = NULL;
    TRITONSERVER_MemoryType out_type = TRITONSERVER_MEMORY_CPU;
    int64_t out_id = 0;
    if (!fake_failed(TRITONBACKEND_ResponseOutput(response, &output, name, datatype, shape,
                                                  (uint32_t)rank)) &&
        !fake_failed(TRITONBACKEND_OutputBuffer(output, &buffer, byte_size, &out_type, &out_id))) {
      memcpy(buffer, base, byte_size);
    }
  }
  fake_failed(TRITONBACKEND_ResponseSetBoolParameter(response, "output_userp_ok", userp_ok));
  uint32_t parameters = 0;
  fake_failed(TRITONSERVER_InferenceResponseParameterCount(inner, &parameters));
  for (uint32_t p = 0; p < parameters; p++) {
    const char* name = NULL;
    TRITONSERVER_ParameterType type;
    const void* value = NULL;
    char key[200];
    if (fake_failed(TRITONSERVER_InferenceResponseParameter(inner, p, &name, &type, &value)))
      continue;
    snprintf(key, sizeof key, "inner.%s", name);
    if (type == TRITONSERVER_PARAMETER_INT) {
      fake_failed(TRITONBACKEND_ResponseSetIntParameter(response, key, *(const int64_t*)value));
    } else if (type == TRITONSERVER_PARAMETER_BOOL) {
      fake_failed(TRITONBACKEND_ResponseSetBoolParameter(response, key, *(const bool*)value));
    } else if (type == TRITONSERVER_PARAMETER_DOUBLE) {
      fake_failed(TRITONBACKEND_ResponseSetDoubleParameter(response, key, *(const double*)value));
    } else {
      fake_failed(TRITONBACKEND_ResponseSetStringParameter(response, key, (const char*)value));
    }
  }
}

/* Counts, flags and (for streams) the concatenated INT32 OUT values. */
static void fake_report_call(fake_call* call, TRITONBACKEND_Response* response, bool completed,
                             bool stream) {
  char flags[1024] = "";
  int32_t values[FAKE_MAX_RESPONSES];
  uint32_t value_count = 0;
  TRITONSERVER_InferenceResponse* last = NULL;
  for (uint32_t i = 0; i < call->count; i++) {
    size_t used = strlen(flags);
    snprintf(flags + used, sizeof flags - used, "%s%s%u", i == 0 ? "" : ",",
             call->responses[i] == NULL ? "null:" : "", call->flags[i]);
    if (call->responses[i] == NULL) continue;
    last = call->responses[i];
    uint32_t outputs = 0;
    fake_failed(TRITONSERVER_InferenceResponseOutputCount(last, &outputs));
    for (uint32_t o = 0; stream && o < outputs; o++) {
      const char* name = NULL;
      TRITONSERVER_DataType datatype;
      const int64_t* shape = NULL;
      uint64_t rank = 0;
      const void* base = NULL;
      size_t byte_size = 0;
      TRITONSERVER_MemoryType type;
      int64_t type_id = 0;
      void* userp = NULL;
      if (!fake_failed(TRITONSERVER_InferenceResponseOutput(last, o, &name, &datatype, &shape,
                                                            &rank, &base, &byte_size, &type,
                                                            &type_id, &userp)) &&
          strcmp(name, "OUT") == 0 && byte_size == 4) {
        memcpy(&values[value_count++], base, 4);
      }
    }
  }
  fake_failed(TRITONBACKEND_ResponseSetBoolParameter(response, "completed", completed));
  fake_failed(TRITONBACKEND_ResponseSetIntParameter(response, "responses", call->count));
  fake_failed(TRITONBACKEND_ResponseSetStringParameter(response, "flags", flags));
  fake_failed(TRITONBACKEND_ResponseSetBoolParameter(response, "released", call->released));
  fake_failed(
      TRITONBACKEND_ResponseSetIntParameter(response, "release_flags", call->release_flags));
  fake_failed(TRITONBACKEND_ResponseSetIntParameter(response, "starts", call->starts));
  fake_failed(TRITONBACKEND_ResponseSetIntParameter(response, "queries", call->queries));
  if (stream) {
    const int64_t shape[1] = {value_count};
    TRITONBACKEND_Output* output = NULL;
    void* buffer = NULL;
    TRITONSERVER_MemoryType type = TRITONSERVER_MEMORY_CPU;
    int64_t type_id = 0;
    if (!fake_failed(TRITONBACKEND_ResponseOutput(response, &output, "VALUES",
                                                  TRITONSERVER_TYPE_INT32, shape, 1)) &&
        !fake_failed(
            TRITONBACKEND_OutputBuffer(output, &buffer, value_count * 4u, &type, &type_id))) {
      memcpy(buffer, values, value_count * 4u);
    }
    if (last != NULL) {
      fake_report_held_error(response, "last_error", TRITONSERVER_InferenceResponseError(last));
    }
  } else if (last != NULL) {
    fake_copy_response(call, last, response);
  }
}

/* ---- Scenarios. ---- */

static void fake_caller_run(TRITONBACKEND_ModelInstance* instance, TRITONBACKEND_Request* request,
                            TRITONBACKEND_Response* response, bool stream, bool cancel) {
  fake_call* call = fake_call_new();
  TRITONSERVER_ResponseAllocator* allocator = fake_allocator();
  TRITONSERVER_InferenceRequest* inner = NULL;
  pthread_mutex_lock(&call->lock);
  TRITONSERVER_Error* error = fake_submit(instance, request, call, allocator, false, &inner);
  if (error == NULL && cancel) call->cancel_after_first = inner;
  pthread_mutex_unlock(&call->lock);
  if (error != NULL) {
    fake_report_error(response, "submit", error);
  } else {
    fake_report_error(response, "submit", NULL);
    bool completed = fake_call_wait(call);
    fake_report_call(call, response, completed, stream);
    if (completed) fake_failed(TRITONSERVER_InferenceRequestDelete(inner));
  }
  uint32_t allocs = call->allocs;
  fake_call_free(call); /* deletes the responses: the allocator's buffers go back */
  fake_failed(TRITONSERVER_ResponseAllocatorDelete(allocator));
  fake_failed(TRITONBACKEND_ResponseSetIntParameter(response, "allocs", allocs));
}

static void fake_caller_unknown(TRITONBACKEND_ModelInstance* instance,
                                TRITONBACKEND_Request* request, TRITONBACKEND_Response* response) {
  TRITONSERVER_InferenceRequest* inner = NULL;
  TRITONSERVER_Error* error = TRITONSERVER_InferenceRequestNew(
      &inner, fake_server(instance), fake_string_parameter(request, "target", "no_such_model"),
      fake_int_parameter(request, "target_version", -1));
  if (inner != NULL) fake_failed(TRITONSERVER_InferenceRequestDelete(inner));
  fake_report_error(response, "new", error);
}

/* An add_sub request of four FP32 elements whose data is 'data_size' bytes. */
static TRITONSERVER_InferenceRequest* fake_plain_request(TRITONSERVER_Server* server,
                                                         fake_call* call,
                                                         TRITONSERVER_ResponseAllocator* allocator,
                                                         const float* data, size_t data_size) {
  TRITONSERVER_InferenceRequest* inner = NULL;
  const int64_t shape[1] = {4};
  fake_failed(TRITONSERVER_InferenceRequestNew(&inner, server, "adder", -1));
  fake_failed(
      TRITONSERVER_InferenceRequestAddInput(inner, "INPUT0", TRITONSERVER_TYPE_FP32, shape, 1));
  fake_failed(
      TRITONSERVER_InferenceRequestAddInput(inner, "INPUT1", TRITONSERVER_TYPE_FP32, shape, 1));
  fake_failed(TRITONSERVER_InferenceRequestAppendInputData(inner, "INPUT0", data, data_size,
                                                           TRITONSERVER_MEMORY_CPU, 0));
  fake_failed(TRITONSERVER_InferenceRequestAppendInputData(inner, "INPUT1", data, data_size,
                                                           TRITONSERVER_MEMORY_CPU, 0));
  fake_failed(fake_attach(inner, call, allocator));
  return inner;
}

/* The error paths; each result is reported as <name>_code/_message. */
static void fake_caller_errors(TRITONBACKEND_ModelInstance* instance,
                               TRITONBACKEND_Response* response) {
  TRITONSERVER_Server* server = fake_server(instance);
  const float data[4] = {1, 2, 3, 4};
  fake_call* call = fake_call_new();
  TRITONSERVER_ResponseAllocator* allocator = fake_allocator();

  /* No callbacks. */
  TRITONSERVER_InferenceRequest* bare = NULL;
  fake_failed(TRITONSERVER_InferenceRequestNew(&bare, server, "adder", -1));
  fake_report_error(response, "no_callbacks", TRITONSERVER_ServerInferAsync(server, bare, NULL));
  const int64_t shape[1] = {4};
  fake_failed(
      TRITONSERVER_InferenceRequestAddInput(bare, "INPUT0", TRITONSERVER_TYPE_FP32, shape, 1));
  fake_report_error(
      response, "add_twice",
      TRITONSERVER_InferenceRequestAddInput(bare, "INPUT0", TRITONSERVER_TYPE_FP32, shape, 1));
  fake_report_error(response, "append_unknown",
                    TRITONSERVER_InferenceRequestAppendInputData(bare, "NOPE", data, sizeof data,
                                                                 TRITONSERVER_MEMORY_CPU, 0));
  char long_id[200];
  memset(long_id, 'x', sizeof long_id - 1);
  long_id[sizeof long_id - 1] = '\0';
  fake_report_error(response, "long_correlation",
                    TRITONSERVER_InferenceRequestSetCorrelationIdString(bare, long_id));
  fake_report_error(
      response, "trace",
      TRITONSERVER_ServerInferAsync(server, bare, (TRITONSERVER_InferenceTrace*)(void*)call));
  fake_failed(TRITONSERVER_InferenceRequestDelete(bare));

  /* Byte size not matching the shape. */
  TRITONSERVER_InferenceRequest* short_data = fake_plain_request(server, call, allocator, data, 8);
  fake_report_error(response, "size", TRITONSERVER_ServerInferAsync(server, short_data, NULL));
  fake_failed(TRITONSERVER_InferenceRequestDelete(short_data));

  /* Deleted and submitted again while the server owns it: a slow stream
   * keeps it in flight long enough. */
  TRITONSERVER_InferenceRequest* inner = NULL;
  const int32_t count = 2;
  const int64_t one[1] = {1};
  fake_failed(TRITONSERVER_InferenceRequestNew(&inner, server, "streamer", -1));
  fake_failed(
      TRITONSERVER_InferenceRequestAddInput(inner, "INPUT0", TRITONSERVER_TYPE_INT32, one, 1));
  fake_failed(TRITONSERVER_InferenceRequestAppendInputData(inner, "INPUT0", &count, sizeof count,
                                                           TRITONSERVER_MEMORY_CPU, 0));
  fake_failed(TRITONSERVER_InferenceRequestSetIntParameter(inner, "delay_ms", 100));
  fake_failed(fake_attach(inner, call, allocator));
  TRITONSERVER_Error* submitted = TRITONSERVER_ServerInferAsync(server, inner, NULL);
  fake_report_error(response, "valid", submitted);
  fake_report_error(response, "submit_twice", TRITONSERVER_ServerInferAsync(server, inner, NULL));
  pthread_mutex_lock(&call->lock);
  bool released = call->released;
  pthread_mutex_unlock(&call->lock);
  if (!released) {
    fake_report_error(response, "delete_in_flight", TRITONSERVER_InferenceRequestDelete(inner));
  }
  bool completed = fake_call_wait(call);
  fake_failed(TRITONBACKEND_ResponseSetBoolParameter(response, "completed", completed));
  if (completed) fake_failed(TRITONSERVER_InferenceRequestDelete(inner));

  fake_failed(TRITONBACKEND_ResponseSetIntParameter(response, "responses", call->count));
  fake_call_free(call);
  fake_failed(TRITONSERVER_ResponseAllocatorDelete(allocator));
  fake_report_error(response, "allocator_twice", TRITONSERVER_ResponseAllocatorDelete(allocator));
}

/* ---- "async": the outcome outlives the caller's request. ---- */

static pthread_mutex_t fake_async_lock = PTHREAD_MUTEX_INITIALIZER;
static fake_call* fake_async_call;
static TRITONSERVER_InferenceRequest* fake_async_request;
static TRITONSERVER_ResponseAllocator* fake_async_allocator;

static void fake_caller_async(TRITONBACKEND_ModelInstance* instance, TRITONBACKEND_Request* request,
                              TRITONBACKEND_Response* response) {
  pthread_mutex_lock(&fake_async_lock);
  fake_call* call = fake_call_new();
  fake_async_allocator = fake_allocator();
  struct timespec before, after;
  clock_gettime(CLOCK_MONOTONIC, &before);
  TRITONSERVER_Error* error =
      fake_submit(instance, request, call, fake_async_allocator, true, &fake_async_request);
  clock_gettime(CLOCK_MONOTONIC, &after);
  fake_async_call = call;
  pthread_mutex_unlock(&fake_async_lock);
  int64_t elapsed_ns =
      (after.tv_sec - before.tv_sec) * 1000000000LL + (after.tv_nsec - before.tv_nsec);
  fake_failed(TRITONBACKEND_ResponseSetIntParameter(response, "submit_ns", elapsed_ns));
  fake_report_error(response, "submit", error);
}

/* Frees the kept call and its allocator and forgets the kept request;
 * called with fake_async_lock held. */
static void fake_async_forget(void) {
  if (fake_async_call != NULL) {
    fake_call_free(fake_async_call);
    fake_failed(TRITONSERVER_ResponseAllocatorDelete(fake_async_allocator));
  }
  fake_async_call = NULL;
  fake_async_request = NULL;
  fake_async_allocator = NULL;
}

static void fake_caller_async_result(TRITONBACKEND_Response* response) {
  pthread_mutex_lock(&fake_async_lock);
  fake_call* call = fake_async_call;
  if (call != NULL) {
    bool completed = fake_call_wait(call);
    fake_report_call(call, response, completed, true);
    if (completed && fake_async_request != NULL) {
      fake_failed(TRITONSERVER_InferenceRequestDelete(fake_async_request));
    }
  }
  fake_async_forget();
  pthread_mutex_unlock(&fake_async_lock);
}

/* "unloaded": the target goes away between creating and submitting. */
static void fake_caller_unloaded(TRITONBACKEND_ModelInstance* instance,
                                 TRITONBACKEND_Request* request, TRITONBACKEND_Response* response) {
  TRITONSERVER_Server* server = fake_server(instance);
  const char* target = fake_string_parameter(request, "target", "adder");
  TRITONSERVER_InferenceRequest* inner = NULL;
  TRITONSERVER_Error* error = TRITONSERVER_InferenceRequestNew(&inner, server, target, -1);
  fake_report_error(response, "new", error);
  if (inner == NULL) return;
  fake_report_error(response, "unload", TRITONSERVER_ServerUnloadModel(server, target));
  fake_call* call = fake_call_new();
  TRITONSERVER_ResponseAllocator* allocator = fake_allocator();
  error = fake_forward_inputs(request, inner, NULL);
  if (error == NULL) error = fake_attach(inner, call, allocator);
  if (error == NULL) {
    error = TRITONSERVER_ServerInferAsync(server, inner, NULL);
    if (error == NULL) fake_call_wait(call); /* not expected: wait before cleaning up */
  }
  fake_report_error(response, "submit", error);
  fake_failed(TRITONSERVER_InferenceRequestDelete(inner));
  fake_call_free(call);
  fake_failed(TRITONSERVER_ResponseAllocatorDelete(allocator));
}

/* "async_drop": reports the kept call as it is and frees it without
 * waiting (its target will never finish it). */
static void fake_caller_async_drop(TRITONBACKEND_Response* response) {
  pthread_mutex_lock(&fake_async_lock);
  fake_call* call = fake_async_call;
  if (call != NULL) {
    pthread_mutex_lock(&call->lock);
    fake_failed(TRITONBACKEND_ResponseSetIntParameter(response, "responses", call->count));
    fake_failed(TRITONBACKEND_ResponseSetBoolParameter(response, "final", call->final));
    fake_failed(TRITONBACKEND_ResponseSetBoolParameter(response, "released", call->released));
    bool released = call->released;
    pthread_mutex_unlock(&call->lock);
    if (released) fake_failed(TRITONSERVER_InferenceRequestDelete(fake_async_request));
  }
  fake_async_forget();
  pthread_mutex_unlock(&fake_async_lock);
}

/* ---- Model control. ---- */

static void fake_caller_control(TRITONBACKEND_ModelInstance* instance,
                                TRITONBACKEND_Request* request, TRITONBACKEND_Response* response) {
  TRITONSERVER_Server* server = fake_server(instance);
  const char* action = fake_string_parameter(request, "action", "ready");
  const char* model = fake_string_parameter(request, "model", "adder");
  if (strcmp(action, "load") == 0) {
    fake_report_error(response, "control", TRITONSERVER_ServerLoadModel(server, model));
  } else if (strcmp(action, "unload") == 0) {
    fake_report_error(response, "control", TRITONSERVER_ServerUnloadModel(server, model));
  } else {
    bool ready = false;
    fake_report_error(response, "control",
                      TRITONSERVER_ServerModelIsReady(
                          server, model, fake_int_parameter(request, "version", -1), &ready));
    fake_failed(TRITONBACKEND_ResponseSetBoolParameter(response, "ready", ready));
  }
}

void fake_caller_execute(TRITONBACKEND_ModelInstance* instance, TRITONBACKEND_Request* request,
                         TRITONBACKEND_Response* response) {
  const char* id = NULL;
  TRITONBACKEND_RequestId(request, &id);
  if (strcmp(id, "sync") == 0) {
    fake_caller_run(instance, request, response, false, false);
  } else if (strcmp(id, "stream") == 0) {
    fake_caller_run(instance, request, response, true, false);
  } else if (strcmp(id, "cancel") == 0) {
    fake_caller_run(instance, request, response, true, true);
  } else if (strcmp(id, "unknown") == 0) {
    fake_caller_unknown(instance, request, response);
  } else if (strcmp(id, "errors") == 0) {
    fake_caller_errors(instance, response);
  } else if (strcmp(id, "async") == 0) {
    fake_caller_async(instance, request, response);
  } else if (strcmp(id, "async_result") == 0) {
    fake_caller_async_result(response);
  } else if (strcmp(id, "async_drop") == 0) {
    fake_caller_async_drop(response);
  } else if (strcmp(id, "unloaded") == 0) {
    fake_caller_unloaded(instance, request, response);
  } else if (strcmp(id, "control") == 0) {
    fake_caller_control(instance, request, response);
  }
}
