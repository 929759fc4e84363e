/*
 * call.c: one in-process inference from the client's side: a
 * TRITONSERVER_InferenceRequest with copies of its inputs, submitted with
 * TRITONSERVER_ServerInferAsync; Triton's threads append each response (or
 * a flags-only FINAL) and hand the request back, and the caller, on its own
 * thread, waits for them and reads them. The call owns everything until it
 * is freed; a call freed while in flight is finished by its last callback.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client_internal.h"

uint64_t tdc_now_ns(void)
{
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
}

/* ---- Output buffers. ---- */

TRITONSERVER_Error* tdc_alloc(TRITONSERVER_ResponseAllocator* allocator, const char* tensor_name,
                              size_t byte_size, TRITONSERVER_MemoryType memory_type,
                              int64_t memory_type_id, void* userp, void** buffer,
                              void** buffer_userp, TRITONSERVER_MemoryType* actual_memory_type,
                              int64_t* actual_memory_type_id)
{
  (void)allocator, (void)tensor_name, (void)memory_type, (void)memory_type_id;
  tdc_client* client = userp;
  *buffer_userp = NULL;
  *actual_memory_type = TRITONSERVER_MEMORY_CPU;
  *actual_memory_type_id = 0;
  *buffer = NULL;
  if (byte_size == 0) {
    return NULL;
  }
  *buffer = tdc_buffer_pool_take(&client->outputs, byte_size);
  *buffer_userp = client;
  if (*buffer == NULL) {
    return client->core.TRITONSERVER_ErrorNew(TRITONSERVER_ERROR_INTERNAL,
                                              "the client is out of memory for an output");
  }
  return NULL;
}

TRITONSERVER_Error* tdc_release(TRITONSERVER_ResponseAllocator* allocator, void* buffer,
                                void* buffer_userp, size_t byte_size,
                                TRITONSERVER_MemoryType memory_type, int64_t memory_type_id)
{
  (void)allocator, (void)memory_type, (void)memory_type_id;
  tdc_client* client = buffer_userp;
  if (client == NULL) {
    free(buffer);
  } else {
    tdc_buffer_pool_give(&client->outputs, buffer, byte_size);
  }
  return NULL;
}

/* ---- Client. ---- */

tdc_client* tdc_client_new(const char* core_library, TRITONSERVER_Server* server, char* error,
                           uint32_t cap)
{
  if (core_library == NULL || server == NULL) {
    snprintf(error, cap, "INVALID_ARG: a client needs a core library and a started server");
    return NULL;
  }
  tdc_client* client = calloc(1, sizeof(*client));
  if (client == NULL) {
    snprintf(error, cap, "INTERNAL: out of memory");
    return NULL;
  }
  tdc_buffer_pool_init(&client->outputs);
  if (!tdc_core_open(&client->core, core_library, error, cap)) {
    free(client);
    return NULL;
  }
  client->server = server;
  TRITONSERVER_Error* failed =
      client->core.TRITONSERVER_ResponseAllocatorNew(&client->allocator, tdc_alloc, tdc_release, NULL);
  if (failed != NULL) {
    tdc_core_take_error(&client->core, failed, error, cap);
    tdc_core_close(&client->core);
    free(client);
    return NULL;
  }
  return client;
}

void tdc_client_delete(tdc_client* client)
{
  if (client == NULL) {
    return;
  }
  TRITONSERVER_Error* failed = client->core.TRITONSERVER_ResponseAllocatorDelete(client->allocator);
  if (failed != NULL) {
    client->core.TRITONSERVER_ErrorDelete(failed);
  }
  tdc_buffer_pool_drain(&client->outputs);
  tdc_core_close(&client->core);
  free(client);
}

/* ---- Building a call. ---- */

static int32_t fail(tdc_call* call, TRITONSERVER_Error* failed, char* error, uint32_t cap)
{
  tdc_core_take_error(&call->client->core, failed, error, cap);
  return -1;
}

