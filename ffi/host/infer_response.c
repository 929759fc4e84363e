/*
 * infer_response.c: TRITONSERVER_InferenceResponse, what the caller of an
 * in-process inference receives for each response the target model sends.
 *
 * Outputs are placed with the caller's response allocator when the
 * response is delivered: start_fn once, then alloc_fn per output (asking
 * for CPU memory), and the bytes the backend wrote are copied there.
 * Deleting the response calls release_fn for every buffer alloc_fn gave.
 * Everything the accessors return stays owned by the response, including
 * the error of TRITONSERVER_InferenceResponseError.
 */
#include <stdlib.h>
#include <string.h>

#include "host_server.h"

/* Keeps the first error a response gets; later ones are dropped. */
static void host_response_set_error(TRITONSERVER_InferenceResponse* response,
                                    TRITONSERVER_Error* error) {
  if (error == NULL) return;
  if (response->error != NULL) {
    TRITONSERVER_ErrorDelete(error);
    return;
  }
  error->held_by_response = true;
  response->error = error;
}

/* Places one output with the allocator and copies the backend's bytes. */
static void host_response_place_output(host_infer_call* call,
                                       TRITONSERVER_InferenceResponse* response,
                                       host_infer_output* placed,
                                       const TRITONBACKEND_Output* sent) {
  TRITONSERVER_ResponseAllocator* allocator = call->allocator;
  uint64_t size = sent->has_buffer ? sent->byte_size : 0;
  placed->byte_size = size;
  placed->memory_type = TRITONSERVER_MEMORY_CPU;
  if (allocator == NULL) {
    host_response_set_error(
        response, host_error_new(TRITONSERVER_ERROR_INTERNAL,
                                 "output '%s': the request has no response allocator", sent->name));
    return;
  }
  void* buffer = NULL;
  void* buffer_userp = NULL;
  TRITONSERVER_MemoryType actual_type = TRITONSERVER_MEMORY_CPU;
  int64_t actual_id = 0;
  TRITONSERVER_Error* error =
      allocator->alloc_fn(allocator, sent->name, (size_t)size, TRITONSERVER_MEMORY_CPU, 0,
                          call->allocator_userp, &buffer, &buffer_userp, &actual_type, &actual_id);
  if (error != NULL) {
    host_response_set_error(response, error);
    return;
  }
  placed->allocated = true;
  placed->base = buffer;
  placed->buffer_userp = buffer_userp;
  placed->memory_type = actual_type;
  placed->memory_type_id = actual_id;
  if (size == 0) return;
  if (buffer == NULL) {
    host_response_set_error(response, host_error_new(TRITONSERVER_ERROR_INTERNAL,
                                                     "output '%s': the allocator returned no "
                                                     "buffer for %llu bytes",
                                                     sent->name, (unsigned long long)size));
    return;
  }
  if (actual_type == TRITONSERVER_MEMORY_GPU) {
    host_response_set_error(response, host_error_new(TRITONSERVER_ERROR_UNSUPPORTED,
                                                     "output '%s': the test host cannot copy "
                                                     "into GPU memory",
                                                     sent->name));
    return;
  }
  memcpy(buffer, sent->buffer, (size_t)size);
}

TRITONSERVER_InferenceResponse* host_infer_response_build(host_infer_call* call,
                                                          host_sent_response* record) {
  TRITONSERVER_InferenceResponse* response = host_alloc(sizeof *response);
  response->model_name = host_strdup(call->model_name);
  response->model_version = call->model_version;
  response->id = host_strdup(call->request_id);
  response->allocator = call->allocator;
  host_allocator_use(response->allocator);
  if (record->has_error) {
    host_response_set_error(response,
                            TRITONSERVER_ErrorNew(record->error_code, record->error_message));
  }
  /* The record's parameters move into the response. */
  response->parameters = record->parameters;
  response->parameter_count = record->parameter_count;
  record->parameters = NULL;
  record->parameter_count = 0;

  if (call->allocator != NULL && call->allocator->start_fn != NULL) {
    host_response_set_error(response,
                            call->allocator->start_fn(call->allocator, call->allocator_userp));
  }
  response->output_count = record->output_count;
  response->outputs = host_alloc(sizeof *response->outputs * (record->output_count + 1u));
  for (uint32_t i = 0; i < record->output_count; i++) {
    const TRITONBACKEND_Output* sent = record->outputs[i];
    host_infer_output* placed = &response->outputs[i];
    placed->name = host_strdup(sent->name);
    placed->datatype = sent->datatype;
    placed->rank = sent->rank;
    placed->shape = host_alloc(sizeof *placed->shape * (sent->rank + 1u));
    if (sent->rank > 0) memcpy(placed->shape, sent->shape, sizeof *sent->shape * sent->rank);
    host_response_place_output(call, response, placed, sent);
  }
  host_handle_add(HOST_HANDLE_INFER_RESPONSE, response);
  return response;
}

