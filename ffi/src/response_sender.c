/*
 * response_sender.c: see response_sender.h. This is the one place tensor
 * bytes leave the arena: one memcpy per output into the buffer Triton
 * hands us.
 */
#include "response_sender.h"

#include <stdlib.h>
#include <string.h>

#include "cuda_copy.h"

#include "datatype.h"
#include "errors.h"
#include "log.h"
#include "tdn_wire.h"

void tdn_respond_error(TRITONBACKEND_Request* request, TRITONSERVER_Error* error)
{
  TRITONBACKEND_Response* response = NULL;
  TRITONSERVER_Error* failure = TRITONBACKEND_ResponseNew(&response, request);
  if (failure != NULL) {
    tdn_log_and_delete(__FILE__, __LINE__, "cannot create an error response", failure);
    TDN_LOG_ERROR("the lost error was: %s", TRITONSERVER_ErrorMessage(error));
  } else {
    TDN_LOG_IF_ERROR(
        TRITONBACKEND_ResponseSend(response, TRITONSERVER_RESPONSE_COMPLETE_FINAL, error),
        "cannot send an error response");
  }
  /* ResponseSend does not take the error: it is still ours. */
  TRITONSERVER_ErrorDelete(error);
}

bool tdn_release_request(
    TRITONBACKEND_Request* request, uint32_t release_flags, const char* instance_name)
{
  TRITONSERVER_Error* refused = TRITONBACKEND_RequestRelease(request, release_flags);
  if (refused == NULL) {
    return true;
  }
  if (release_flags == TRITONSERVER_REQUEST_RELEASE_ALL) {
    tdn_log_and_delete(__FILE__, __LINE__, "cannot release a request", refused);
    return false;
  }
  TDN_LOG_WARN(
      "instance '%s': Triton refused to reschedule a request: %s", instance_name,
      TRITONSERVER_ErrorMessage(refused));
  tdn_respond_error(
      request, tdn_error(
                   TRITONSERVER_ErrorCode(refused),
                   "instance '%s': the model rescheduled the request, and Triton refused: %s",
                   instance_name, TRITONSERVER_ErrorMessage(refused)));
  TRITONSERVER_ErrorDelete(refused);
  TDN_LOG_IF_ERROR(
      TRITONBACKEND_RequestRelease(request, TRITONSERVER_REQUEST_RELEASE_ALL),
      "cannot release a request");
  return false;
}

static bool is_requested(const tdn_request_desc* desc, const char* name)
{
  if (desc->requested_output_count == 0) {
    return true;
  }
  for (uint32_t i = 0; i < desc->requested_output_count; ++i) {
    if (strcmp(desc->requested_outputs[i], name) == 0) {
      return true;
    }
  }
  return false;
}

static TRITONSERVER_Error* add_output(
    TRITONBACKEND_Response* response, const tdn_output_view* output, const uint8_t* arena,
    const char* instance_name)
{
  TRITONBACKEND_Output* handle = NULL;
  TDN_RETURN_IF_ERROR_CTX(
      TRITONBACKEND_ResponseOutput(
          response, &handle, output->name, (TRITONSERVER_DataType)output->datatype,
          output->shape, output->rank),
      "cannot create output '%s'", output->name);
  void* buffer = NULL;
  TRITONSERVER_MemoryType memory_type = TRITONSERVER_MEMORY_CPU;
  int64_t memory_type_id = 0;
  TDN_RETURN_IF_ERROR_CTX(
      TRITONBACKEND_OutputBuffer(handle, &buffer, output->data_size, &memory_type, &memory_type_id),
      "cannot allocate %llu bytes for output '%s'", (unsigned long long)output->data_size,
      output->name);
  if (output->data_size == 0) {
    return NULL;
  }
  if (buffer == NULL) {
    return tdn_error(
        TRITONSERVER_ERROR_INTERNAL, "Triton gave no buffer for output '%s'", output->name);
  }
  const bool on_gpu = memory_type == TRITONSERVER_MEMORY_GPU;
  if (!on_gpu && memory_type != TRITONSERVER_MEMORY_CPU &&
      memory_type != TRITONSERVER_MEMORY_CPU_PINNED) {
    return tdn_error(
        TRITONSERVER_ERROR_UNSUPPORTED, "Triton offered memory of unknown type %d for output '%s'",
        (int)memory_type, output->name);
  }
  /* A GPU buffer is filled from a host copy: the check below reads it. */
  void* host = on_gpu ? malloc(output->data_size) : buffer;
  if (host == NULL) {
    return tdn_error(
        TRITONSERVER_ERROR_INTERNAL, "output '%s': no host memory for %llu bytes", output->name,
        (unsigned long long)output->data_size);
  }
  memcpy(host, arena + output->data_offset, output->data_size);
  TRITONSERVER_Error* error = NULL;
  /* The stub could have changed BYTES data after validation; check the copy
   * Triton will actually read. */
  if (output->datatype == TDN_DATATYPE_BYTES &&
      !tdn_bytes_layout_is_valid(host, output->data_size, output->element_count)) {
    error = tdn_error(
        TRITONSERVER_ERROR_INTERNAL,
        "stub for instance '%s' changed the BYTES data of output '%s' while it was being read",
        instance_name, output->name);
  }
  tdn_diag why;
  if (error == NULL && on_gpu &&
      !tdn_cuda_copy_to_device(buffer, host, output->data_size, memory_type_id, &why)) {
    error = tdn_error(
        TRITONSERVER_ERROR_UNSUPPORTED,
        "output '%s' goes to the memory of GPU %lld and cannot be copied there: %s", output->name,
        (long long)memory_type_id, why.text);
  }
  if (on_gpu) {
    free(host);
  }
  return error;
}