static int32_t fail_text(char* error, uint32_t cap, const char* format, ...)
{
  va_list args;
  va_start(args, format);
  vsnprintf(error, cap, format, args);
  va_end(args);
  return -1;
}

static void on_release(TRITONSERVER_InferenceRequest* request, const uint32_t flags, void* userp);
static void on_response(TRITONSERVER_InferenceResponse* response, const uint32_t flags,
                        void* userp);

tdc_call* tdc_call_new(tdc_client* client, const char* model, int64_t version, const char* id,
                       char* error, uint32_t cap)
{
  if (client == NULL || model == NULL) {
    fail_text(error, cap, "INVALID_ARG: a call needs a client and a model name");
    return NULL;
  }
  tdc_call* call = calloc(1, sizeof(*call));
  if (call == NULL || (call->model = strdup(model)) == NULL) {
    free(call);
    fail_text(error, cap, "INTERNAL: out of memory");
    return NULL;
  }
  call->client = client;
  call->version = version;
  pthread_mutex_init(&call->lock, NULL);
  pthread_cond_init(&call->changed, NULL);
  const tdc_core* core = &client->core;
  TRITONSERVER_Error* failed =
      core->TRITONSERVER_InferenceRequestNew(&call->request, client->server, model, version);
  if (failed == NULL && id != NULL && id[0] != '\0') {
    failed = core->TRITONSERVER_InferenceRequestSetId(call->request, id);
  }
  if (failed == NULL) {
    failed = core->TRITONSERVER_InferenceRequestSetReleaseCallback(call->request, on_release, call);
  }
  if (failed == NULL) {
    failed = core->TRITONSERVER_InferenceRequestSetResponseCallback(
        call->request, client->allocator, client, on_response, call);
  }
  if (failed != NULL) {
    fail(call, failed, error, cap);
    tdc_call_free(call);
    return NULL;
  }
  return call;
}

int32_t tdc_call_add_input(tdc_call* call, const char* name, uint32_t datatype,
                           const int64_t* shape, uint32_t rank, const void* data,
                           uint64_t byte_size, char* error, uint32_t cap)
{
  if (call == NULL || name == NULL || call->started || (rank > 0 && shape == NULL) ||
      (byte_size > 0 && data == NULL)) {
    return fail_text(error, cap, "INVALID_ARG: bad input arguments");
  }
  tdc_input* grown = realloc(call->inputs, (call->input_count + 1) * sizeof(*grown));
  if (grown == NULL) {
    return fail_text(error, cap, "INTERNAL: out of memory");
  }
  call->inputs = grown;
  tdc_input* input = &call->inputs[call->input_count];
  memset(input, 0, sizeof(*input));
  input->name = strdup(name);
  input->shape = malloc((rank > 0 ? rank : 1) * sizeof(int64_t));
  input->data = malloc(byte_size > 0 ? byte_size : 1);
  if (input->name == NULL || input->shape == NULL || input->data == NULL) {
    free(input->name), free(input->shape), free(input->data);
    return fail_text(error, cap, "INTERNAL: out of memory");
  }
  input->datatype = datatype;
  input->rank = rank;
  if (rank > 0) {
    memcpy(input->shape, shape, rank * sizeof(int64_t));
  }
  if (byte_size > 0) {
    memcpy(input->data, data, byte_size);
  }
  input->byte_size = byte_size;
  call->input_count++;
  const tdc_core* core = &call->client->core;
  TRITONSERVER_Error* failed = core->TRITONSERVER_InferenceRequestAddInput(
      call->request, input->name, (TRITONSERVER_DataType)datatype, input->shape, rank);
  if (failed == NULL) {
    failed = core->TRITONSERVER_InferenceRequestAppendInputData(
        call->request, input->name, input->data, byte_size, TRITONSERVER_MEMORY_CPU, 0);
  }
  return failed == NULL ? 0 : fail(call, failed, error, cap);
}