#define HOST_CHECK_INFER_RESPONSE(response, api)                                           \
  do {                                                                                     \
    if (!host_handle_check(HOST_HANDLE_INFER_RESPONSE, (response), (api))) {               \
      return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid inference response"); \
    }                                                                                      \
  } while (0)

TRITONSERVER_Error* TRITONSERVER_InferenceResponseDelete(
    TRITONSERVER_InferenceResponse* inference_response) {
  if (inference_response == NULL) return NULL; /* Triton deletes NULL as a no-op */
  if (!host_handle_remove(HOST_HANDLE_INFER_RESPONSE, inference_response,
                          "InferenceResponseDelete")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid inference response");
  }
  TRITONSERVER_ResponseAllocator* allocator = inference_response->allocator;
  for (uint32_t i = 0; i < inference_response->output_count; i++) {
    host_infer_output* output = &inference_response->outputs[i];
    if (output->allocated) {
      /* Triton does not retry a failed release; neither does the host. */
      TRITONSERVER_Error* error = allocator->release_fn(
          allocator, output->base, output->buffer_userp, (size_t)output->byte_size,
          output->memory_type, output->memory_type_id);
      if (error != NULL) TRITONSERVER_ErrorDelete(error);
    }
    free(output->name);
    free(output->shape);
  }
  free(inference_response->outputs);
  host_response_parameters_free(inference_response->parameters,
                                inference_response->parameter_count);
  if (inference_response->error != NULL) {
    inference_response->error->held_by_response = false;
    TRITONSERVER_ErrorDelete(inference_response->error);
  }
  host_allocator_unuse(allocator);
  free(inference_response->model_name);
  free(inference_response->id);
  free(inference_response);
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_InferenceResponseError(
    TRITONSERVER_InferenceResponse* inference_response) {
  HOST_CHECK_INFER_RESPONSE(inference_response, "InferenceResponseError");
  return inference_response->error;
}

TRITONSERVER_Error* TRITONSERVER_InferenceResponseModel(
    TRITONSERVER_InferenceResponse* inference_response, const char** model_name,
    int64_t* model_version) {
  HOST_CHECK_INFER_RESPONSE(inference_response, "InferenceResponseModel");
  if (model_name == NULL || model_version == NULL) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "NULL out-pointer");
  }
  *model_name = inference_response->model_name;
  *model_version = inference_response->model_version;
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_InferenceResponseId(
    TRITONSERVER_InferenceResponse* inference_response, const char** request_id) {
  HOST_CHECK_INFER_RESPONSE(inference_response, "InferenceResponseId");
  if (request_id == NULL) return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "NULL out-pointer");
  *request_id = inference_response->id;
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_InferenceResponseParameterCount(
    TRITONSERVER_InferenceResponse* inference_response, uint32_t* count) {
  HOST_CHECK_INFER_RESPONSE(inference_response, "InferenceResponseParameterCount");
  if (count == NULL) return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "NULL out-pointer");
  *count = inference_response->parameter_count;
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_InferenceResponseParameter(
    TRITONSERVER_InferenceResponse* inference_response, const uint32_t index, const char** name,
    TRITONSERVER_ParameterType* type, const void** vvalue) {
  HOST_CHECK_INFER_RESPONSE(inference_response, "InferenceResponseParameter");
  if (name == NULL || type == NULL || vvalue == NULL) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "NULL out-pointer");
  }
  if (index >= inference_response->parameter_count) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                          "out of bounds index %u: response has %u parameters", index,
                          inference_response->parameter_count);
  }
  const host_response_parameter* parameter = &inference_response->parameters[index];
  *name = parameter->name;
  *type = parameter->value.type;
  *vvalue = host_typed_value_pointer(&parameter->value);
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_InferenceResponseOutputCount(
    TRITONSERVER_InferenceResponse* inference_response, uint32_t* count) {
  HOST_CHECK_INFER_RESPONSE(inference_response, "InferenceResponseOutputCount");
  if (count == NULL) return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "NULL out-pointer");
  *count = inference_response->output_count;
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_InferenceResponseOutput(
    TRITONSERVER_InferenceResponse* inference_response, const uint32_t index, const char** name,
    TRITONSERVER_DataType* datatype, const int64_t** shape, uint64_t* dim_count, const void** base,
    size_t* byte_size, TRITONSERVER_MemoryType* memory_type, int64_t* memory_type_id,
    void** userp) {
  HOST_CHECK_INFER_RESPONSE(inference_response, "InferenceResponseOutput");
  if (name == NULL || datatype == NULL || shape == NULL || dim_count == NULL || base == NULL ||
      byte_size == NULL || memory_type == NULL || memory_type_id == NULL || userp == NULL) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "NULL out-pointer");
  }
  if (index >= inference_response->output_count) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                          "out of bounds index %u: response has %u outputs", index,
                          inference_response->output_count);
  }
  const host_infer_output* output = &inference_response->outputs[index];
  *name = output->name;
  *datatype = output->datatype;
  *shape = output->shape;
  *dim_count = output->rank;
  *base = output->base;
  *byte_size = (size_t)output->byte_size;
  *memory_type = output->memory_type;
  *memory_type_id = output->memory_type_id;
  *userp = output->buffer_userp;
  return NULL;
}
