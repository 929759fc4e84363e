/*
 * infer_request.c: TRITONSERVER_InferenceRequest, the request a backend
 * builds to run another model in process (BLS): metadata, inputs whose
 * buffers stay the caller's, requested outputs, parameters and callbacks.
 * Submitting and cancelling it are in infer_call.c.
 *
 * As in Triton, creating a request looks the model up, so an unknown model
 * fails here (and again at submission if it was unloaded in between);
 * when calls go to the embedding server (forward.c), at submission only.
 */
#include <stdlib.h>
#include <string.h>

#include "host_server.h"

/* Triton's limit for string correlation ids. */
#define HOST_MAX_CORRELATION_ID_LENGTH 128u
#define HOST_INFER_MAX_RANK 64u

#define HOST_CHECK_INFER_REQUEST(request, api)                                            \
  do {                                                                                    \
    if (!host_handle_check(HOST_HANDLE_INFER_REQUEST, (request), (api))) {                \
      return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid inference request"); \
    }                                                                                     \
  } while (0)

TRITONSERVER_Error* TRITONSERVER_InferenceRequestNew(
    TRITONSERVER_InferenceRequest** inference_request, TRITONSERVER_Server* server,
    const char* model_name, const int64_t model_version) {
  if (inference_request == NULL || model_name == NULL) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "NULL request out-pointer or model name");
  }
  *inference_request = NULL;
  if (!host_server_check(server, "InferenceRequestNew")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid server handle");
  }
  /* A lookup only (no call to pin), failing with Triton's wording. A
   * server that takes the calls (forward.c) looks the model up itself when
   * the request is submitted. */
  if (!host_forward_active()) {
    TRITONSERVER_Error* error = host_registry_pin(model_name, model_version, NULL);
    if (error != NULL) return error;
  }
  TRITONSERVER_InferenceRequest* request = host_alloc(sizeof *request);
  pthread_mutex_init(&request->lock, NULL);
  request->model_name = host_strdup(model_name);
  request->model_version = model_version;
  request->id = host_strdup("");
  request->correlation_id_string = host_strdup("");
  host_handle_add(HOST_HANDLE_INFER_REQUEST, request);
  *inference_request = request;
  return NULL;
}

static void host_infer_input_free(host_infer_input* input) {
  free(input->name);
  free(input->shape);
  free(input->buffers);
}