int32_t tdc_call_add_requested_output(tdc_call* call, const char* name, char* error, uint32_t cap)
{
  if (call == NULL || name == NULL || call->started) {
    return fail_text(error, cap, "INVALID_ARG: bad output arguments");
  }
  char** grown =
      realloc(call->requested_outputs, (call->requested_output_count + 1) * sizeof(*grown));
  if (grown == NULL || (grown[call->requested_output_count] = strdup(name)) == NULL) {
    if (grown != NULL) call->requested_outputs = grown;
    return fail_text(error, cap, "INTERNAL: out of memory");
  }
  call->requested_outputs = grown;
  const char* copy = grown[call->requested_output_count++];
  TRITONSERVER_Error* failed =
      call->client->core.TRITONSERVER_InferenceRequestAddRequestedOutput(call->request, copy);
  return failed == NULL ? 0 : fail(call, failed, error, cap);
}

int32_t tdc_call_set_sequence(tdc_call* call, uint64_t correlation_id,
                              const char* correlation_id_string, uint32_t flags, char* error,
                              uint32_t cap)
{
  if (call == NULL || call->started) {
    return fail_text(error, cap, "INVALID_ARG: bad call");
  }
  const tdc_core* core = &call->client->core;
  TRITONSERVER_Error* failed =
      correlation_id_string != NULL && correlation_id_string[0] != '\0'
          ? core->TRITONSERVER_InferenceRequestSetCorrelationIdString(call->request,
                                                                      correlation_id_string)
          : core->TRITONSERVER_InferenceRequestSetCorrelationId(call->request, correlation_id);
  if (failed == NULL) {
    failed = core->TRITONSERVER_InferenceRequestSetFlags(call->request, flags);
  }
  return failed == NULL ? 0 : fail(call, failed, error, cap);
}

int32_t tdc_call_set_timeout(tdc_call* call, uint64_t timeout_us, char* error, uint32_t cap)
{
  if (call == NULL || call->started) {
    return fail_text(error, cap, "INVALID_ARG: bad call");
  }
  TRITONSERVER_Error* failed =
      call->client->core.TRITONSERVER_InferenceRequestSetTimeoutMicroseconds(call->request,
                                                                            timeout_us);
  return failed == NULL ? 0 : fail(call, failed, error, cap);
}

static TRITONSERVER_Error* set_parameter(const tdc_core* core,
                                         TRITONSERVER_InferenceRequest* request,
                                         const tdc_parameter* p)
{
  switch (p->type) {
    case TRITONSERVER_PARAMETER_STRING:
      return core->TRITONSERVER_InferenceRequestSetStringParameter(request, p->key,
                                                                   p->string_value);
    case TRITONSERVER_PARAMETER_INT:
      return core->TRITONSERVER_InferenceRequestSetIntParameter(request, p->key, p->int_value);
    case TRITONSERVER_PARAMETER_BOOL:
      return core->TRITONSERVER_InferenceRequestSetBoolParameter(request, p->key,
                                                                 p->int_value != 0);
    default:
      return core->TRITONSERVER_InferenceRequestSetDoubleParameter(request, p->key,
                                                                   p->double_value);
  }
}