/* Fills `response` with the view's outputs (only the requested ones) and
 * sends it with `flags`. Returns true if the outputs went out. */
static bool fill_and_send(
    TRITONBACKEND_Response* response, const tdn_request_desc* desc,
    const tdn_response_view* view, uint32_t flags, const uint8_t* arena,
    const char* instance_name)
{
  TRITONSERVER_Error* error = NULL;
  if (view->problem != NULL) {
    error = tdn_error(
        TRITONSERVER_ERROR_INTERNAL, "stub for instance '%s' %s", instance_name, view->problem);
  } else if (view->status == TDN_STATUS_ERROR) {
    error = tdn_error((TRITONSERVER_Error_Code)view->error_code, "%s", view->error_message);
  }
  for (uint32_t k = 0; error == NULL && k < view->output_count; ++k) {
    if (is_requested(desc, view->outputs[k].name)) {
      error = add_output(response, &view->outputs[k], arena, instance_name);
    }
  }
  if (error == NULL) {
    error = tdn_parameters_apply(response, &view->parameters);
  }
  const bool success = error == NULL;
  TDN_LOG_IF_ERROR(TRITONBACKEND_ResponseSend(response, flags, error), "cannot send a response");
  if (error != NULL) {
    TRITONSERVER_ErrorDelete(error);
  }
  return success;
}

bool tdn_respond_result(
    TRITONBACKEND_Request* request, const tdn_request_desc* desc,
    const tdn_response_view* view, const uint8_t* arena, const char* instance_name)
{
  TRITONBACKEND_Response* response = NULL;
  TRITONSERVER_Error* error = TRITONBACKEND_ResponseNew(&response, request);
  if (error != NULL) {
    tdn_log_and_delete(__FILE__, __LINE__, "cannot create a response", error);
    return false;
  }
  return fill_and_send(
      response, desc, view, TRITONSERVER_RESPONSE_COMPLETE_FINAL, arena, instance_name);
}

bool tdn_respond_streamed(
    TRITONBACKEND_ResponseFactory* factory, const tdn_request_desc* desc,
    const tdn_response_view* view, uint32_t flags, const uint8_t* arena,
    const char* instance_name)
{
  if (view == NULL) {
    TRITONSERVER_Error* error = TRITONBACKEND_ResponseFactorySendFlags(factory, flags);
    if (error != NULL) {
      tdn_log_and_delete(__FILE__, __LINE__, "cannot send the final flag", error);
      return false;
    }
    return true;
  }
  TRITONBACKEND_Response* response = NULL;
  TRITONSERVER_Error* error = TRITONBACKEND_ResponseNewFromFactory(&response, factory);
  if (error != NULL) {
    tdn_log_and_delete(__FILE__, __LINE__, "cannot create a response", error);
    return false;
  }
  return fill_and_send(response, desc, view, flags, arena, instance_name);
}

void tdn_respond_streamed_error(
    TRITONBACKEND_ResponseFactory* factory, TRITONSERVER_Error* error, uint32_t flags)
{
  TRITONBACKEND_Response* response = NULL;
  TRITONSERVER_Error* failure = TRITONBACKEND_ResponseNewFromFactory(&response, factory);
  if (failure != NULL) {
    tdn_log_and_delete(__FILE__, __LINE__, "cannot create an error response", failure);
    TDN_LOG_ERROR("the lost error was: %s", TRITONSERVER_ErrorMessage(error));
  } else {
    TDN_LOG_IF_ERROR(
        TRITONBACKEND_ResponseSend(response, flags, error), "cannot send an error response");
  }
  TRITONSERVER_ErrorDelete(error);
}
