/*
 * infer_call.c: TRITONSERVER_ServerInferAsync and Cancel, the life of one
 * in-process inference (a "call") from submission to its last response.
 *
 * Submission returns at once, as in Triton: the caller is often inside its
 * own model's Execute. A thread of the host waits for an idle instance of
 * the target model and executes a TRITONBACKEND_Request built from the
 * caller's request (inputs by reference). Whatever the target backend then
 * does with that request is turned into the caller's callbacks on the
 * backend's own thread, as Triton does: each response it sends, now or
 * later from another thread, becomes a TRITONSERVER_InferenceResponse
 * (response callback, with the send flags, or NULL for flags alone), and
 * its release becomes the release callback (TRITONSERVER_REQUEST_RELEASE_ALL).
 * The call is complete when the backend released the request, sent FINAL
 * and holds no response or factory for it any more.
 *
 * A model the stand-in server loaded (TRITONSERVER_ServerNew,
 * ServerLoadModel) has a scheduler in front of it instead (scheduler.c):
 * the request is checked against its configuration, refused at once as
 * Triton refuses it, or queued for the model's instance threads.
 */
#include <stdlib.h>
#include <string.h>

#include "host_api.h"
#include "host_core.h"

/* ---- References. ---- */

host_infer_call* host_infer_call_acquire(TRITONBACKEND_Request* request) {
  if (request == NULL) return NULL;
  pthread_mutex_lock(&request->lock);
  host_infer_call* call = request->call;
  /* request->call is cleared (under this lock) before the call drops the
   * reference it holds while incomplete, so the call is alive here. */
  if (call != NULL) atomic_fetch_add(&call->refs, 1);
  pthread_mutex_unlock(&request->lock);
  return call;
}

void host_infer_call_unref(host_infer_call* call) {
  if (call == NULL || atomic_fetch_sub(&call->refs, 1) != 1) return;
  pthread_mutex_destroy(&call->lock);
  pthread_mutex_destroy(&call->deliver_lock);
  free(call->model_name);
  free(call->request_id);
  free(call);
}

static bool host_infer_call_is_complete(host_infer_call* call) {
  pthread_mutex_lock(&call->lock);
  bool complete = call->complete;
  pthread_mutex_unlock(&call->lock);
  return complete;
}

/* ---- Delivery (all with deliver_lock held and the call incomplete). ---- */

static void host_sent_contents_free(host_sent_response* record) {
  for (uint32_t o = 0; o < record->output_count; o++) host_output_free(record->outputs[o]);
  free(record->outputs);
  host_response_parameters_free(record->parameters, record->parameter_count);
}

static void host_infer_call_deliver_one(host_infer_call* call, host_sent_response* record) {
  /* After FINAL the caller may have freed what its callback uses; the
   * backend's extra response was already counted as response_after_final. */
  if (call->final_delivered) return;
  bool final = (record->flags & TRITONSERVER_RESPONSE_COMPLETE_FINAL) != 0;
  TRITONSERVER_InferenceResponse* response =
      record->flags_only ? NULL : host_infer_response_build(call, record);
  if (final) {
    call->final_delivered = true;
    /* No allocation follows FINAL: the caller may delete the allocator
     * (live responses still hold it for their release_fn calls). */
    host_allocator_unuse(call->allocator);
  }
  call->response_fn(response, record->flags, call->response_userp);
}

/* Hands over every response recorded since the last delivery. The record
 * keeps only its metadata; outputs and parameters move out of it. */
static void host_infer_call_deliver(host_infer_call* call) {
  TRITONBACKEND_Request* request = call->backend_request;
  for (;;) {
    pthread_mutex_lock(&request->lock);
    if (call->delivered >= request->response_count) {
      pthread_mutex_unlock(&request->lock);
      return;
    }
    host_sent_response* slot = &request->responses[call->delivered++];
    host_sent_response taken = *slot;
    slot->outputs = NULL;
    slot->output_count = 0;
    slot->parameters = NULL;
    slot->parameter_count = 0;
    pthread_mutex_unlock(&request->lock);
    /* taken.error_message stays owned by the record, which outlives this. */
    host_infer_call_deliver_one(call, &taken);
    host_sent_contents_free(&taken);
  }
}