int32_t tdc_call_add_parameter(tdc_call* call, const char* key, uint32_t type,
                               const char* string_value, int64_t int_value, double double_value,
                               char* error, uint32_t cap)
{
  if (call == NULL || key == NULL || call->started) {
    return fail_text(error, cap, "INVALID_ARG: bad parameter arguments");
  }
  if (type > TRITONSERVER_PARAMETER_DOUBLE) {
    return fail_text(error, cap, "INVALID_ARG: unknown parameter type %u", type);
  }
  if (type == TRITONSERVER_PARAMETER_STRING && string_value == NULL) {
    return fail_text(error, cap, "INVALID_ARG: no string value");
  }
  tdc_parameter* grown =
      realloc(call->parameters, (call->parameter_count + 1) * sizeof(*grown));
  if (grown == NULL) {
    return fail_text(error, cap, "INTERNAL: out of memory");
  }
  call->parameters = grown;
  tdc_parameter* parameter = &grown[call->parameter_count];
  memset(parameter, 0, sizeof(*parameter));
  parameter->key = strdup(key);
  parameter->string_value = type == TRITONSERVER_PARAMETER_STRING ? strdup(string_value) : NULL;
  if (parameter->key == NULL ||
      (type == TRITONSERVER_PARAMETER_STRING && parameter->string_value == NULL)) {
    free(parameter->key), free(parameter->string_value);
    return fail_text(error, cap, "INTERNAL: out of memory");
  }
  parameter->type = type;
  parameter->int_value = int_value;
  parameter->double_value = double_value;
  call->parameter_count++;
  TRITONSERVER_Error* failed = set_parameter(&call->client->core, call->request, parameter);
  return failed == NULL ? 0 : fail(call, failed, error, cap);
}

/* ---- In flight. ---- */

int32_t tdc_call_start(tdc_call* call, char* error, uint32_t cap)
{
  if (call == NULL || call->started) {
    return fail_text(error, cap, "INVALID_ARG: a call starts once");
  }
  call->started = true;
  TRITONSERVER_Error* failed =
      call->client->core.TRITONSERVER_ServerInferAsync(call->client->server, call->request, NULL);
  if (failed != NULL) {
    /* Not submitted: the request is still ours and nothing will call back. */
    pthread_mutex_lock(&call->lock);
    call->final = call->released = true;
    pthread_mutex_unlock(&call->lock);
    return fail(call, failed, error, cap);
  }
  return 0;
}

void tdc_call_cancel(tdc_call* call)
{
  if (call == NULL) return;
  pthread_mutex_lock(&call->lock);
  const bool in_flight = call->started && !call->released;
  pthread_mutex_unlock(&call->lock);
  if (in_flight) {
    TRITONSERVER_Error* failed = call->client->core.TRITONSERVER_InferenceRequestCancel(call->request);
    if (failed != NULL) call->client->core.TRITONSERVER_ErrorDelete(failed);
  }
}

static void destroy(tdc_call* call);

/* With call->lock held: frees an abandoned call once Triton is done with it
 * (returns true: the caller must not touch the call again). */
static bool finish_if_abandoned(tdc_call* call)
{
  if (!(call->abandoned && call->final && call->released)) {
    return false;
  }
  pthread_mutex_unlock(&call->lock);
  destroy(call);
  return true;
}

static void on_response(TRITONSERVER_InferenceResponse* response, const uint32_t flags, void* userp)
{
  tdc_call* call = userp;
  pthread_mutex_lock(&call->lock);
  if (response != NULL || (flags & TRITONSERVER_RESPONSE_COMPLETE_FINAL) != 0) {
    if (call->response_count == call->response_capacity) {
      const uint32_t capacity = call->response_capacity == 0 ? 4 : 2 * call->response_capacity;
      TRITONSERVER_InferenceResponse** responses =
          realloc(call->responses, capacity * sizeof(*responses));
      uint32_t* response_flags =
          responses == NULL ? NULL : realloc(call->response_flags, capacity * sizeof(uint32_t));
      if (responses != NULL) call->responses = responses;
      if (response_flags != NULL) call->response_flags = response_flags;
      if (responses == NULL || response_flags == NULL) {
        /* Cannot keep it: drop the response, keep the flags' meaning. */
        if (response != NULL) call->client->core.TRITONSERVER_InferenceResponseDelete(response);
        call->final = call->final || (flags & TRITONSERVER_RESPONSE_COMPLETE_FINAL) != 0;
        pthread_cond_broadcast(&call->changed);
        if (!finish_if_abandoned(call)) pthread_mutex_unlock(&call->lock);
        return;
      }
      call->response_capacity = capacity;
    }
    call->responses[call->response_count] = response;
    call->response_flags[call->response_count] = flags;
    call->response_count++;
  }
  if ((flags & TRITONSERVER_RESPONSE_COMPLETE_FINAL) != 0) {
    call->final = true;
  }
  pthread_cond_broadcast(&call->changed);
  if (!finish_if_abandoned(call)) pthread_mutex_unlock(&call->lock);
}

