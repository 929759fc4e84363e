/*
 * request_builder.c: the tests' side of requests: building them (with the
 * checks Triton applies before a request reaches a backend), cancelling,
 * waiting for them and freeing them.
 */
#include <stdlib.h>
#include <string.h>

#include "host_api.h"
#include "host_internal.h"
#include "host_server.h"

#define HOST_MAX_RANK 64u

TRITONBACKEND_Request* host_request_new(const char* id, uint64_t correlation_id,
                                        const char* correlation_id_string, uint32_t flags,
                                        uint64_t timeout_us) {
  TRITONBACKEND_Request* request = host_alloc(sizeof *request);
  request->magic = HOST_MAGIC_REQUEST;
  request->id = host_strdup(id);
  request->correlation_id_is_string =
      correlation_id_string != NULL && correlation_id_string[0] != '\0';
  request->correlation_id = request->correlation_id_is_string ? 0 : correlation_id;
  request->correlation_id_string = host_strdup(correlation_id_string);
  request->flags = flags;
  request->timeout_us = timeout_us;
  pthread_mutex_init(&request->lock, NULL);
  host_live_add(HOST_LIVE_REQUESTS, 1);
  return request;
}

/* Element count of a shape, or false on a negative dimension or overflow. */
static bool host_element_count(const int64_t* shape, uint32_t rank, uint64_t* count) {
  uint64_t total = 1;
  for (uint32_t i = 0; i < rank; i++) {
    if (shape[i] < 0) return false;
    if (__builtin_mul_overflow(total, (uint64_t)shape[i], &total)) return false;
  }
  *count = total;
  return true;
}

/* Triton's check of a BYTES tensor: `count` length-prefixed elements
 * exactly fill the data. */
static bool host_bytes_layout_valid(const uint8_t* data, uint64_t byte_size, uint64_t count) {
  uint64_t at = 0;
  for (uint64_t i = 0; i < count; i++) {
    if (byte_size - at < 4) return false;
    uint32_t length = (uint32_t)data[at] | (uint32_t)data[at + 1] << 8 |
                      (uint32_t)data[at + 2] << 16 | (uint32_t)data[at + 3] << 24;
    at += 4;
    if (byte_size - at < length) return false;
    at += length;
  }
  return at == byte_size;
}

static void host_input_insert_sorted(TRITONBACKEND_Request* request, TRITONBACKEND_Input* input) {
  request->inputs =
      host_grow(request->inputs, sizeof *request->inputs * (request->input_count + 1u));
  uint32_t at = 0;
  while (at < request->input_count && strcmp(request->inputs[at]->name, input->name) < 0) at++;
  memmove(&request->inputs[at + 1], &request->inputs[at],
          sizeof *request->inputs * (request->input_count - at));
  request->inputs[at] = input;
  request->input_count++;
}

static TRITONBACKEND_Input* host_input_new(TRITONBACKEND_Request* request, const char* name,
                                           TRITONSERVER_DataType datatype, const int64_t* shape,
                                           uint32_t rank, uint64_t byte_size,
                                           uint32_t buffer_count) {
  TRITONBACKEND_Input* input = host_alloc(sizeof *input);
  input->magic = HOST_MAGIC_INPUT;
  input->request = request;
  input->name = host_strdup(name);
  input->datatype = datatype;
  input->rank = rank;
  input->shape = host_alloc(sizeof *input->shape * (rank + 1u));
  if (rank > 0) memcpy(input->shape, shape, sizeof *shape * rank);
  input->byte_size = byte_size;
  input->buffer_count = buffer_count;
  input->buffers = host_alloc(sizeof *input->buffers * buffer_count);
  return input;
}