static void host_infer_call_report_release(host_infer_call* call) {
  if (call->release_reported) return;
  TRITONBACKEND_Request* request = call->backend_request;
  pthread_mutex_lock(&request->lock);
  bool released = request->release_count > 0;
  pthread_mutex_unlock(&request->lock);
  if (!released) return;
  call->release_reported = true;
  /* Ownership goes back to the caller, who may delete the request in the
   * callback: nothing here touches it afterwards. */
  TRITONSERVER_InferenceRequest* owned = call->request;
  call->request = NULL;
  pthread_mutex_lock(&owned->lock);
  owned->in_flight = false;
  pthread_mutex_unlock(&owned->lock);
  call->release_fn(owned, TRITONSERVER_REQUEST_RELEASE_ALL, call->release_userp);
}

/* Marks the call complete and hands its backend request to the registry,
 * which keeps it a while so late use by the backend is still detected. */
static void host_infer_call_finish(host_infer_call* call, bool retire_request) {
  pthread_mutex_lock(&call->lock);
  call->complete = true;
  TRITONBACKEND_Request* request = call->backend_request;
  call->backend_request = NULL;
  pthread_mutex_unlock(&call->lock);
  pthread_mutex_lock(&request->lock);
  request->call = NULL;
  pthread_mutex_unlock(&request->lock);
  if (!call->final_delivered) host_allocator_unuse(call->allocator);
  if (call->forwarded) {
    host_forward_complete(call, request);
  } else {
    if (!retire_request) {
      host_request_free(request); /* counts what the backend left undone */
      request = NULL;
    }
    host_registry_unpin(call, request);
  }
  host_infer_call_unref(call); /* the reference held while incomplete */
}

static void host_infer_call_try_finish(host_infer_call* call) {
  TRITONBACKEND_Request* request = call->backend_request;
  pthread_mutex_lock(&request->lock);
  bool done = request->release_count > 0 && request->final_sent && request->live_responses == 0 &&
              request->live_factories == 0 && call->delivered >= request->response_count;
  pthread_mutex_unlock(&request->lock);
  if (done && call->release_reported) host_infer_call_finish(call, true);
}

/* Delivery, release and completion, keeping the caller's reference. */
static void host_infer_call_advance(host_infer_call* call) {
  pthread_mutex_lock(&call->deliver_lock);
  if (!host_infer_call_is_complete(call)) {
    host_infer_call_deliver(call);
    host_infer_call_report_release(call);
    host_infer_call_try_finish(call);
  }
  pthread_mutex_unlock(&call->deliver_lock);
}

void host_infer_call_progress(host_infer_call* call) {
  if (call == NULL) return;
  host_infer_call_advance(call);
  host_infer_call_unref(call);
}

/* With deliver_lock held, the call incomplete and not executed. */
static void host_infer_call_answer_locked(host_infer_call* call, TRITONSERVER_Error* error) {
  call->executed = true;
  TRITONBACKEND_Request* request = call->backend_request;
  host_requests_take_back(&request, 1, error);
  host_infer_call_deliver(call);
  host_infer_call_report_release(call);
  host_infer_call_try_finish(call);
}

/* Whether an instance took the call's backend request (host_execute
 * marks it executed); a forwarded call is claimed before its execute, which
 * may still refuse it. */
static bool host_infer_call_instance_took(host_infer_call* call) {
  TRITONBACKEND_Request* request = call->backend_request;
  pthread_mutex_lock(&request->lock);
  bool took = request->executed;
  pthread_mutex_unlock(&request->lock);
  return took;
}

bool host_infer_call_answer(host_infer_call* call, TRITONSERVER_Error* error, bool claimed_too) {
  pthread_mutex_lock(&call->deliver_lock);
  bool answer = !host_infer_call_is_complete(call) &&
                (!call->executed || (claimed_too && !host_infer_call_instance_took(call)));
  if (answer) host_infer_call_answer_locked(call, error);
  pthread_mutex_unlock(&call->deliver_lock);
  return answer;
}

