/*
 * forward.c: in-process calls (BLS) handed to the server that embeds the
 * host, so that they go through its schedulers as its clients' requests do
 * (`deno task serve`'s own model manager: dynamic and sequence batching,
 * queue policies, statistics).
 *
 * While forwarding runs (host_forward_start), TRITONSERVER_ServerInferAsync
 * builds the call's backend request (inputs still the caller's) and queues
 * an event describing it; it never waits for the server. The server waits
 * for events on a thread of its own (host_forward_wait), reads each one
 * (host_forward_next), and then either claims the call and runs its backend
 * request in one of its batches (host_forward_claim, host_execute: what the
 * backend sends goes to the caller as for any in-process call) or answers
 * it with an error (host_forward_answer). host_forward_done ends the
 * server's hold; the backend request is freed once the call is also
 * complete. A cancel of a forwarded call queues an event too, so that the
 * server can answer a call still waiting in its queue.
 *
 * host_forward_stop answers every call not yet read with UNAVAILABLE and
 * sends later calls the same way; the server's waiter then returns -1.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "host_api.h"
#include "host_internal.h"
#include "host_server.h"

typedef struct host_forward_event {
  struct host_forward_event* next;
  host_infer_call* call; /* holds a reference */
  char* json;            /* a new call's description; NULL for a cancel */
} host_forward_event;

static pthread_mutex_t host_forward_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t host_forward_changed = PTHREAD_COND_INITIALIZER;
static _Atomic bool host_forward_on;
static bool host_forward_open; /* (lock) events are accepted */
static host_forward_event* host_forward_head;
static host_forward_event* host_forward_tail;

static const char* const host_forward_stopped_text =
    "the server is shutting down: in-process inference requests are no longer accepted";

bool host_forward_active(void) { return atomic_load(&host_forward_on); }

/* ---- Describing a call. ---- */

static void host_forward_pointer(host_text* text, const char* key, const void* pointer) {
  host_text_printf(text, ",\"%s\":\"%llu\"", key, (unsigned long long)(uintptr_t)pointer);
}

static void host_forward_parameter(host_text* text, const host_parameter* parameter) {
  host_text_append(text, "{\"key\":", 7);
  host_text_json_string(text, parameter->key);
  switch (parameter->value.type) {
    case TRITONSERVER_PARAMETER_STRING:
      host_text_append(text, ",\"string\":", 10);
      host_text_json_string(text, parameter->value.string_value);
      break;
    case TRITONSERVER_PARAMETER_INT:
      host_text_printf(text, ",\"int\":\"%lld\"", (long long)parameter->value.int_value);
      break;
    case TRITONSERVER_PARAMETER_BOOL:
      host_text_printf(text, ",\"bool\":%s", parameter->value.bool_value ? "true" : "false");
      break;
    case TRITONSERVER_PARAMETER_DOUBLE:
      host_text_printf(text, ",\"double\":\"%.17g\"", parameter->value.double_value);
      break;
    default:
      break; /* BYTES parameters do not reach a backend */
  }
  host_text_append(text, "}", 1);
}

char* host_forward_describe(const TRITONSERVER_InferenceRequest* from, host_infer_call* call,
                            TRITONBACKEND_Request* request) {
  host_text text = {0};
  host_text_append(&text, "{\"kind\":\"call\"", 14);
  host_forward_pointer(&text, "call", call);
  host_forward_pointer(&text, "request", request);
  host_text_append(&text, ",\"model\":", 9);
  host_text_json_string(&text, from->model_name);
  host_text_printf(&text, ",\"version\":%lld,\"id\":", (long long)from->model_version);
  host_text_json_string(&text, from->id);
  if (from->correlation_id_is_string) {
    host_text_append(&text, ",\"correlation_id_string\":", 25);
    host_text_json_string(&text, from->correlation_id_string);
  } else {
    host_text_printf(&text, ",\"correlation_id\":\"%llu\"",
                     (unsigned long long)from->correlation_id);
  }
  host_text_printf(&text, ",\"flags\":%u,\"priority\":\"%llu\",\"timeout_us\":\"%llu\",\"inputs\":[",
                   from->flags, (unsigned long long)from->priority,
                   (unsigned long long)from->timeout_us);
  for (uint32_t i = 0; i < from->input_count; i++) {
    const host_infer_input* input = &from->inputs[i];
    if (i > 0) host_text_append(&text, ",", 1);
    host_text_append(&text, "{\"name\":", 8);
    host_text_json_string(&text, input->name);
    host_text_printf(&text, ",\"datatype\":%d,\"shape\":[", (int)input->datatype);
    for (uint32_t d = 0; d < input->rank; d++) {
      host_text_printf(&text, "%s%lld", d > 0 ? "," : "", (long long)input->shape[d]);
    }
    host_text_append(&text, "],\"buffers\":[", 13);
    for (uint32_t b = 0; b < input->buffer_count; b++) {
      host_text_printf(&text, "%s[\"%llu\",\"%llu\"]", b > 0 ? "," : "",
                       (unsigned long long)(uintptr_t)input->buffers[b].base,
                       (unsigned long long)input->buffers[b].byte_size);
    }
    host_text_append(&text, "]}", 2);
  }
  host_text_append(&text, "],\"outputs\":[", 13);
  for (uint32_t i = 0; i < from->requested_output_count; i++) {
    if (i > 0) host_text_append(&text, ",", 1);
    host_text_json_string(&text, from->requested_outputs[i]);
  }
  host_text_append(&text, "],\"parameters\":[", 16);
  for (uint32_t i = 0; i < from->parameter_count; i++) {
    if (i > 0) host_text_append(&text, ",", 1);
    host_forward_parameter(&text, &from->parameters[i]);
  }
  host_text_append(&text, "]}", 2);
  char* json = host_strdup(text.data);
  host_text_free(&text);
  return json;
}

