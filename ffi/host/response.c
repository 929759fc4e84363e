/*
 * response.c: responses, their outputs, and response factories.
 *
 * Sending a response is where Triton would hand the result to the client;
 * the host instead records it in the request (error code and message,
 * flags, outputs with their bytes, parameters) for the test to read back.
 *
 * Ownership of the error passed to TRITONBACKEND_ResponseSend stays with
 * the caller: Triton copies its code and message (Status(...,
 * TRITONSERVER_ErrorMessage(error))) and never deletes it, and its own
 * backend utilities delete the error after sending it. The host does the
 * same, so a backend that forgets to delete it shows up as a live error.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_internal.h"
#include "host_server.h"

void host_output_free(TRITONBACKEND_Output* output) {
  if (output == NULL) return;
  free(output->name);
  free(output->shape);
  free(output->buffer);
  output->magic = HOST_MAGIC_DEAD;
  free(output);
}

void host_response_parameters_free(host_response_parameter* parameters, uint32_t count) {
  for (uint32_t i = 0; i < count; i++) {
    free(parameters[i].name);
    free(parameters[i].json_value);
    free(parameters[i].value.string_value);
  }
  free(parameters);
}

void host_request_record_response(TRITONBACKEND_Request* request, bool flags_only,
                                  uint32_t flags, const TRITONSERVER_Error* error,
                                  TRITONBACKEND_Output** outputs, uint32_t output_count,
                                  host_response_parameter* parameters,
                                  uint32_t parameter_count) {
  if (request->response_count == request->response_capacity) {
    uint32_t capacity = request->response_capacity == 0 ? 2 : request->response_capacity * 2;
    request->responses = host_grow(request->responses, sizeof *request->responses * capacity);
    request->response_capacity = capacity;
  }
  host_sent_response* record = &request->responses[request->response_count++];
  memset(record, 0, sizeof *record);
  record->flags_only = flags_only;
  record->flags = flags;
  record->sent_ns = host_now_ns();
  if (error != NULL) {
    record->has_error = true;
    if (*(const uint32_t*)error == HOST_MAGIC_ERROR) {
      record->error_code = error->code;
      record->error_message = host_strdup(error->message);
    } else {
      host_violation_record(HOST_VIOLATION_BAD_HANDLE, "ResponseSend with an invalid error");
      record->error_code = TRITONSERVER_ERROR_INTERNAL;
      record->error_message = host_strdup("(invalid error handle)");
    }
  }
  record->outputs = outputs;
  record->output_count = output_count;
  record->parameters = parameters;
  record->parameter_count = parameter_count;
  if (request->final_sent) {
    host_violation_record(HOST_VIOLATION_RESPONSE_AFTER_FINAL, "request '%s'", request->id);
  }
  if ((flags & TRITONSERVER_RESPONSE_COMPLETE_FINAL) != 0 && !request->final_sent) {
    request->final_sent = true;
    request->final_ns = record->sent_ns;
  }
}

/* ---- Factories. ---- */