int32_t host_request_add_input(TRITONBACKEND_Request* request, const char* name,
                               uint32_t datatype, const int64_t* shape, uint32_t rank,
                               const void* data, uint64_t byte_size, uint32_t buffer_count,
                               char* error_text, uint32_t error_cap) {
  if (!host_check_magic(request, HOST_MAGIC_REQUEST, "request") || name == NULL) {
    host_write_text(error_text, error_cap, "invalid request or NULL name");
    return -1;
  }
  for (uint32_t i = 0; i < request->input_count; i++) {
    if (strcmp(request->inputs[i]->name, name) == 0) {
      host_write_text(error_text, error_cap, "input '%s' was already added", name);
      return -1;
    }
  }
  TRITONSERVER_DataType type = (TRITONSERVER_DataType)datatype;
  if (strcmp(TRITONSERVER_DataTypeString(type), "<invalid>") == 0) {
    host_write_text(error_text, error_cap, "input '%s': invalid datatype %u", name, datatype);
    return -1;
  }
  uint64_t count = 0;
  if (rank > HOST_MAX_RANK || (rank > 0 && shape == NULL) ||
      !host_element_count(shape, rank, &count)) {
    host_write_text(error_text, error_cap, "input '%s': invalid shape", name);
    return -1;
  }
  if (byte_size > 0 && data == NULL) {
    host_write_text(error_text, error_cap, "input '%s': NULL data", name);
    return -1;
  }
  if (type == TRITONSERVER_TYPE_BYTES) {
    if (!host_bytes_layout_valid(data, byte_size, count)) {
      host_write_text(error_text, error_cap,
                      "input '%s': BYTES data does not hold exactly %llu length-prefixed "
                      "elements",
                      name, (unsigned long long)count);
      return -1;
    }
  } else {
    uint64_t expected = 0;
    if (__builtin_mul_overflow(count, (uint64_t)host_datatype_size(type), &expected) ||
        expected != byte_size) {
      host_write_text(error_text, error_cap,
                      "input '%s': unexpected total byte size %llu, expecting %llu", name,
                      (unsigned long long)byte_size, (unsigned long long)expected);
      return -1;
    }
  }
  if (buffer_count == 0 || (byte_size > 0 && buffer_count > byte_size) ||
      (byte_size == 0 && buffer_count != 1)) {
    host_write_text(error_text, error_cap, "input '%s': cannot split %llu bytes into %u buffers",
                    name, (unsigned long long)byte_size, buffer_count);
    return -1;
  }

  TRITONBACKEND_Input* input = host_input_new(request, name, type, shape, rank, byte_size,
                                              buffer_count);
  input->owns_data = true;
  uint64_t base = byte_size / buffer_count;
  uint64_t offset = 0;
  for (uint32_t i = 0; i < buffer_count; i++) {
    uint64_t size = i + 1 == buffer_count ? byte_size - offset : base;
    /* Separate allocations, so the buffers are not secretly contiguous. */
    void* copy = host_alloc(size);
    if (size > 0) memcpy(copy, (const uint8_t*)data + offset, size);
    input->buffers[i].data = copy;
    input->buffers[i].attributes.memory_type = TRITONSERVER_MEMORY_CPU;
    input->buffers[i].attributes.memory_type_id = 0;
    input->buffers[i].attributes.byte_size = size;
    offset += size;
  }
  host_input_insert_sorted(request, input);
  return 0;
}

void host_request_add_input_borrowed(TRITONBACKEND_Request* request, const char* name,
                                     TRITONSERVER_DataType datatype, const int64_t* shape,
                                     uint32_t rank, const host_input_buffer* buffers,
                                     uint32_t buffer_count) {
  uint64_t byte_size = 0;
  for (uint32_t i = 0; i < buffer_count; i++) byte_size += buffers[i].byte_size;
  TRITONBACKEND_Input* input =
      host_input_new(request, name, datatype, shape, rank, byte_size, buffer_count);
  for (uint32_t i = 0; i < buffer_count; i++) {
    input->buffers[i].data = buffers[i].base;
    input->buffers[i].attributes.memory_type = buffers[i].memory_type;
    input->buffers[i].attributes.memory_type_id = buffers[i].memory_type_id;
    input->buffers[i].attributes.byte_size = buffers[i].byte_size;
  }
  input->owns_data = false; /* the in-process caller owns the buffers */
  host_input_insert_sorted(request, input);
}

