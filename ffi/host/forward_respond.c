/*
 * forward_respond.c: answers a forwarded in-process call from the server
 * itself, for a model the server runs without a backend (an ensemble): the
 * server builds one response with the outputs it computed, and the call's
 * backend request then sends and releases it as a backend would. What the
 * caller receives goes through the same path as a backend's responses
 * (host_infer_call_progress: its allocator, its response and release
 * callbacks).
 */
#include <string.h>

#include "host_api.h"
#include "host_internal.h"
#include "host_server.h"

/* Copies an error's message into (error_text, error_cap) and deletes it. */
static int32_t host_forward_fail(TRITONSERVER_Error* error, char* error_text, uint32_t error_cap) {
  if (error_text != NULL && error_cap > 0) {
    const char* message = TRITONSERVER_ErrorMessage(error);
    size_t length = strlen(message);
    if (length >= error_cap) length = error_cap - 1u;
    memcpy(error_text, message, length);
    error_text[length] = '\0';
  }
  TRITONSERVER_ErrorDelete(error);
  return -1;
}

TRITONBACKEND_Response* host_forward_response_new(TRITONBACKEND_Request* request) {
  TRITONBACKEND_Response* response = NULL;
  TRITONSERVER_Error* error = TRITONBACKEND_ResponseNew(&response, request);
  if (error != NULL) {
    TRITONSERVER_ErrorDelete(error);
    return NULL;
  }
  return response;
}

int32_t host_forward_response_output(TRITONBACKEND_Response* response, const char* name,
                                     uint32_t datatype, const int64_t* shape, uint32_t rank,
                                     const void* data, uint64_t byte_size, char* error_text,
                                     uint32_t error_cap) {
  TRITONBACKEND_Output* output = NULL;
  TRITONSERVER_Error* error = TRITONBACKEND_ResponseOutput(
      response, &output, name, (TRITONSERVER_DataType)datatype, shape, rank);
  if (error != NULL) return host_forward_fail(error, error_text, error_cap);
  void* buffer = NULL;
  TRITONSERVER_MemoryType memory_type = TRITONSERVER_MEMORY_CPU;
  int64_t memory_type_id = 0;
  error = TRITONBACKEND_OutputBuffer(output, &buffer, byte_size, &memory_type, &memory_type_id);
  if (error != NULL) return host_forward_fail(error, error_text, error_cap);
  if (byte_size > 0) memcpy(buffer, data, byte_size);
  return 0;
}

void host_forward_response_delete(TRITONBACKEND_Response* response) {
  if (response == NULL) return;
  TRITONSERVER_Error* error = TRITONBACKEND_ResponseDelete(response);
  if (error != NULL) TRITONSERVER_ErrorDelete(error);
}

int32_t host_forward_response_send(TRITONBACKEND_Response* response) {
  if (response == NULL) return -1;
  TRITONBACKEND_Request* request = response->request;
  /* One response, FINAL: a decoupled model may end its stream the same way. */
  TRITONSERVER_Error* error =
      TRITONBACKEND_ResponseSend(response, TRITONSERVER_RESPONSE_COMPLETE_FINAL, NULL);
  if (error != NULL) TRITONSERVER_ErrorDelete(error);
  error = TRITONBACKEND_RequestRelease(request, TRITONSERVER_REQUEST_RELEASE_ALL);
  if (error != NULL) {
    TRITONSERVER_ErrorDelete(error);
    return -1;
  }
  return 0;
}