static void on_release(TRITONSERVER_InferenceRequest* request, const uint32_t flags, void* userp)
{
  (void)request, (void)flags;
  tdc_call* call = userp;
  pthread_mutex_lock(&call->lock);
  call->released = true;
  pthread_cond_broadcast(&call->changed);
  if (!finish_if_abandoned(call)) pthread_mutex_unlock(&call->lock);
}

int64_t tdc_call_wait(tdc_call* call, uint32_t seen, uint32_t timeout_ms)
{
  if (call == NULL) return -1;
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += timeout_ms / 1000;
  deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (deadline.tv_nsec >= 1000000000L) {
    deadline.tv_sec++;
    deadline.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&call->lock);
  while (call->response_count <= seen && !(call->final && call->released)) {
    if (pthread_cond_timedwait(&call->changed, &call->lock, &deadline) == ETIMEDOUT) break;
  }
  int64_t result = call->response_count;
  if (call->response_count <= seen && call->final && call->released) result = -2;
  pthread_mutex_unlock(&call->lock);
  return result;
}

/* ---- Reading responses (the caller's thread, after tdc_call_wait). ---- */

typedef struct text {
  char* out;
  uint64_t cap;
  uint64_t length;
} text;

static void put(text* t, const char* format, ...)
{
  va_list args;
  va_start(args, format);
  const uint64_t room = t->length < t->cap ? t->cap - t->length : 0;
  const int wrote = vsnprintf(room > 0 ? t->out + t->length : NULL, room, format, args);
  va_end(args);
  if (wrote > 0) t->length += (uint64_t)wrote;
}

static void put_string(text* t, const char* value)
{
  put(t, "\"");
  for (const unsigned char* c = (const unsigned char*)value; *c != '\0'; ++c) {
    if (*c == '"' || *c == '\\') {
      put(t, "\\%c", *c);
    } else if (*c < 0x20) {
      put(t, "\\u%04x", *c);
    } else {
      put(t, "%c", *c);
    }
  }
  put(t, "\"");
}

static const char* datatype_name(TRITONSERVER_DataType datatype)
{
  static const char* const names[] = {"INVALID", "BOOL",  "UINT8", "UINT16", "UINT32",
                                      "UINT64",  "INT8",  "INT16", "INT32",  "INT64",
                                      "FP16",    "FP32",  "FP64",  "BYTES",  "BF16"};
  return (unsigned)datatype < sizeof(names) / sizeof(names[0]) ? names[datatype] : "INVALID";
}

static const char* code_name(TRITONSERVER_Error_Code code)
{
  static const char* const names[] = {"UNKNOWN",     "INTERNAL",    "NOT_FOUND",
                                      "INVALID_ARG", "UNAVAILABLE", "UNSUPPORTED",
                                      "ALREADY_EXISTS", "CANCELLED"};
  return (unsigned)code < sizeof(names) / sizeof(names[0]) ? names[code] : "UNKNOWN";
}

/* The response at `index`, NULL for none (flags-only counts as present). */
static bool response_at(tdc_call* call, uint32_t index, TRITONSERVER_InferenceResponse** response,
                        uint32_t* flags)
{
  pthread_mutex_lock(&call->lock);
  const bool present = index < call->response_count;
  if (present) {
    *response = call->responses[index];
    *flags = call->response_flags[index];
  }
  pthread_mutex_unlock(&call->lock);
  return present;
}