TRITONSERVER_Error* TRITONSERVER_InferenceRequestDelete(
    TRITONSERVER_InferenceRequest* inference_request) {
  if (inference_request == NULL) return NULL; /* Triton deletes NULL as a no-op */
  HOST_CHECK_INFER_REQUEST(inference_request, "InferenceRequestDelete");
  pthread_mutex_lock(&inference_request->lock);
  bool in_flight = inference_request->in_flight;
  pthread_mutex_unlock(&inference_request->lock);
  /* Until the release callback the server owns the request; Triton would
   * free it under its own feet. */
  if (in_flight) {
    host_violation_record(HOST_VIOLATION_INFER_REQUEST_DELETED_IN_FLIGHT,
                          "request '%s' for model '%s'", inference_request->id,
                          inference_request->model_name);
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                          "inference request '%s' is still owned by the server",
                          inference_request->id);
  }
  if (!host_handle_remove(HOST_HANDLE_INFER_REQUEST, inference_request, "InferenceRequestDelete")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid inference request");
  }
  host_infer_call_unref(inference_request->call);
  for (uint32_t i = 0; i < inference_request->input_count; i++) {
    host_infer_input_free(&inference_request->inputs[i]);
  }
  free(inference_request->inputs);
  for (uint32_t i = 0; i < inference_request->requested_output_count; i++) {
    free(inference_request->requested_outputs[i]);
  }
  free(inference_request->requested_outputs);
  for (uint32_t i = 0; i < inference_request->parameter_count; i++) {
    free(inference_request->parameters[i].key);
    free(inference_request->parameters[i].value.string_value);
  }
  free(inference_request->parameters);
  free(inference_request->model_name);
  free(inference_request->id);
  free(inference_request->correlation_id_string);
  pthread_mutex_destroy(&inference_request->lock);
  free(inference_request);
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_InferenceRequestSetId(
    TRITONSERVER_InferenceRequest* inference_request, const char* id) {
  HOST_CHECK_INFER_REQUEST(inference_request, "InferenceRequestSetId");
  char* copy = host_strdup(id);
  pthread_mutex_lock(&inference_request->lock);
  char* old = inference_request->id;
  inference_request->id = copy;
  pthread_mutex_unlock(&inference_request->lock);
  free(old);
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_InferenceRequestFlags(
    TRITONSERVER_InferenceRequest* inference_request, uint32_t* flags) {
  HOST_CHECK_INFER_REQUEST(inference_request, "InferenceRequestFlags");
  if (flags == NULL) return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "NULL out-pointer");
  pthread_mutex_lock(&inference_request->lock);
  *flags = inference_request->flags;
  pthread_mutex_unlock(&inference_request->lock);
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_InferenceRequestSetFlags(
    TRITONSERVER_InferenceRequest* inference_request, uint32_t flags) {
  HOST_CHECK_INFER_REQUEST(inference_request, "InferenceRequestSetFlags");
  pthread_mutex_lock(&inference_request->lock);
  inference_request->flags = flags;
  pthread_mutex_unlock(&inference_request->lock);
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_InferenceRequestSetCorrelationId(
    TRITONSERVER_InferenceRequest* inference_request, uint64_t correlation_id) {
  HOST_CHECK_INFER_REQUEST(inference_request, "InferenceRequestSetCorrelationId");
  pthread_mutex_lock(&inference_request->lock);
  inference_request->correlation_id_is_string = false;
  inference_request->correlation_id = correlation_id;
  pthread_mutex_unlock(&inference_request->lock);
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_InferenceRequestSetCorrelationIdString(
    TRITONSERVER_InferenceRequest* inference_request, const char* correlation_id) {
  HOST_CHECK_INFER_REQUEST(inference_request, "InferenceRequestSetCorrelationIdString");
  if (correlation_id == NULL) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "NULL correlation id");
  }
  if (strlen(correlation_id) > HOST_MAX_CORRELATION_ID_LENGTH) {
    return host_error_new(TRITONSERVER_ERROR_UNSUPPORTED,
                          "string correlation ID cannot be longer than 128 characters");
  }
  char* copy = host_strdup(correlation_id);
  pthread_mutex_lock(&inference_request->lock);
  char* old = inference_request->correlation_id_string;
  inference_request->correlation_id_string = copy;
  inference_request->correlation_id_is_string = true;
  inference_request->correlation_id = 0;
  pthread_mutex_unlock(&inference_request->lock);
  free(old);
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_InferenceRequestSetTimeoutMicroseconds(
    TRITONSERVER_InferenceRequest* inference_request, uint64_t timeout_us) {
  HOST_CHECK_INFER_REQUEST(inference_request, "InferenceRequestSetTimeoutMicroseconds");
  pthread_mutex_lock(&inference_request->lock);
  inference_request->timeout_us = timeout_us;
  pthread_mutex_unlock(&inference_request->lock);
  return NULL;
}

/* Kept, as Triton keeps it; the stand-in's schedulers have one priority
 * level, so it changes nothing. */
TRITONSERVER_Error* TRITONSERVER_InferenceRequestSetPriorityUInt64(
    TRITONSERVER_InferenceRequest* inference_request, uint64_t priority) {
  HOST_CHECK_INFER_REQUEST(inference_request, "InferenceRequestSetPriorityUInt64");
  pthread_mutex_lock(&inference_request->lock);
  inference_request->priority = priority;
  pthread_mutex_unlock(&inference_request->lock);
  return NULL;
}

/* Called with the request's lock held. */
static host_infer_input* host_infer_input_find(TRITONSERVER_InferenceRequest* request,
                                               const char* name) {
  for (uint32_t i = 0; i < request->input_count; i++) {
    if (strcmp(request->inputs[i].name, name) == 0) return &request->inputs[i];
  }
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_InferenceRequestAddInput(
    TRITONSERVER_InferenceRequest* inference_request, const char* name,
    const TRITONSERVER_DataType datatype, const int64_t* shape, uint64_t dim_count) {
  HOST_CHECK_INFER_REQUEST(inference_request, "InferenceRequestAddInput");
  if (name == NULL || (shape == NULL && dim_count > 0)) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "NULL input name or shape");
  }
  if (dim_count > HOST_INFER_MAX_RANK) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "input '%s' has %llu dimensions", name,
                          (unsigned long long)dim_count);
  }
  pthread_mutex_lock(&inference_request->lock);
  if (host_infer_input_find(inference_request, name) != NULL) {
    pthread_mutex_unlock(&inference_request->lock);
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "input '%s' already exists in request",
                          name);
  }
  inference_request->inputs =
      host_grow(inference_request->inputs,
                sizeof *inference_request->inputs * (inference_request->input_count + 1u));
  host_infer_input* input = &inference_request->inputs[inference_request->input_count++];
  memset(input, 0, sizeof *input);
  input->name = host_strdup(name);
  input->datatype = datatype;
  input->rank = (uint32_t)dim_count;
  input->shape = host_alloc(sizeof *input->shape * (dim_count + 1u));
  if (dim_count > 0) memcpy(input->shape, shape, sizeof *shape * dim_count);
  pthread_mutex_unlock(&inference_request->lock);
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_InferenceRequestAppendInputData(
    TRITONSERVER_InferenceRequest* inference_request, const char* name, const void* base,
    size_t byte_size, TRITONSERVER_MemoryType memory_type, int64_t memory_type_id) {
  HOST_CHECK_INFER_REQUEST(inference_request, "InferenceRequestAppendInputData");
  if (name == NULL || (base == NULL && byte_size > 0)) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "NULL input name or data");
  }
  if (memory_type == TRITONSERVER_MEMORY_GPU) {
    return host_error_new(TRITONSERVER_ERROR_UNSUPPORTED,
                          "input '%s': the test host has no GPU memory", name);
  }
  pthread_mutex_lock(&inference_request->lock);
  host_infer_input* input = host_infer_input_find(inference_request, name);
  if (input == NULL) {
    pthread_mutex_unlock(&inference_request->lock);
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "input '%s' does not exist in request",
                          name);
  }
  input->buffers = host_grow(input->buffers, sizeof *input->buffers * (input->buffer_count + 1u));
  input->buffers[input->buffer_count++] = (host_input_buffer){
      .base = base,
      .byte_size = byte_size,
      .memory_type = memory_type,
      .memory_type_id = memory_type_id,
  };
  pthread_mutex_unlock(&inference_request->lock);
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_InferenceRequestAddRequestedOutput(
    TRITONSERVER_InferenceRequest* inference_request, const char* name) {
  HOST_CHECK_INFER_REQUEST(inference_request, "InferenceRequestAddRequestedOutput");
  if (name == NULL) return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "NULL output name");
  pthread_mutex_lock(&inference_request->lock);
  for (uint32_t i = 0; i < inference_request->requested_output_count; i++) {
    if (strcmp(inference_request->requested_outputs[i], name) == 0) {
      pthread_mutex_unlock(&inference_request->lock);
      return NULL; /* a set in Triton */
    }
  }
  inference_request->requested_outputs = host_grow(
      inference_request->requested_outputs, sizeof *inference_request->requested_outputs *
                                                (inference_request->requested_output_count + 1u));
  inference_request->requested_outputs[inference_request->requested_output_count++] =
      host_strdup(name);
  pthread_mutex_unlock(&inference_request->lock);
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_InferenceRequestSetReleaseCallback(
    TRITONSERVER_InferenceRequest* inference_request,
    TRITONSERVER_InferenceRequestReleaseFn_t request_release_fn, void* request_release_userp) {
  HOST_CHECK_INFER_REQUEST(inference_request, "InferenceRequestSetReleaseCallback");
  pthread_mutex_lock(&inference_request->lock);
  inference_request->release_fn = request_release_fn;
  inference_request->release_userp = request_release_userp;
  pthread_mutex_unlock(&inference_request->lock);
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_InferenceRequestSetResponseCallback(
    TRITONSERVER_InferenceRequest* inference_request,
    TRITONSERVER_ResponseAllocator* response_allocator, void* response_allocator_userp,
    TRITONSERVER_InferenceResponseCompleteFn_t response_fn, void* response_userp) {
  HOST_CHECK_INFER_REQUEST(inference_request, "InferenceRequestSetResponseCallback");
  if (response_allocator != NULL && !host_handle_check(HOST_HANDLE_ALLOCATOR, response_allocator,
                                                       "InferenceRequestSetResponseCallback")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid response allocator");
  }
  pthread_mutex_lock(&inference_request->lock);
  inference_request->allocator = response_allocator;
  inference_request->allocator_userp = response_allocator_userp;
  inference_request->response_fn = response_fn;
  inference_request->response_userp = response_userp;
  pthread_mutex_unlock(&inference_request->lock);
  return NULL;
}

/* Appends a parameter (Triton keeps a list: a repeated key is kept twice). */
static TRITONSERVER_Error* host_infer_add_parameter(TRITONSERVER_InferenceRequest* request,
                                                    const char* key, host_parameter value,
                                                    const char* api) {
  HOST_CHECK_INFER_REQUEST(request, api);
  if (key == NULL) return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "NULL parameter key");
  value.key = host_strdup(key);
  pthread_mutex_lock(&request->lock);
  request->parameters =
      host_grow(request->parameters, sizeof *request->parameters * (request->parameter_count + 1u));
  request->parameters[request->parameter_count++] = value;
  pthread_mutex_unlock(&request->lock);
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_InferenceRequestSetStringParameter(
    TRITONSERVER_InferenceRequest* request, const char* key, const char* value) {
  if (value == NULL) return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "NULL value");
  host_parameter parameter = {
      .value = {.type = TRITONSERVER_PARAMETER_STRING, .string_value = host_strdup(value)}};
  TRITONSERVER_Error* error =
      host_infer_add_parameter(request, key, parameter, "InferenceRequestSetStringParameter");
  if (error != NULL) free(parameter.value.string_value);
  return error;
}

TRITONSERVER_Error* TRITONSERVER_InferenceRequestSetIntParameter(
    TRITONSERVER_InferenceRequest* request, const char* key, const int64_t value) {
  host_parameter parameter = {.value = {.type = TRITONSERVER_PARAMETER_INT, .int_value = value}};
  return host_infer_add_parameter(request, key, parameter, "InferenceRequestSetIntParameter");
}

TRITONSERVER_Error* TRITONSERVER_InferenceRequestSetBoolParameter(
    TRITONSERVER_InferenceRequest* request, const char* key, const bool value) {
  host_parameter parameter = {.value = {.type = TRITONSERVER_PARAMETER_BOOL, .bool_value = value}};
  return host_infer_add_parameter(request, key, parameter, "InferenceRequestSetBoolParameter");
}

TRITONSERVER_Error* TRITONSERVER_InferenceRequestSetDoubleParameter(
    TRITONSERVER_InferenceRequest* request, const char* key, const double value) {
  host_parameter parameter = {
      .value = {.type = TRITONSERVER_PARAMETER_DOUBLE, .double_value = value}};
  return host_infer_add_parameter(request, key, parameter, "InferenceRequestSetDoubleParameter");
}