/* ---- Events. ---- */

/* Answers a call the server will never see, and lets it go. */
static void host_forward_refuse(host_infer_call* call) {
  host_forward_done(call, TRITONSERVER_ERROR_UNAVAILABLE, host_forward_stopped_text);
}

/* Appends an event; false (nothing queued) once forwarding stopped. */
static bool host_forward_push(host_infer_call* call, char* json) {
  host_forward_event* event = host_alloc(sizeof *event);
  event->call = call;
  event->json = json;
  pthread_mutex_lock(&host_forward_lock);
  bool open = host_forward_open;
  if (open) {
    if (host_forward_tail == NULL) {
      host_forward_head = event;
    } else {
      host_forward_tail->next = event;
    }
    host_forward_tail = event;
    pthread_cond_broadcast(&host_forward_changed);
  }
  pthread_mutex_unlock(&host_forward_lock);
  if (!open) free(event);
  return open;
}

void host_forward_submit(host_infer_call* call, char* event) {
  if (!host_forward_push(call, event)) {
    free(event);
    host_forward_refuse(call);
  }
}

void host_forward_cancel(host_infer_call* call) {
  atomic_fetch_add(&call->refs, 1);
  if (!host_forward_push(call, NULL)) host_infer_call_unref(call);
}

void host_forward_complete(host_infer_call* call, TRITONBACKEND_Request* request) {
  pthread_mutex_lock(&call->lock);
  bool free_now = call->forward_done;
  if (!free_now) call->forward_request = request;
  pthread_mutex_unlock(&call->lock);
  if (free_now) host_request_free(request);
}

/* ---- The server's side (host_api.h). ---- */

void host_forward_start(void) {
  pthread_mutex_lock(&host_forward_lock);
  host_forward_open = true;
  atomic_store(&host_forward_on, true);
  pthread_mutex_unlock(&host_forward_lock);
}

void host_forward_stop(void) {
  pthread_mutex_lock(&host_forward_lock);
  atomic_store(&host_forward_on, false);
  host_forward_open = false;
  host_forward_event* events = host_forward_head;
  host_forward_head = NULL;
  host_forward_tail = NULL;
  pthread_cond_broadcast(&host_forward_changed);
  pthread_mutex_unlock(&host_forward_lock);
  while (events != NULL) {
    host_forward_event* next = events->next;
    if (events->json != NULL) {
      free(events->json);
      host_forward_refuse(events->call);
    } else {
      host_infer_call_unref(events->call);
    }
    free(events);
    events = next;
  }
}

int32_t host_forward_wait(uint32_t timeout_ms) {
  const struct timespec deadline = host_deadline_in(timeout_ms);
  pthread_mutex_lock(&host_forward_lock);
  while (host_forward_open && host_forward_head == NULL) {
    if (pthread_cond_timedwait(&host_forward_changed, &host_forward_lock, &deadline) == ETIMEDOUT) {
      break;
    }
  }
  int32_t result = !host_forward_open ? -1 : host_forward_head != NULL ? 1 : 0;
  pthread_mutex_unlock(&host_forward_lock);
  return result;
}

uint64_t host_forward_next(char* out, uint64_t cap) {
  host_text text = {0};
  host_infer_call* cancelled = NULL;
  pthread_mutex_lock(&host_forward_lock);
  host_forward_event* event = host_forward_head;
  if (event != NULL) {
    if (event->json != NULL) {
      host_text_append(&text, event->json, strlen(event->json));
    } else {
      host_text_append(&text, "{\"kind\":\"cancel\"", 16);
      host_forward_pointer(&text, "call", event->call);
      host_text_append(&text, "}", 1);
    }
    /* Taken only when it fits: a caller with a small buffer asks again. */
    if (text.length < cap) {
      host_forward_head = event->next;
      if (host_forward_head == NULL) host_forward_tail = NULL;
      /* A new call's reference goes to the server; a cancel's is dropped
       * once the server has the address (it holds its own while the call
       * is its). */
      if (event->json == NULL) cancelled = event->call;
      free(event->json);
      free(event);
    }
  }
  pthread_mutex_unlock(&host_forward_lock);
  uint64_t length = host_text_export(&text, out, cap);
  host_text_free(&text);
  host_infer_call_unref(cancelled);
  return length;
}

int32_t host_forward_claim(host_infer_call* call) {
  if (call == NULL) return 0;
  return host_infer_call_claim(call) ? 1 : 0;
}

int32_t host_forward_answer(host_infer_call* call, uint32_t code, const char* message) {
  if (call == NULL) return 0;
  TRITONSERVER_Error* error =
      host_error_new((TRITONSERVER_Error_Code)code, "%s", message == NULL ? "" : message);
  bool answered = host_infer_call_answer(call, error, false);
  TRITONSERVER_ErrorDelete(error);
  return answered ? 1 : 0;
}

void host_forward_done(host_infer_call* call, uint32_t code, const char* message) {
  if (call == NULL) return;
  /* No execute runs any more: a call none took is answered here. */
  TRITONSERVER_Error* error =
      host_error_new((TRITONSERVER_Error_Code)code, "%s", message == NULL ? "" : message);
  (void)host_infer_call_answer(call, error, true);
  TRITONSERVER_ErrorDelete(error);
  pthread_mutex_lock(&call->lock);
  call->forward_done = true;
  TRITONBACKEND_Request* request = call->forward_request;
  call->forward_request = NULL;
  pthread_mutex_unlock(&call->lock);
  host_request_free(request);
  host_infer_call_unref(call); /* the server's */
}