TRITONSERVER_Error* TRITONBACKEND_ResponseFactoryNew(TRITONBACKEND_ResponseFactory** factory,
                                                     TRITONBACKEND_Request* request) {
  if (factory == NULL || !host_check_magic(request, HOST_MAGIC_REQUEST, "request")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid request or NULL out");
  }
  host_request_note_use(request, "ResponseFactoryNew");
  TRITONBACKEND_ResponseFactory* created = host_alloc(sizeof *created);
  created->magic = HOST_MAGIC_FACTORY;
  created->request = request;
  pthread_mutex_lock(&request->lock);
  request->live_factories++;
  pthread_mutex_unlock(&request->lock);
  host_live_add(HOST_LIVE_FACTORIES, 1);
  *factory = created;
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_ResponseFactoryDelete(TRITONBACKEND_ResponseFactory* factory) {
  if (!host_check_magic(factory, HOST_MAGIC_FACTORY, "response factory")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid response factory");
  }
  TRITONBACKEND_Request* request = factory->request;
  /* Taken first: once the last factory goes, an in-process request may
   * finish (and be retired) on another thread. */
  host_infer_call* call = host_infer_call_acquire(request);
  pthread_mutex_lock(&request->lock);
  request->live_factories--;
  pthread_mutex_unlock(&request->lock);
  factory->magic = HOST_MAGIC_DEAD;
  free(factory);
  host_live_add(HOST_LIVE_FACTORIES, -1);
  /* A streaming reader waits for this too: with the last factory gone a
   * released request can get no more responses (stream.c). */
  host_request_signal();
  host_infer_call_progress(call);
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_ResponseFactorySendFlags(TRITONBACKEND_ResponseFactory* factory,
                                                           const uint32_t send_flags) {
  if (!host_check_magic(factory, HOST_MAGIC_FACTORY, "response factory")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid response factory");
  }
  TRITONBACKEND_Request* request = factory->request;
  host_infer_call* call = host_infer_call_acquire(request);
  pthread_mutex_lock(&request->lock);
  host_request_record_response(request, true, send_flags, NULL, NULL, 0, NULL, 0);
  pthread_mutex_unlock(&request->lock);
  host_request_signal();
  host_infer_call_progress(call);
  return NULL;
}

/* ---- Responses. ---- */

static TRITONBACKEND_Response* host_response_new(TRITONBACKEND_Request* request) {
  TRITONBACKEND_Response* response = host_alloc(sizeof *response);
  response->magic = HOST_MAGIC_RESPONSE;
  response->request = request;
  pthread_mutex_lock(&request->lock);
  request->live_responses++;
  pthread_mutex_unlock(&request->lock);
  host_live_add(HOST_LIVE_RESPONSES, 1);
  return response;
}

/* Frees the response object; outputs and parameters only when free_contents. */
static void host_response_free(TRITONBACKEND_Response* response, bool free_contents) {
  TRITONBACKEND_Request* request = response->request;
  host_infer_call* call = host_infer_call_acquire(request);
  pthread_mutex_lock(&request->lock);
  request->live_responses--;
  pthread_mutex_unlock(&request->lock);
  if (free_contents) {
    for (uint32_t i = 0; i < response->output_count; i++) host_output_free(response->outputs[i]);
    free(response->outputs);
    host_response_parameters_free(response->parameters, response->parameter_count);
  }
  response->magic = HOST_MAGIC_DEAD;
  free(response);
  host_live_add(HOST_LIVE_RESPONSES, -1);
  host_infer_call_progress(call);
}

TRITONSERVER_Error* TRITONBACKEND_ResponseNew(TRITONBACKEND_Response** response,
                                              TRITONBACKEND_Request* request) {
  if (response == NULL || !host_check_magic(request, HOST_MAGIC_REQUEST, "request")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid request or NULL out");
  }
  host_request_note_use(request, "ResponseNew");
  *response = host_response_new(request);
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_ResponseNewFromFactory(TRITONBACKEND_Response** response,
                                                         TRITONBACKEND_ResponseFactory* factory) {
  if (response == NULL || !host_check_magic(factory, HOST_MAGIC_FACTORY, "response factory")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid factory or NULL out");
  }
  *response = host_response_new(factory->request);
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_ResponseDelete(TRITONBACKEND_Response* response) {
  if (!host_check_magic(response, HOST_MAGIC_RESPONSE, "response")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid response handle");
  }
  host_response_free(response, true);
  return NULL;
}

/* Adds a parameter: 'value' is its JSON text (consumed), 'typed' its value. */
static TRITONSERVER_Error* host_response_add_parameter(TRITONBACKEND_Response* response,
                                                       const char* name, host_text* value,
                                                       const host_typed_value* typed) {
  if (!host_check_magic(response, HOST_MAGIC_RESPONSE, "response") || name == NULL) {
    host_text_free(value);
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid response or NULL name");
  }
  if (response->parameter_count == response->parameter_capacity) {
    uint32_t capacity = response->parameter_capacity == 0 ? 4 : response->parameter_capacity * 2;
    response->parameters = host_grow(response->parameters, sizeof *response->parameters * capacity);
    response->parameter_capacity = capacity;
  }
  host_response_parameter* parameter = &response->parameters[response->parameter_count++];
  parameter->name = host_strdup(name);
  parameter->json_value = host_strdup(value->data);
  parameter->value = *typed;
  parameter->value.string_value =
      typed->type == TRITONSERVER_PARAMETER_STRING ? host_strdup(typed->string_value) : NULL;
  host_text_free(value);
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_ResponseSetStringParameter(TRITONBACKEND_Response* response,
                                                             const char* name,
                                                             const char* value) {
  host_text text = {0};
  host_text_json_string(&text, value);
  host_typed_value typed = {.type = TRITONSERVER_PARAMETER_STRING,
                            .string_value = (char*)(value == NULL ? "" : value)};
  return host_response_add_parameter(response, name, &text, &typed);
}

TRITONSERVER_Error* TRITONBACKEND_ResponseSetIntParameter(TRITONBACKEND_Response* response,
                                                          const char* name, const int64_t value) {
  host_text text = {0};
  host_text_printf(&text, "%lld", (long long)value);
  host_typed_value typed = {.type = TRITONSERVER_PARAMETER_INT, .int_value = value};
  return host_response_add_parameter(response, name, &text, &typed);
}

TRITONSERVER_Error* TRITONBACKEND_ResponseSetBoolParameter(TRITONBACKEND_Response* response,
                                                           const char* name, const bool value) {
  host_text text = {0};
  host_text_printf(&text, "%s", value ? "true" : "false");
  host_typed_value typed = {.type = TRITONSERVER_PARAMETER_BOOL, .bool_value = value};
  return host_response_add_parameter(response, name, &text, &typed);
}

TRITONSERVER_Error* TRITONBACKEND_ResponseSetDoubleParameter(TRITONBACKEND_Response* response,
                                                             const char* name,
                                                             const double value) {
  host_text text = {0};
  /* JSON has no NaN or infinity; the test sees null for those. */
  if (isfinite(value)) {
    host_text_printf(&text, "%.17g", value);
  } else {
    host_text_printf(&text, "null");
  }
  host_typed_value typed = {.type = TRITONSERVER_PARAMETER_DOUBLE, .double_value = value};
  return host_response_add_parameter(response, name, &text, &typed);
}

TRITONSERVER_Error* TRITONBACKEND_ResponseOutput(TRITONBACKEND_Response* response,
                                                 TRITONBACKEND_Output** output, const char* name,
                                                 const TRITONSERVER_DataType datatype,
                                                 const int64_t* shape,
                                                 const uint32_t dims_count) {
  if (output == NULL || !host_check_magic(response, HOST_MAGIC_RESPONSE, "response")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid response or NULL out");
  }
  *output = NULL;
  if (name == NULL || (shape == NULL && dims_count > 0)) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "NULL output name or shape");
  }
  TRITONBACKEND_Output* created = host_alloc(sizeof *created);
  created->magic = HOST_MAGIC_OUTPUT;
  created->request = response->request;
  created->name = host_strdup(name);
  created->datatype = datatype;
  created->rank = dims_count;
  created->shape = host_alloc(sizeof *created->shape * (dims_count + 1u));
  if (dims_count > 0) memcpy(created->shape, shape, sizeof *shape * dims_count);
  if (response->output_count == response->output_capacity) {
    uint32_t capacity = response->output_capacity == 0 ? 4 : response->output_capacity * 2;
    response->outputs = host_grow(response->outputs, sizeof *response->outputs * capacity);
    response->output_capacity = capacity;
  }
  response->outputs[response->output_count++] = created;
  *output = created;
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_OutputBuffer(TRITONBACKEND_Output* output, void** buffer,
                                               const uint64_t buffer_byte_size,
                                               TRITONSERVER_MemoryType* memory_type,
                                               int64_t* memory_type_id) {
  if (buffer == NULL || memory_type == NULL || memory_type_id == NULL ||
      !host_check_magic(output, HOST_MAGIC_OUTPUT, "output")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid output or NULL out");
  }
  *buffer = NULL;
  if (output->has_buffer) {
    host_violation_record(HOST_VIOLATION_OUTPUT_BUFFER_TWICE, "output '%s'", output->name);
    return host_error_new(TRITONSERVER_ERROR_ALREADY_EXISTS,
                          "allocated buffer for output '%s' already exists", output->name);
  }
  /* Uninitialized on purpose (malloc, not calloc): a backend that leaves
   * bytes unwritten should not be rescued by zeros. */
  output->buffer = malloc(buffer_byte_size == 0 ? 1 : buffer_byte_size);
  if (output->buffer == NULL) {
    return host_error_new(TRITONSERVER_ERROR_UNAVAILABLE,
                          "cannot allocate %llu bytes for output '%s'",
                          (unsigned long long)buffer_byte_size, output->name);
  }
  output->byte_size = buffer_byte_size;
  output->has_buffer = true;
  output->attributes.memory_type = TRITONSERVER_MEMORY_CPU;
  output->attributes.memory_type_id = 0;
  /* Simulated GPU memory, when the request asked for it (host_api.h). */
  const TRITONBACKEND_Request* request = output->request;
  for (uint32_t i = 0; request != NULL && i < request->gpu_output_count; i++) {
    if (strcmp(request->gpu_outputs[i], output->name) == 0) {
      output->attributes.memory_type = TRITONSERVER_MEMORY_GPU;
      output->attributes.memory_type_id = request->gpu_output_devices[i];
    }
  }
  output->attributes.byte_size = buffer_byte_size;
  *buffer = output->buffer;
  *memory_type = output->attributes.memory_type;
  *memory_type_id = output->attributes.memory_type_id;
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_OutputBufferAttributes(
    TRITONBACKEND_Output* output, TRITONSERVER_BufferAttributes** buffer_attributes) {
  if (buffer_attributes == NULL || !host_check_magic(output, HOST_MAGIC_OUTPUT, "output")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid output or NULL out");
  }
  *buffer_attributes = &output->attributes;
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_ResponseSend(TRITONBACKEND_Response* response,
                                               const uint32_t send_flags,
                                               TRITONSERVER_Error* error) {
  if (!host_check_magic(response, HOST_MAGIC_RESPONSE, "response")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid response handle");
  }
  TRITONBACKEND_Request* request = response->request;
  host_infer_call* call = host_infer_call_acquire(request);
  pthread_mutex_lock(&request->lock);
  host_request_record_response(request, false, send_flags, error, response->outputs,
                               response->output_count, response->parameters,
                               response->parameter_count);
  pthread_mutex_unlock(&request->lock);
  /* The record now owns the outputs and parameters. */
  host_response_free(response, false);
  host_request_signal();
  /* For an in-process request, the caller's callback runs on this thread,
   * as Triton runs it in the backend's TRITONBACKEND_ResponseSend. */
  host_infer_call_progress(call);
  return NULL;
}
