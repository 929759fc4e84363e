/*
 * fake_backend.c: a tiny backend for testing the test host itself
 * (tests/host_harness_test.ts compiles it at run time). It adds and
 * subtracts FP32 inputs like add_sub, and misbehaves on purpose when a
 * request's id asks for it, so the tests can check that the host notices
 * each way of breaking Triton's rules:
 *
 *   "fail"            an error response for this request only
 *   "execute_error"   Execute returns an error without touching any request
 *   "double_release"  released twice
 *   "no_release"      never released
 *   "respond_twice"   two FINAL responses
 *   "stats_twice"     statistics reported twice
 *   "leak_error"      an error object created and never deleted
 *   "echo"            response parameters describe what the backend saw
 *
 * The arithmetic is fake_add_sub.c's, shared with the BLS test backend.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fake_add_sub.h"
#include "triton_api.h"

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void log_info(const char* message) {
  TRITONSERVER_Error* error =
      TRITONSERVER_LogMessage(TRITONSERVER_LOG_INFO, __FILE__, __LINE__, message);
  if (error != NULL) TRITONSERVER_ErrorDelete(error);
}

TRITONSERVER_Error* TRITONBACKEND_Initialize(TRITONBACKEND_Backend* backend) {
  uint32_t major = 0, minor = 0;
  TRITONSERVER_Error* error = TRITONBACKEND_ApiVersion(&major, &minor);
  if (error != NULL) return error;
  if (major != TRITONBACKEND_API_VERSION_MAJOR || minor < TRITONBACKEND_API_VERSION_MINOR) {
    char text[160];
    snprintf(text, sizeof text, "fake backend needs API %d.%d, the server has %u.%u",
             TRITONBACKEND_API_VERSION_MAJOR, TRITONBACKEND_API_VERSION_MINOR, major, minor);
    return TRITONSERVER_ErrorNew(TRITONSERVER_ERROR_UNSUPPORTED, text);
  }
  TRITONSERVER_Message* config = NULL;
  const char* json = NULL;
  size_t length = 0;
  error = TRITONBACKEND_BackendConfig(backend, &config);
  if (error == NULL) error = TRITONSERVER_MessageSerializeToJson(config, &json, &length);
  if (error != NULL) return error;
  char text[4096];
  snprintf(text, sizeof text, "fake backend config: %.*s", (int)length, json);
  log_info(text);
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_ModelInitialize(TRITONBACKEND_Model* model) {
  TRITONSERVER_Message* config = NULL;
  TRITONSERVER_Error* error = TRITONBACKEND_ModelConfig(model, 1, &config);
  if (error != NULL) return error;
  const char* json = NULL;
  size_t length = 0;
  TRITONSERVER_MessageSerializeToJson(config, &json, &length);
  bool refuse = strstr(json, "refuse_model") != NULL;
  TRITONSERVER_MessageDelete(config);
  if (refuse) return TRITONSERVER_ErrorNew(TRITONSERVER_ERROR_INVALID_ARG, "model refused");
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_ModelInstanceInitialize(TRITONBACKEND_ModelInstance* instance) {
  const char* name = NULL;
  TRITONBACKEND_ModelInstanceName(instance, &name);
  char text[256];
  snprintf(text, sizeof text, "fake instance initialize %s", name);
  log_info(text);
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_ModelInstanceFinalize(TRITONBACKEND_ModelInstance* instance) {
  const char* name = NULL;
  TRITONBACKEND_ModelInstanceName(instance, &name);
  char text[256];
  snprintf(text, sizeof text, "fake instance finalize %s", name);
  log_info(text);
  return NULL;
}

/* Describes what the backend saw, as response parameters. */
static void echo(TRITONBACKEND_Request* request, TRITONBACKEND_Response* response) {
  uint64_t numeric = 0;
  const char* text = NULL;
  TRITONSERVER_Error* error = TRITONBACKEND_RequestCorrelationId(request, &numeric);
  if (error == NULL) {
    TRITONBACKEND_ResponseSetIntParameter(response, "correlation_id", (int64_t)numeric);
  } else {
    TRITONSERVER_ErrorDelete(error);
    error = TRITONBACKEND_RequestCorrelationIdString(request, &text);
    if (error == NULL) TRITONBACKEND_ResponseSetStringParameter(response, "correlation_id", text);
    if (error != NULL) TRITONSERVER_ErrorDelete(error);
  }
  uint32_t flags = 0, inputs = 0, parameters = 0;
  TRITONBACKEND_RequestFlags(request, &flags);
  TRITONBACKEND_ResponseSetIntParameter(response, "flags", flags);
  TRITONBACKEND_RequestInputCount(request, &inputs);
  char names[512] = "";
  for (uint32_t i = 0; i < inputs; i++) {
    const char* name = NULL;
    TRITONBACKEND_Input* input = NULL;
    uint32_t buffers = 0;
    TRITONBACKEND_RequestInputName(request, i, &name);
    TRITONBACKEND_RequestInputByIndex(request, i, &input);
    TRITONBACKEND_InputProperties(input, NULL, NULL, NULL, NULL, NULL, &buffers);
    size_t used = strlen(names);
    snprintf(names + used, sizeof names - used, "%s%s:%u", i == 0 ? "" : ",", name, buffers);
  }
  TRITONBACKEND_ResponseSetStringParameter(response, "inputs", names);
  TRITONBACKEND_RequestParameterCount(request, &parameters);
  for (uint32_t p = 0; p < parameters; p++) {
    const char* key = NULL;
    TRITONSERVER_ParameterType type;
    const void* value = NULL;
    TRITONBACKEND_RequestParameter(request, p, &key, &type, &value);
    if (type == TRITONSERVER_PARAMETER_INT) {
      TRITONBACKEND_ResponseSetIntParameter(response, key, *(const int64_t*)value);
    } else if (type == TRITONSERVER_PARAMETER_BOOL) {
      TRITONBACKEND_ResponseSetBoolParameter(response, key, *(const bool*)value);
    } else if (type == TRITONSERVER_PARAMETER_DOUBLE) {
      TRITONBACKEND_ResponseSetDoubleParameter(response, key, *(const double*)value);
    } else {
      TRITONBACKEND_ResponseSetStringParameter(response, key, (const char*)value);
    }
  }
}