void host_infer_call_abandon(host_infer_call* call) {
  pthread_mutex_lock(&call->deliver_lock);
  if (host_infer_call_is_complete(call)) {
    pthread_mutex_unlock(&call->deliver_lock);
    return;
  }
  if (!call->executed) {
    /* Never ran: answered and released by the server, as Triton answers a
     * request whose model goes away before it is scheduled. */
    TRITONSERVER_Error* error =
        host_error_new(TRITONSERVER_ERROR_UNAVAILABLE,
                       "model '%s' version %lld was unloaded before the request could run",
                       call->model_name, (long long)call->model_version);
    host_infer_call_answer_locked(call, error);
    TRITONSERVER_ErrorDelete(error);
  } else {
    host_violation_record(HOST_VIOLATION_INFER_REQUEST_ABANDONED,
                          "request '%s' to model '%s' still unfinished when the model unloaded",
                          call->request_id, call->model_name);
    host_infer_call_deliver(call);
    host_infer_call_report_release(call);
    host_infer_call_finish(call, false);
  }
  pthread_mutex_unlock(&call->deliver_lock);
}

bool host_infer_call_query(host_infer_call* call, const char* name, size_t* byte_size,
                           TRITONSERVER_MemoryType* memory_type, int64_t* memory_type_id,
                           TRITONSERVER_Error** error) {
  TRITONSERVER_ResponseAllocator* allocator = call->allocator;
  if (allocator == NULL || allocator->query_fn == NULL) return false;
  *error = allocator->query_fn(allocator, call->allocator_userp, name, byte_size, memory_type,
                               memory_type_id);
  return true;
}

/* ---- Execution. ---- */

bool host_infer_call_claim(host_infer_call* call) {
  pthread_mutex_lock(&call->deliver_lock);
  bool run = !call->executed && !host_infer_call_is_complete(call);
  call->executed = true;
  pthread_mutex_unlock(&call->deliver_lock);
  return run;
}

void host_infer_call_worker_finish(host_infer_call* call) {
  host_infer_call_advance(call);
  host_registry_worker_done(call);
  host_infer_call_unref(call);
}

static void* host_infer_call_run(void* argument) {
  host_infer_call* call = argument; /* holds the worker's reference */
  TRITONBACKEND_ModelInstance* instance = host_registry_claim_instance(call);
  if (instance == NULL) {
    host_infer_call_abandon(call);
  } else {
    bool run = host_infer_call_claim(call);
    TRITONBACKEND_Request* request = call->backend_request;
    if (run) {
      char error_text[1024];
      /* An error return was answered and released by the host already. */
      (void)host_execute_locked(instance, &request, 1, error_text, sizeof error_text);
    }
    host_registry_release_instance(call, instance);
  }
  host_infer_call_worker_finish(call);
  return NULL;
}

/* ---- Submission. ---- */

/* Triton's check of an input against its shape before a request runs.
 * Called with the request's lock held. */
static TRITONSERVER_Error* host_infer_check_input(const TRITONSERVER_InferenceRequest* request,
                                                  const host_infer_input* input) {
  uint64_t elements = 1;
  for (uint32_t d = 0; d < input->rank; d++) {
    if (input->shape[d] < 0 ||
        __builtin_mul_overflow(elements, (uint64_t)input->shape[d], &elements)) {
      return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                            "input '%s' for model '%s' has an invalid shape", input->name,
                            request->model_name);
    }
  }
  uint64_t actual = 0;
  for (uint32_t b = 0; b < input->buffer_count; b++) actual += input->buffers[b].byte_size;
  if (input->datatype == TRITONSERVER_TYPE_BYTES) {
    /* Length-prefixed elements: at least four bytes each. */
    if (actual < elements * 4) {
      return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                            "input byte size mismatch for input '%s' for model '%s'. Expected "
                            "at least %llu, got %llu",
                            input->name, request->model_name, (unsigned long long)(elements * 4),
                            (unsigned long long)actual);
    }
    return NULL;
  }
  uint32_t element_size = TRITONSERVER_DataTypeByteSize(input->datatype);
  if (element_size == 0) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                          "input '%s' for model '%s' has an invalid datatype %d", input->name,
                          request->model_name, (int)input->datatype);
  }
  if (actual != elements * element_size) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                          "input byte size mismatch for input '%s' for model '%s'. Expected "
                          "%llu, got %llu",
                          input->name, request->model_name,
                          (unsigned long long)(elements * element_size),
                          (unsigned long long)actual);
  }
  return NULL;
}

/* The TRITONBACKEND_Request the target backend sees. Called with the
 * caller's request lock held. Without a model (a forwarded call) the
 * server that runs it adds the default outputs. */