uint64_t tdc_call_response_json(tdc_call* call, uint32_t index, char* out, uint64_t cap)
{
  text t = {out, cap, 0};
  if (cap > 0) out[0] = '\0';
  TRITONSERVER_InferenceResponse* response;
  uint32_t flags;
  if (call == NULL || !response_at(call, index, &response, &flags)) return 0;
  const tdc_core* core = &call->client->core;
  put(&t, "{\"flags\":%u,\"flags_only\":%s", flags, response == NULL ? "true" : "false");
  if (response == NULL) {
    put(&t, ",\"error\":null,\"parameters\":[],\"outputs\":[]}");
    return t.length;
  }
  TRITONSERVER_Error* failed = core->TRITONSERVER_InferenceResponseError(response);
  if (failed == NULL) {
    put(&t, ",\"error\":null");
  } else {
    put(&t, ",\"error\":{\"code\":\"%s\",\"message\":", code_name(core->TRITONSERVER_ErrorCode(failed)));
    put_string(&t, core->TRITONSERVER_ErrorMessage(failed));
    put(&t, "}");
    /* InferenceResponseError's error belongs to the response. */
  }
  put(&t, ",\"parameters\":[");
  uint32_t count = 0;
  if (core->TRITONSERVER_InferenceResponseParameterCount(response, &count) != NULL) count = 0;
  for (uint32_t p = 0; p < count; ++p) {
    const char* name;
    TRITONSERVER_ParameterType type;
    const void* value;
    TRITONSERVER_Error* bad =
        core->TRITONSERVER_InferenceResponseParameter(response, p, &name, &type, &value);
    if (bad != NULL) {
      core->TRITONSERVER_ErrorDelete(bad);
      continue;
    }
    put(&t, "%s{\"name\":", p > 0 ? "," : "");
    put_string(&t, name);
    switch (type) {
      case TRITONSERVER_PARAMETER_STRING:
        put(&t, ",\"type\":\"STRING\",\"value\":");
        put_string(&t, (const char*)value);
        break;
      case TRITONSERVER_PARAMETER_INT:
        put(&t, ",\"type\":\"INT\",\"value\":\"%" PRId64 "\"", *(const int64_t*)value);
        break;
      case TRITONSERVER_PARAMETER_BOOL:
        put(&t, ",\"type\":\"BOOL\",\"value\":%s", *(const bool*)value ? "true" : "false");
        break;
      case TRITONSERVER_PARAMETER_DOUBLE:
        put(&t, ",\"type\":\"DOUBLE\",\"value\":\"%.17g\"", *(const double*)value);
        break;
      default:
        put(&t, ",\"type\":\"BYTES\",\"value\":null");
        break;
    }
    put(&t, "}");
  }
  put(&t, "],\"outputs\":[");
  if (core->TRITONSERVER_InferenceResponseOutputCount(response, &count) != NULL) count = 0;
  for (uint32_t o = 0; o < count; ++o) {
    const char* name;
    TRITONSERVER_DataType datatype;
    const int64_t* shape;
    uint64_t rank;
    const void* base;
    size_t byte_size;
    TRITONSERVER_MemoryType memory_type;
    int64_t memory_type_id;
    void* userp;
    TRITONSERVER_Error* bad = core->TRITONSERVER_InferenceResponseOutput(
        response, o, &name, &datatype, &shape, &rank, &base, &byte_size, &memory_type,
        &memory_type_id, &userp);
    if (bad != NULL) {
      core->TRITONSERVER_ErrorDelete(bad);
      continue;
    }
    put(&t, "%s{\"name\":", o > 0 ? "," : "");
    put_string(&t, name);
    put(&t, ",\"datatype\":\"%s\",\"shape\":[", datatype_name(datatype));
    for (uint64_t d = 0; d < rank; ++d) put(&t, "%s%" PRId64, d > 0 ? "," : "", shape[d]);
    put(&t, "],\"byte_size\":%zu}", byte_size);
  }
  put(&t, "]}");
  return t.length;
}