TRITONSERVER_Error* TRITONBACKEND_ModelInstanceExecute(TRITONBACKEND_ModelInstance* instance,
                                                       TRITONBACKEND_Request** requests,
                                                       const uint32_t request_count) {
  uint64_t start = now_ns();
  for (uint32_t r = 0; r < request_count; r++) {
    const char* id = NULL;
    TRITONBACKEND_RequestId(requests[r], &id);
    if (strcmp(id, "execute_error") == 0) {
      return TRITONSERVER_ErrorNew(TRITONSERVER_ERROR_UNAVAILABLE, "the whole batch failed");
    }
  }
  for (uint32_t r = 0; r < request_count; r++) {
    TRITONBACKEND_Request* request = requests[r];
    const char* id = NULL;
    TRITONBACKEND_RequestId(request, &id);
    TRITONBACKEND_Response* response = NULL;
    TRITONSERVER_Error* error = TRITONBACKEND_ResponseNew(&response, request);
    if (error == NULL && strcmp(id, "fail") == 0) {
      error = TRITONSERVER_ErrorNew(TRITONSERVER_ERROR_INVALID_ARG, "request 'fail' failed");
    }
    if (error == NULL && strcmp(id, "echo") == 0) echo(request, response);
    if (error == NULL) error = fake_add_sub(request, response);
    if (strcmp(id, "leak_error") == 0) {
      (void)TRITONSERVER_ErrorNew(TRITONSERVER_ERROR_INTERNAL, "leaked on purpose");
    }
    /* As Triton's own backends do, the error is still ours after sending it. */
    TRITONBACKEND_ResponseSend(response, TRITONSERVER_RESPONSE_COMPLETE_FINAL, error);
    if (strcmp(id, "respond_twice") == 0) {
      TRITONBACKEND_Response* second = NULL;
      TRITONBACKEND_ResponseNew(&second, request);
      TRITONBACKEND_ResponseSend(second, TRITONSERVER_RESPONSE_COMPLETE_FINAL, NULL);
    }
    uint64_t end = now_ns();
    TRITONBACKEND_ModelInstanceReportStatistics(instance, request, error == NULL, start, start,
                                                end, end);
    if (strcmp(id, "stats_twice") == 0) {
      TRITONBACKEND_ModelInstanceReportStatistics(instance, request, true, start, start, end, end);
    }
    if (error != NULL) TRITONSERVER_ErrorDelete(error);
    if (strcmp(id, "no_release") != 0) {
      TRITONBACKEND_RequestRelease(request, TRITONSERVER_REQUEST_RELEASE_ALL);
    }
    if (strcmp(id, "double_release") == 0) {
      TRITONSERVER_Error* again =
          TRITONBACKEND_RequestRelease(request, TRITONSERVER_REQUEST_RELEASE_ALL);
      if (again != NULL) TRITONSERVER_ErrorDelete(again);
    }
  }
  uint64_t end = now_ns();
  TRITONBACKEND_ModelInstanceReportBatchStatistics(instance, request_count, start, start, end,
                                                   end);
  return NULL;
}
