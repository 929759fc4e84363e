/*
 * fake_bls_backend.c: lifecycle, helpers and the "add_sub" and "stream"
 * roles of the BLS test backend (see fake_bls.h).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fake_add_sub.h"
#include "fake_bls.h"

typedef enum fake_role { FAKE_ADD_SUB, FAKE_STREAM, FAKE_CALLER, FAKE_METRICS } fake_role;

static uint64_t fake_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

bool fake_failed(TRITONSERVER_Error* error) {
  if (error == NULL) return false;
  TRITONSERVER_ErrorDelete(error);
  return true;
}

void fake_report_error(TRITONBACKEND_Response* response, const char* prefix,
                       TRITONSERVER_Error* error) {
  char key[128];
  snprintf(key, sizeof key, "%s_code", prefix);
  if (error == NULL) {
    fake_failed(TRITONBACKEND_ResponseSetStringParameter(response, key, "none"));
    return;
  }
  fake_failed(
      TRITONBACKEND_ResponseSetStringParameter(response, key, TRITONSERVER_ErrorCodeString(error)));
  snprintf(key, sizeof key, "%s_message", prefix);
  fake_failed(
      TRITONBACKEND_ResponseSetStringParameter(response, key, TRITONSERVER_ErrorMessage(error)));
  TRITONSERVER_ErrorDelete(error);
}

/* Finds parameter 'key' of the request; NULL if absent. */
static const void* fake_parameter(TRITONBACKEND_Request* request, const char* key,
                                  TRITONSERVER_ParameterType* type) {
  uint32_t count = 0;
  if (fake_failed(TRITONBACKEND_RequestParameterCount(request, &count))) return NULL;
  for (uint32_t i = 0; i < count; i++) {
    const char* name = NULL;
    const void* value = NULL;
    if (fake_failed(TRITONBACKEND_RequestParameter(request, i, &name, type, &value))) continue;
    if (strcmp(name, key) == 0) return value;
  }
  return NULL;
}

const char* fake_string_parameter(TRITONBACKEND_Request* request, const char* key,
                                  const char* fallback) {
  TRITONSERVER_ParameterType type;
  const void* value = fake_parameter(request, key, &type);
  return value != NULL && type == TRITONSERVER_PARAMETER_STRING ? value : fallback;
}

int64_t fake_int_parameter(TRITONBACKEND_Request* request, const char* key, int64_t fallback) {
  TRITONSERVER_ParameterType type;
  const void* value = fake_parameter(request, key, &type);
  if (value == NULL) return fallback;
  if (type == TRITONSERVER_PARAMETER_INT) return *(const int64_t*)value;
  if (type == TRITONSERVER_PARAMETER_BOOL) return *(const bool*)value ? 1 : 0;
  return fallback;
}

TRITONSERVER_Server* fake_server(TRITONBACKEND_ModelInstance* instance) {
  TRITONBACKEND_Model* model = NULL;
  TRITONSERVER_Server* server = NULL;
  fake_failed(TRITONBACKEND_ModelInstanceModel(instance, &model));
  fake_failed(TRITONBACKEND_ModelServer(model, &server));
  return server;
}

/* ---- Lifecycle. ---- */

TRITONSERVER_Error* TRITONBACKEND_ModelInitialize(TRITONBACKEND_Model* model) {
  TRITONSERVER_Message* config = NULL;
  TRITONSERVER_Error* error = TRITONBACKEND_ModelConfig(model, 1, &config);
  if (error != NULL) return error;
  const char* json = NULL;
  size_t length = 0;
  TRITONSERVER_MessageSerializeToJson(config, &json, &length);
  fake_role role = FAKE_ADD_SUB;
  if (strstr(json, "\"role\":{\"string_value\":\"stream\"") != NULL) role = FAKE_STREAM;
  if (strstr(json, "\"role\":{\"string_value\":\"caller\"") != NULL) role = FAKE_CALLER;
  if (strstr(json, "\"role\":{\"string_value\":\"metrics\"") != NULL) role = FAKE_METRICS;
  bool refuse = strstr(json, "refuse_model") != NULL;
  TRITONSERVER_MessageDelete(config);
  if (refuse) return TRITONSERVER_ErrorNew(TRITONSERVER_ERROR_INVALID_ARG, "model refused");
  fake_role* state = malloc(sizeof *state);
  *state = role;
  return TRITONBACKEND_ModelSetState(model, state);
}

TRITONSERVER_Error* TRITONBACKEND_ModelFinalize(TRITONBACKEND_Model* model) {
  void* state = NULL;
  TRITONBACKEND_ModelState(model, &state);
  free(state);
  return NULL;
}

static fake_role fake_role_of(TRITONBACKEND_ModelInstance* instance) {
  TRITONBACKEND_Model* model = NULL;
  void* state = NULL;
  fake_failed(TRITONBACKEND_ModelInstanceModel(instance, &model));
  fake_failed(TRITONBACKEND_ModelState(model, &state));
  return state == NULL ? FAKE_ADD_SUB : *(fake_role*)state;
}