int64_t tdc_call_output_data(tdc_call* call, uint32_t index, uint32_t output, void* out,
                             uint64_t cap)
{
  TRITONSERVER_InferenceResponse* response;
  uint32_t flags;
  if (call == NULL || !response_at(call, index, &response, &flags) || response == NULL) return -1;
  const char* name;
  TRITONSERVER_DataType datatype;
  const int64_t* shape;
  uint64_t rank;
  const void* base;
  size_t byte_size;
  TRITONSERVER_MemoryType memory_type;
  int64_t memory_type_id;
  void* userp;
  TRITONSERVER_Error* bad = call->client->core.TRITONSERVER_InferenceResponseOutput(
      response, output, &name, &datatype, &shape, &rank, &base, &byte_size, &memory_type,
      &memory_type_id, &userp);
  if (bad != NULL) {
    call->client->core.TRITONSERVER_ErrorDelete(bad);
    return -1;
  }
  if (byte_size <= cap && byte_size > 0) memcpy(out, base, byte_size);
  return (int64_t)byte_size;
}

/* ---- Freeing. ---- */

static void destroy(tdc_call* call)
{
  const tdc_core* core = &call->client->core;
  for (uint32_t r = 0; r < call->response_count; ++r) {
    if (call->responses[r] != NULL) {
      TRITONSERVER_Error* bad = core->TRITONSERVER_InferenceResponseDelete(call->responses[r]);
      if (bad != NULL) core->TRITONSERVER_ErrorDelete(bad);
    }
  }
  if (call->request != NULL) {
    TRITONSERVER_Error* bad = core->TRITONSERVER_InferenceRequestDelete(call->request);
    if (bad != NULL) core->TRITONSERVER_ErrorDelete(bad);
  }
  for (uint32_t i = 0; i < call->input_count; ++i) {
    free(call->inputs[i].name);
    free(call->inputs[i].shape);
    free(call->inputs[i].data);
  }
  for (uint32_t i = 0; i < call->requested_output_count; ++i) free(call->requested_outputs[i]);
  free(call->requested_outputs);
  for (uint32_t i = 0; i < call->parameter_count; ++i) {
    free(call->parameters[i].key);
    free(call->parameters[i].string_value);
  }
  free(call->parameters);
  free(call->inputs);
  free(call->responses);
  free(call->response_flags);
  pthread_cond_destroy(&call->changed);
  pthread_mutex_destroy(&call->lock);
  free(call->model);
  free(call);
}

void tdc_call_free(tdc_call* call)
{
  if (call == NULL) return;
  pthread_mutex_lock(&call->lock);
  if (call->started && !(call->final && call->released)) {
    call->abandoned = true;
    pthread_mutex_unlock(&call->lock);
    return;
  }
  pthread_mutex_unlock(&call->lock);
  destroy(call);
}

/* ---- For the benchmark: the same inputs on another request. ---- */

TRITONSERVER_Error* tdc_call_fill_request(const tdc_call* call,
                                          TRITONSERVER_InferenceRequest* request)
{
  const tdc_core* core = &call->client->core;
  for (uint32_t i = 0; i < call->input_count; ++i) {
    const tdc_input* input = &call->inputs[i];
    TRITONSERVER_Error* failed = core->TRITONSERVER_InferenceRequestAddInput(
        request, input->name, (TRITONSERVER_DataType)input->datatype, input->shape, input->rank);
    if (failed == NULL) {
      failed = core->TRITONSERVER_InferenceRequestAppendInputData(
          request, input->name, input->data, input->byte_size, TRITONSERVER_MEMORY_CPU, 0);
    }
    if (failed != NULL) return failed;
  }
  for (uint32_t i = 0; i < call->requested_output_count; ++i) {
    TRITONSERVER_Error* failed =
        core->TRITONSERVER_InferenceRequestAddRequestedOutput(request, call->requested_outputs[i]);
    if (failed != NULL) return failed;
  }
  for (uint32_t i = 0; i < call->parameter_count; ++i) {
    TRITONSERVER_Error* failed = set_parameter(core, request, &call->parameters[i]);
    if (failed != NULL) return failed;
  }
  return NULL;
}