int32_t host_request_place_in_gpu(TRITONBACKEND_Request* request, const char* name,
                                  int64_t device_id) {
  if (!host_check_magic(request, HOST_MAGIC_REQUEST, "request") || name == NULL) return -1;
  for (uint32_t i = 0; i < request->input_count; i++) {
    TRITONBACKEND_Input* input = request->inputs[i];
    if (strcmp(input->name, name) != 0) continue;
    for (uint32_t b = 0; b < input->buffer_count; b++) {
      input->buffers[b].attributes.memory_type = TRITONSERVER_MEMORY_GPU;
      input->buffers[b].attributes.memory_type_id = device_id;
    }
    return 0;
  }
  const uint32_t count = request->gpu_output_count;
  request->gpu_outputs = host_grow(request->gpu_outputs, sizeof *request->gpu_outputs * (count + 1u));
  request->gpu_output_devices =
      host_grow(request->gpu_output_devices, sizeof *request->gpu_output_devices * (count + 1u));
  request->gpu_outputs[count] = host_strdup(name);
  request->gpu_output_devices[count] = device_id;
  request->gpu_output_count = count + 1u;
  return 0;
}

int32_t host_request_add_requested_output(TRITONBACKEND_Request* request, const char* name) {
  if (!host_check_magic(request, HOST_MAGIC_REQUEST, "request") || name == NULL) return -1;
  uint32_t at = 0;
  while (at < request->requested_output_count) {
    int order = strcmp(request->requested_outputs[at], name);
    if (order == 0) return 0; /* a set: adding twice is adding once */
    if (order > 0) break;
    at++;
  }
  request->requested_outputs =
      host_grow(request->requested_outputs,
                sizeof *request->requested_outputs * (request->requested_output_count + 1u));
  memmove(&request->requested_outputs[at + 1], &request->requested_outputs[at],
          sizeof *request->requested_outputs * (request->requested_output_count - at));
  request->requested_outputs[at] = host_strdup(name);
  request->requested_output_count++;
  return 0;
}

int32_t host_request_add_parameter(TRITONBACKEND_Request* request, const char* key,
                                   uint32_t type, const char* string_value, int64_t int_value,
                                   double double_value) {
  if (!host_check_magic(request, HOST_MAGIC_REQUEST, "request") || key == NULL) return -1;
  if (type > TRITONSERVER_PARAMETER_BYTES) return -1;
  request->parameters = host_grow(request->parameters,
                                  sizeof *request->parameters * (request->parameter_count + 1u));
  host_parameter* parameter = &request->parameters[request->parameter_count++];
  memset(parameter, 0, sizeof *parameter);
  parameter->key = host_strdup(key);
  parameter->value.type = (TRITONSERVER_ParameterType)type;
  parameter->value.string_value = host_strdup(string_value);
  parameter->value.int_value = int_value;
  parameter->value.bool_value = int_value != 0;
  parameter->value.double_value = double_value;
  return 0;
}

void host_request_cancel(TRITONBACKEND_Request* request) {
  if (!host_check_magic(request, HOST_MAGIC_REQUEST, "request")) return;
  pthread_mutex_lock(&request->lock);
  request->cancelled = true;
  pthread_mutex_unlock(&request->lock);
}

int32_t host_request_wait(TRITONBACKEND_Request* request, uint32_t timeout_ms) {
  if (!host_check_magic(request, HOST_MAGIC_REQUEST, "request")) return 0;
  return host_request_wait_done(request, timeout_ms) ? 1 : 0;
}