TRITONSERVER_Error* TRITONBACKEND_ModelInstanceFinalize(TRITONBACKEND_ModelInstance* instance) {
  if (fake_role_of(instance) == FAKE_METRICS) fake_metrics_finalize(instance);
  return NULL;
}

/* ---- Role "add_sub" (the arithmetic is fake_add_sub.c's). ---- */

/* Response parameters describing what the backend saw. */
static void fake_echo(TRITONBACKEND_Request* request, TRITONBACKEND_Response* response) {
  const char* id = NULL;
  uint64_t numeric = 0;
  const char* text = NULL;
  uint32_t flags = 0;
  uint64_t timeout = 0;
  bool cancelled = false;
  TRITONBACKEND_RequestId(request, &id);
  fake_failed(TRITONBACKEND_ResponseSetStringParameter(response, "seen_id", id));
  if (!fake_failed(TRITONBACKEND_RequestCorrelationId(request, &numeric))) {
    fake_failed(
        TRITONBACKEND_ResponseSetIntParameter(response, "seen_correlation_id", (int64_t)numeric));
  } else if (!fake_failed(TRITONBACKEND_RequestCorrelationIdString(request, &text))) {
    fake_failed(TRITONBACKEND_ResponseSetStringParameter(response, "seen_correlation_id", text));
  }
  TRITONBACKEND_RequestFlags(request, &flags);
  fake_failed(TRITONBACKEND_ResponseSetIntParameter(response, "seen_flags", flags));
  TRITONBACKEND_InferenceRequestTimeoutMicroseconds(request, &timeout);
  fake_failed(TRITONBACKEND_ResponseSetIntParameter(response, "seen_timeout_us", (int64_t)timeout));
  TRITONBACKEND_RequestIsCancelled(request, &cancelled);
  fake_failed(TRITONBACKEND_ResponseSetBoolParameter(response, "seen_cancelled", cancelled));
  uint32_t parameters = 0;
  TRITONBACKEND_RequestParameterCount(request, &parameters);
  for (uint32_t p = 0; p < parameters; p++) {
    const char* key = NULL;
    TRITONSERVER_ParameterType type;
    const void* value = NULL;
    char name[160];
    TRITONBACKEND_RequestParameter(request, p, &key, &type, &value);
    snprintf(name, sizeof name, "seen_parameter_%s", key);
    if (type == TRITONSERVER_PARAMETER_INT) {
      fake_failed(TRITONBACKEND_ResponseSetIntParameter(response, name, *(const int64_t*)value));
    } else if (type == TRITONSERVER_PARAMETER_BOOL) {
      fake_failed(TRITONBACKEND_ResponseSetBoolParameter(response, name, *(const bool*)value));
    } else if (type == TRITONSERVER_PARAMETER_DOUBLE) {
      fake_failed(TRITONBACKEND_ResponseSetDoubleParameter(response, name, *(const double*)value));
    } else {
      fake_failed(TRITONBACKEND_ResponseSetStringParameter(response, name, (const char*)value));
    }
  }
}

/* ---- Role "stream". ---- */

typedef struct fake_stream {
  TRITONBACKEND_ResponseFactory* factory;
  TRITONBACKEND_Request* request; /* NULL once released */
  int32_t count;
  int64_t delay_ms;
  bool no_final; /* broken on purpose: the stream never ends */
} fake_stream;

static void* fake_stream_run(void* argument) {
  fake_stream* stream = argument;
  for (int32_t i = 0; i < stream->count; i++) {
    struct timespec pause = {.tv_sec = stream->delay_ms / 1000,
                             .tv_nsec = (long)(stream->delay_ms % 1000) * 1000000L};
    nanosleep(&pause, NULL);
    bool cancelled = false;
    if (stream->request != NULL) TRITONBACKEND_RequestIsCancelled(stream->request, &cancelled);
    TRITONBACKEND_Response* response = NULL;
    if (fake_failed(TRITONBACKEND_ResponseNewFromFactory(&response, stream->factory))) break;
    if (cancelled) {
      TRITONSERVER_Error* error =
          TRITONSERVER_ErrorNew(TRITONSERVER_ERROR_CANCELLED, "the stream was cancelled");
      TRITONBACKEND_ResponseSend(response, TRITONSERVER_RESPONSE_COMPLETE_FINAL, error);
      TRITONSERVER_ErrorDelete(error);
      goto done;
    }
    const int64_t shape[1] = {1};
    TRITONBACKEND_Output* output = NULL;
    void* buffer = NULL;
    TRITONSERVER_MemoryType type = TRITONSERVER_MEMORY_CPU;
    int64_t type_id = 0;
    TRITONSERVER_Error* error =
        TRITONBACKEND_ResponseOutput(response, &output, "OUT", TRITONSERVER_TYPE_INT32, shape, 1);
    if (error == NULL) error = TRITONBACKEND_OutputBuffer(output, &buffer, 4, &type, &type_id);
    if (error == NULL) memcpy(buffer, &i, 4);
    fake_failed(TRITONBACKEND_ResponseSetIntParameter(response, "index", i));
    TRITONBACKEND_ResponseSend(response, 0, error);
    fake_failed(error);
  }
  /* FINAL on its own, as decoupled backends end a stream. */
  if (!stream->no_final) {
    fake_failed(TRITONBACKEND_ResponseFactorySendFlags(stream->factory,
                                                       TRITONSERVER_RESPONSE_COMPLETE_FINAL));
  }
done:
  fake_failed(TRITONBACKEND_ResponseFactoryDelete(stream->factory));
  if (stream->request != NULL) {
    fake_failed(TRITONBACKEND_RequestRelease(stream->request, TRITONSERVER_REQUEST_RELEASE_ALL));
  }
  free(stream);
  return NULL;
}