static TRITONBACKEND_Request* host_infer_backend_request(const TRITONSERVER_InferenceRequest* from,
                                                         TRITONBACKEND_Model* model) {
  TRITONBACKEND_Request* request =
      host_request_new(from->id, from->correlation_id,
                       from->correlation_id_is_string ? from->correlation_id_string : NULL,
                       from->flags, from->timeout_us);
  for (uint32_t i = 0; i < from->input_count; i++) {
    const host_infer_input* input = &from->inputs[i];
    host_request_add_input_borrowed(request, input->name, input->datatype, input->shape,
                                    input->rank, input->buffers, input->buffer_count);
  }
  if (from->requested_output_count > 0) {
    for (uint32_t i = 0; i < from->requested_output_count; i++) {
      host_request_add_requested_output(request, from->requested_outputs[i]);
    }
  } else if (model != NULL) {
    /* As Triton does, no requested outputs means every output of the config. */
    pthread_mutex_lock(&model->config_lock);
    uint32_t count = 0;
    char** names = host_config_output_names(model->config->json, model->config->byte_size, &count);
    pthread_mutex_unlock(&model->config_lock);
    for (uint32_t i = 0; i < count; i++) {
      host_request_add_requested_output(request, names[i]);
      free(names[i]);
    }
    free(names);
  }
  for (uint32_t i = 0; i < from->parameter_count; i++) {
    const host_parameter* parameter = &from->parameters[i];
    const host_typed_value* value = &parameter->value;
    int64_t integer =
        value->type == TRITONSERVER_PARAMETER_BOOL ? value->bool_value : value->int_value;
    host_request_add_parameter(request, parameter->key, value->type, value->string_value, integer,
                               value->double_value);
  }
  return request;
}

static host_infer_call* host_infer_call_new(const TRITONSERVER_InferenceRequest* request) {
  host_infer_call* call = host_alloc(sizeof *call);
  pthread_mutex_init(&call->lock, NULL);
  pthread_mutex_init(&call->deliver_lock, NULL);
  call->model_name = host_strdup(request->model_name);
  call->request_id = host_strdup(request->id);
  call->allocator = request->allocator;
  call->allocator_userp = request->allocator_userp;
  call->response_fn = request->response_fn;
  call->response_userp = request->response_userp;
  call->release_fn = request->release_fn;
  call->release_userp = request->release_userp;
  /* The caller's request, the call's completion, and the worker. */
  atomic_store(&call->refs, 3);
  return call;
}

/* Checks a request before it is submitted. Called with its lock held. */
static TRITONSERVER_Error* host_infer_check_request(TRITONSERVER_InferenceRequest* request) {
  if (request->in_flight) {
    host_violation_record(HOST_VIOLATION_INFER_REQUEST_SUBMITTED_TWICE,
                          "request '%s' for model '%s'", request->id, request->model_name);
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                          "inference request '%s' is already being inferred", request->id);
  }
  if (request->response_fn == NULL) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                          "inference request '%s' has no response callback", request->id);
  }
  if (request->release_fn == NULL) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                          "inference request '%s' has no release callback", request->id);
  }
  if (request->allocator != NULL &&
      !host_handle_check(HOST_HANDLE_ALLOCATOR, request->allocator, "ServerInferAsync")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                          "inference request '%s' uses a deleted response allocator", request->id);
  }
  for (uint32_t i = 0; i < request->input_count; i++) {
    TRITONSERVER_Error* error = host_infer_check_input(request, &request->inputs[i]);
    if (error != NULL) return error;
  }
  return NULL;
}

/* Hands the call to the embedding server (forward.c), which finds the
 * model, checks the request and schedules it as its clients' requests.
 * Called with the caller's request lock held; releases it. */