/* A bench copy of a template: same metadata, inputs sharing its buffers. */
TRITONBACKEND_Request* host_request_clone_shared(TRITONBACKEND_Request* source) {
  TRITONBACKEND_Request* request =
      host_request_new(source->id, source->correlation_id,
                       source->correlation_id_is_string ? source->correlation_id_string : NULL,
                       source->flags, source->timeout_us);
  request->inputs = host_alloc(sizeof *request->inputs * (source->input_count + 1u));
  for (uint32_t i = 0; i < source->input_count; i++) {
    const TRITONBACKEND_Input* from = source->inputs[i];
    TRITONBACKEND_Input* input = host_input_new(request, from->name, from->datatype, from->shape,
                                                from->rank, from->byte_size, from->buffer_count);
    memcpy(input->buffers, from->buffers, sizeof *input->buffers * from->buffer_count);
    input->owns_data = false;
    request->inputs[i] = input; /* already sorted in the source */
  }
  request->input_count = source->input_count;
  for (uint32_t i = 0; i < source->requested_output_count; i++) {
    host_request_add_requested_output(request, source->requested_outputs[i]);
  }
  return request;
}

static void host_input_free(TRITONBACKEND_Input* input) {
  if (input->owns_data) {
    for (uint32_t i = 0; i < input->buffer_count; i++) free((void*)input->buffers[i].data);
  }
  free(input->buffers);
  free(input->shape);
  free(input->name);
  input->magic = HOST_MAGIC_DEAD;
  free(input);
}

void host_request_free(TRITONBACKEND_Request* request) {
  if (request == NULL || !host_check_magic(request, HOST_MAGIC_REQUEST, "request")) return;
  pthread_mutex_lock(&request->lock);
  bool executed = request->executed;
  bool released = request->release_count > 0;
  bool final_sent = request->final_sent;
  bool held = request->live_responses > 0 || request->live_factories > 0;
  pthread_mutex_unlock(&request->lock);
  if (executed && !final_sent) {
    host_violation_record(HOST_VIOLATION_REQUEST_WITHOUT_FINAL_RESPONSE, "request '%s'",
                          request->id);
  }
  if (executed && !released) {
    host_violation_record(HOST_VIOLATION_REQUEST_NEVER_RELEASED, "request '%s'", request->id);
  }
  if (held) {
    host_violation_record(HOST_VIOLATION_REQUEST_FREED_WITH_LIVE_RESPONSES, "request '%s'",
                          request->id);
  }
  /* The backend may still hold an unreleased request or objects pointing
   * at it: leak it rather than turn its bug into a use-after-free here. */
  if ((executed && !released) || held) return;

  for (uint32_t i = 0; i < request->input_count; i++) host_input_free(request->inputs[i]);
  free(request->inputs);
  for (uint32_t i = 0; i < request->requested_output_count; i++) {
    free(request->requested_outputs[i]);
  }
  free(request->requested_outputs);
  for (uint32_t i = 0; i < request->gpu_output_count; i++) free(request->gpu_outputs[i]);
  free(request->gpu_outputs);
  free(request->gpu_output_devices);
  for (uint32_t i = 0; i < request->parameter_count; i++) {
    free(request->parameters[i].key);
    free(request->parameters[i].value.string_value);
  }
  free(request->parameters);
  for (uint32_t r = 0; r < request->response_count; r++) {
    host_sent_response* record = &request->responses[r];
    for (uint32_t o = 0; o < record->output_count; o++) host_output_free(record->outputs[o]);
    free(record->outputs);
    host_response_parameters_free(record->parameters, record->parameter_count);
    free(record->error_message);
  }
  free(request->responses);
  free(request->id);
  free(request->instance_name);
  free(request->correlation_id_string);
  pthread_mutex_destroy(&request->lock);
  request->magic = HOST_MAGIC_DEAD;
  free(request);
  host_live_add(HOST_LIVE_REQUESTS, -1);
}
