/*
 * execute.c: handing a batch of requests to TRITONBACKEND_ModelInstanceExecute
 * as Triton's scheduler does: one execute at a time per instance, and when
 * the backend returns an error, ownership of the requests comes back to the
 * server, which answers each with that error and releases it
 * (InferenceRequest::RespondIfError with release_requests = true).
 */
#include <stdlib.h>

#include "host_api.h"
#include "host_internal.h"
#include "host_server.h"

/* Marks the requests as handed to the instance; fails if one was already. */
static bool host_claim_requests(TRITONBACKEND_ModelInstance* instance,
                                TRITONBACKEND_Request* const* requests, uint32_t count,
                                char* error_text, uint32_t error_cap) {
  for (uint32_t i = 0; i < count; i++) {
    if (!host_check_magic(requests[i], HOST_MAGIC_REQUEST, "request")) {
      host_write_text(error_text, error_cap, "request %u is not a valid request handle", i);
      return false;
    }
    for (uint32_t j = 0; j < i; j++) {
      if (requests[j] == requests[i]) {
        host_write_text(error_text, error_cap, "request %u appears twice in the batch", i);
        return false;
      }
    }
    pthread_mutex_lock(&requests[i]->lock);
    bool again = requests[i]->executed &&
                 (requests[i]->release_count == 0 ||
                  (requests[i]->release_flags & TRITONSERVER_REQUEST_RELEASE_RESCHEDULE) == 0);
    pthread_mutex_unlock(&requests[i]->lock);
    if (again) {
      host_write_text(error_text, error_cap, "request '%s' was already executed",
                      requests[i]->id);
      return false;
    }
  }
  uint64_t now = host_now_ns();
  for (uint32_t i = 0; i < count; i++) {
    TRITONBACKEND_Request* request = requests[i];
    pthread_mutex_lock(&request->lock);
    if (request->executed) {
      /* Rescheduled: a new turn, released and reported afresh. */
      request->release_count = 0;
      request->release_flags = 0;
      request->stats_reports = 0;
    }
    request->executed = true;
    request->instance = instance;
    free(request->instance_name);
    request->instance_name = host_strdup(instance->name);
    if (request->submit_ns == 0) request->submit_ns = now;
    pthread_mutex_unlock(&request->lock);
  }
  return true;
}

/* The server's side of a failed execute. */
void host_requests_take_back(TRITONBACKEND_Request* const* requests, uint32_t count,
                             TRITONSERVER_Error* error) {
  for (uint32_t i = 0; i < count; i++) {
    TRITONBACKEND_Request* request = requests[i];
    pthread_mutex_lock(&request->lock);
    if (request->release_count > 0) {
      pthread_mutex_unlock(&request->lock);
      host_violation_record(HOST_VIOLATION_EXECUTE_ERROR_AFTER_RELEASE,
                            "execute returned an error after releasing request '%s'",
                            request->id);
      continue;
    }
    if (!request->final_sent) {
      host_request_record_response(request, false, TRITONSERVER_RESPONSE_COMPLETE_FINAL, error,
                                   NULL, 0, NULL, 0);
    }
    request->release_count = 1;
    request->release_flags = TRITONSERVER_REQUEST_RELEASE_ALL;
    request->released_by_host = true;
    pthread_mutex_unlock(&request->lock);
  }
  host_request_signal();
}

int32_t host_execute(TRITONBACKEND_ModelInstance* instance,
                     TRITONBACKEND_Request* const* requests, uint32_t count, char* error_text,
                     uint32_t error_cap) {
  if (!host_check_magic(instance, HOST_MAGIC_INSTANCE, "model instance")) {
    host_write_text(error_text, error_cap, "invalid instance handle");
    return -1;
  }
  if (requests == NULL || count == 0) {
    host_write_text(error_text, error_cap, "a batch needs at least one request");
    return -1;
  }
  pthread_mutex_lock(&instance->execute_lock);
  int32_t status = host_execute_locked(instance, requests, count, error_text, error_cap);
  pthread_mutex_unlock(&instance->execute_lock);
  /* In-process requests may be waiting for an idle instance. */
  host_registry_instance_idle();
  return status;
}

int32_t host_execute_locked(TRITONBACKEND_ModelInstance* instance,
                            TRITONBACKEND_Request* const* requests, uint32_t count,
                            char* error_text, uint32_t error_cap) {
  TRITONBACKEND_Backend* backend = instance->model->backend;
  if (!host_claim_requests(instance, requests, count, error_text, error_cap)) return -1;
  pthread_mutex_lock(&instance->stats_lock);
  instance->stats.execute_calls++;
  pthread_mutex_unlock(&instance->stats_lock);

  /* The backend receives its own array, as Triton passes a scratch vector. */
  TRITONBACKEND_Request** batch = host_alloc(sizeof *batch * count);
  for (uint32_t i = 0; i < count; i++) batch[i] = requests[i];
  TRITONSERVER_Error* error = backend->instance_execute(instance, batch, count);
  free(batch);

  int32_t status = 0;
  if (error != NULL) {
    host_requests_take_back(requests, count, error);
    host_error_take(error, error_text, error_cap);
    status = 1;
  }
  return status;
}