static TRITONSERVER_Error* host_infer_forward(TRITONSERVER_InferenceRequest* inference_request) {
  host_infer_call* call = host_infer_call_new(inference_request);
  call->forwarded = true;
  call->model_version = inference_request->model_version;
  TRITONBACKEND_Request* request = host_infer_backend_request(inference_request, NULL);
  request->call = call;
  request->submit_ns = host_now_ns();
  call->backend_request = request;
  call->request = inference_request;
  host_allocator_use(call->allocator);
  inference_request->in_flight = true;
  host_infer_call* previous = inference_request->call;
  inference_request->call = call;
  char* event = host_forward_describe(inference_request, call, request);
  pthread_mutex_unlock(&inference_request->lock);
  host_infer_call_unref(previous);
  host_forward_submit(call, event);
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_ServerInferAsync(TRITONSERVER_Server* server,
                                                  TRITONSERVER_InferenceRequest* inference_request,
                                                  TRITONSERVER_InferenceTrace* trace) {
  if (!host_server_check(server, "ServerInferAsync")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid server handle");
  }
  if (!host_handle_check(HOST_HANDLE_INFER_REQUEST, inference_request, "ServerInferAsync")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid inference request");
  }
  if (trace != NULL) {
    return host_error_new(TRITONSERVER_ERROR_UNSUPPORTED, "inference tracing not supported");
  }
  pthread_mutex_lock(&inference_request->lock);
  TRITONSERVER_Error* error = host_infer_check_request(inference_request);
  if (error != NULL) {
    pthread_mutex_unlock(&inference_request->lock);
    return error;
  }
  if (host_forward_active()) return host_infer_forward(inference_request);
  host_infer_call* call = host_infer_call_new(inference_request);
  /* The model could have been unloaded since the request was created. */
  error = host_registry_pin(inference_request->model_name, inference_request->model_version, call);
  if (error != NULL) {
    pthread_mutex_unlock(&inference_request->lock);
    atomic_store(&call->refs, 1);
    host_infer_call_unref(call);
    return error;
  }
  TRITONBACKEND_Request* request = host_infer_backend_request(inference_request, call->model);
  /* A served model's scheduler checks the request (and adds sequence
   * controls); a refusal is returned here, as Triton returns it. */
  host_scheduler* scheduler = call->model->runtime == NULL ? NULL : call->model->runtime->scheduler;
  host_queued* queued = NULL;
  if (scheduler != NULL) {
    error = host_scheduler_prepare(scheduler, inference_request, request, &queued);
    if (error != NULL) {
      pthread_mutex_unlock(&inference_request->lock);
      host_request_free(request);
      host_registry_unpin(call, NULL);
      host_registry_worker_done(call);
      atomic_store(&call->refs, 1);
      host_infer_call_unref(call);
      return error;
    }
  }
  request->call = call;
  request->submit_ns = host_now_ns();
  call->backend_request = request;
  call->request = inference_request;
  host_allocator_use(call->allocator);
  inference_request->in_flight = true;
  host_infer_call* previous = inference_request->call;
  inference_request->call = call;
  pthread_mutex_unlock(&inference_request->lock);
  host_infer_call_unref(previous);

  if (queued != NULL) {
    /* The scheduler's thread holds the worker's reference from here. */
    queued->call = call;
    host_scheduler_enqueue(scheduler, queued);
    return NULL;
  }
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
  pthread_t thread;
  int failed = pthread_create(&thread, &attributes, host_infer_call_run, call);
  pthread_attr_destroy(&attributes);
  if (failed != 0) {
    /* Never ran: answered like a request whose model went away. */
    host_infer_call_abandon(call);
    host_registry_worker_done(call);
    host_infer_call_unref(call); /* the worker's */
  }
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_InferenceRequestCancel(
    TRITONSERVER_InferenceRequest* inference_request) {
  if (!host_handle_check(HOST_HANDLE_INFER_REQUEST, inference_request, "InferenceRequestCancel")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid inference request");
  }
  pthread_mutex_lock(&inference_request->lock);
  host_infer_call* call = inference_request->call;
  if (call != NULL) atomic_fetch_add(&call->refs, 1);
  pthread_mutex_unlock(&inference_request->lock);
  if (call == NULL) return NULL; /* not submitted yet: nothing to cancel, as in Triton */
  /* Best effort: the backend sees it through TRITONBACKEND_RequestIsCancelled. */
  pthread_mutex_lock(&call->lock);
  bool live = !call->complete && call->backend_request != NULL;
  if (live) host_request_cancel(call->backend_request);
  pthread_mutex_unlock(&call->lock);
  /* A forwarded call may wait in the server's queue: it answers it. */
  if (live && call->forwarded) host_forward_cancel(call);
  host_infer_call_unref(call);
  return NULL;
}