static void fake_stream_execute(TRITONBACKEND_ModelInstance* instance,
                                TRITONBACKEND_Request* request, uint64_t start) {
  fake_stream* stream = calloc(1, sizeof *stream);
  stream->delay_ms = fake_int_parameter(request, "delay_ms", 5);
  stream->no_final = fake_int_parameter(request, "no_final", 0) != 0;
  bool release_early = fake_int_parameter(request, "release_early", 0) != 0;
  TRITONBACKEND_Input* input = NULL;
  const void* data = NULL;
  uint64_t size = 0;
  TRITONSERVER_MemoryType type = TRITONSERVER_MEMORY_CPU;
  int64_t type_id = 0;
  if (!fake_failed(TRITONBACKEND_RequestInput(request, "INPUT0", &input)) &&
      !fake_failed(TRITONBACKEND_InputBuffer(input, 0, &data, &size, &type, &type_id)) &&
      size >= 4) {
    memcpy(&stream->count, data, 4);
  }
  fake_failed(TRITONBACKEND_ResponseFactoryNew(&stream->factory, request));
  uint64_t end = fake_now_ns();
  TRITONBACKEND_ModelInstanceReportStatistics(instance, request, true, start, start, end, end);
  if (release_early) {
    fake_failed(TRITONBACKEND_RequestRelease(request, TRITONSERVER_REQUEST_RELEASE_ALL));
  } else {
    stream->request = request;
  }
  pthread_t thread;
  pthread_create(&thread, NULL, fake_stream_run, stream);
  pthread_detach(thread);
}

/* ---- Execute. ---- */

TRITONSERVER_Error* TRITONBACKEND_ModelInstanceExecute(TRITONBACKEND_ModelInstance* instance,
                                                       TRITONBACKEND_Request** requests,
                                                       const uint32_t request_count) {
  uint64_t start = fake_now_ns();
  fake_role role = fake_role_of(instance);
  for (uint32_t r = 0; r < request_count; r++) {
    const char* id = NULL;
    TRITONBACKEND_RequestId(requests[r], &id);
    if (strcmp(id, "execute_error") == 0) {
      return TRITONSERVER_ErrorNew(TRITONSERVER_ERROR_UNAVAILABLE, "the whole batch failed");
    }
  }
  for (uint32_t r = 0; r < request_count; r++) {
    TRITONBACKEND_Request* request = requests[r];
    if (role == FAKE_STREAM) {
      fake_stream_execute(instance, request, start);
      continue;
    }
    const char* id = NULL;
    TRITONBACKEND_RequestId(request, &id);
    TRITONBACKEND_Response* response = NULL;
    TRITONSERVER_Error* error = TRITONBACKEND_ResponseNew(&response, request);
    if (error == NULL && role == FAKE_CALLER) {
      fake_caller_execute(instance, request, response);
    } else if (error == NULL && role == FAKE_METRICS) {
      fake_metrics_execute(instance, request, response);
    } else if (error == NULL) {
      fake_echo(request, response);
      if (strcmp(id, "fail") == 0) {
        error = TRITONSERVER_ErrorNew(TRITONSERVER_ERROR_INVALID_ARG, "request 'fail' failed");
      } else {
        error = fake_add_sub(request, response);
      }
    }
    if (response != NULL) {
      TRITONBACKEND_ResponseSend(response, TRITONSERVER_RESPONSE_COMPLETE_FINAL, error);
    }
    uint64_t end = fake_now_ns();
    TRITONBACKEND_ModelInstanceReportStatistics(instance, request, error == NULL, start, start, end,
                                                end);
    fake_failed(error);
    fake_failed(TRITONBACKEND_RequestRelease(request, TRITONSERVER_REQUEST_RELEASE_ALL));
  }
  uint64_t end = fake_now_ns();
  TRITONBACKEND_ModelInstanceReportBatchStatistics(instance, request_count, start, start, end, end);
  return NULL;
}
