/*
 * fake_add_sub.c: the C test backends' add and subtract (see
 * fake_add_sub.h).
 */
#include "fake_add_sub.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Gathers an FP32 input's buffers into one malloc'ed array. */
static TRITONSERVER_Error* fake_gather(TRITONBACKEND_Request* request, const char* name,
                                       float** values, uint64_t* count, const int64_t** shape,
                                       uint32_t* rank) {
  TRITONBACKEND_Input* input = NULL;
  TRITONSERVER_Error* error = TRITONBACKEND_RequestInput(request, name, &input);
  uint64_t byte_size = 0;
  uint32_t buffers = 0;
  if (error == NULL) {
    error = TRITONBACKEND_InputProperties(input, NULL, NULL, shape, rank, &byte_size, &buffers);
  }
  if (error != NULL) return error;
  *values = malloc(byte_size == 0 ? 1 : byte_size);
  uint64_t at = 0;
  for (uint32_t b = 0; b < buffers && error == NULL; b++) {
    const void* data = NULL;
    uint64_t size = 0;
    TRITONSERVER_MemoryType type = TRITONSERVER_MEMORY_CPU;
    int64_t type_id = 0;
    error = TRITONBACKEND_InputBuffer(input, b, &data, &size, &type, &type_id);
    if (error == NULL) memcpy((char*)*values + at, data, size);
    at += size;
  }
  *count = byte_size / sizeof(float);
  return error;
}

TRITONSERVER_Error* fake_add_sub(TRITONBACKEND_Request* request, TRITONBACKEND_Response* response) {
  float* a = NULL;
  float* b = NULL;
  uint64_t count = 0, count_b = 0;
  const int64_t* shape = NULL;
  const int64_t* shape_b = NULL;
  uint32_t rank = 0, rank_b = 0;
  TRITONSERVER_Error* error = fake_gather(request, "INPUT0", &a, &count, &shape, &rank);
  if (error == NULL) error = fake_gather(request, "INPUT1", &b, &count_b, &shape_b, &rank_b);
  uint32_t outputs = 0;
  if (error == NULL) error = TRITONBACKEND_RequestOutputCount(request, &outputs);
  for (uint32_t o = 0; error == NULL && o < outputs; o++) {
    const char* name = NULL;
    TRITONBACKEND_Output* output = NULL;
    void* buffer = NULL;
    TRITONSERVER_MemoryType type = TRITONSERVER_MEMORY_CPU;
    int64_t type_id = 0;
    error = TRITONBACKEND_RequestOutputName(request, o, &name);
    if (error == NULL) {
      size_t size = count * sizeof(float);
      /* Asks where the output should go, as backends do before allocating. */
      error = TRITONBACKEND_RequestOutputBufferProperties(request, name, &size, &type, &type_id);
    }
    if (error == NULL) {
      error = TRITONBACKEND_ResponseOutput(response, &output, name, TRITONSERVER_TYPE_FP32, shape,
                                           rank);
    }
    if (error == NULL) {
      error = TRITONBACKEND_OutputBuffer(output, &buffer, count * sizeof(float), &type, &type_id);
    }
    if (error == NULL) {
      float* out = buffer;
      bool subtract = strcmp(name, "OUTPUT1") == 0;
      for (uint64_t i = 0; i < count; i++) out[i] = subtract ? a[i] - b[i] : a[i] + b[i];
    }
  }
  free(a);
  free(b);
  return error;
}
