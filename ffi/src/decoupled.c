/*
 * decoupled.c: see decoupled.h. One lock guards the flights and every
 * record the parent sends; the pump releases it only while it waits on the
 * ring, so Execute (sending EXECUTE) and the pump (sending CANCEL, handling
 * records) never interleave inside a flight's state.
 */
#include "decoupled.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "errors.h"
#include "instance.h"
#include "log.h"
#include "record_check.h"

#define PUMP_SLICE_NS (5 * TDN_NS_PER_MS) /* cancellation and deadline checks */
/* With nothing in flight for PUMP_REST_AFTER_NS the pump rests: it sleeps
 * PUMP_REST_NS at a time (the memory budget is looked at as often), and
 * the next batch wakes it (tdn_supervisor_wake_waiter). An idle instance
 * then costs the server one wake-up a second instead of 200; a stream of
 * requests, each arriving within the rest delay of the last one's end,
 * never pays the extra wake-up. */
#define PUMP_REST_AFTER_NS (50 * TDN_NS_PER_MS)
#define PUMP_REST_NS (1000 * TDN_NS_PER_MS)

/* How long a model may take to close a request Triton cancelled before the
 * parent ends it for the model (the client is gone; nobody reads on). */
#define CANCEL_GRACE_NS (5000 * TDN_NS_PER_MS)

struct tdn_flight {
  uint64_t batch_id;
  tdn_collected_batch batch;
  TRITONBACKEND_ResponseFactory** factories; /* [sendable_count] */
  bool* finished;                            /* [sendable_count]: FINAL sent */
  bool* succeeded;                           /* [sendable_count] */
  uint64_t* last_response_ns;                /* [sendable_count]: 0 before the first */
  uint64_t* cancelled_ns;                    /* [sendable_count]: cancellation seen; 0: none */
  bool* closing; /* [sendable_count]: ended by the parent, the stub's acknowledgement pending */
  uint32_t open;
  uint32_t unacknowledged; /* requests with `closing` set */
  bool executed;
  uint64_t block_handle;
  uint64_t exec_start_ns, compute_start_ns, compute_end_ns, deadline_ns;
  tdn_flight* next;
};

void tdn_decoupled_init(tdn_decoupled* decoupled, struct tdn_instance* instance)
{
  memset(decoupled, 0, sizeof(*decoupled));
  decoupled->instance = instance;
  pthread_mutex_init(&decoupled->lock, NULL);
  pthread_cond_init(&decoupled->changed, NULL);
}

static void flight_free(tdn_flight* flight)
{
  tdn_collected_batch_free(&flight->batch);
  free(flight->factories);
  free(flight->finished);
  free(flight->succeeded);
  free(flight->last_response_ns);
  free(flight->cancelled_ns);
  free(flight->closing);
  free(flight);
}

/* Frees a flight whose execute settled and whose requests are all closed
 * (and, for those the parent ended, acknowledged: the stub may read their
 * inputs until then). */
static void maybe_retire(tdn_decoupled* decoupled, tdn_flight* flight)
{
  if (!flight->executed || flight->open > 0 || flight->unacknowledged > 0) {
    return;
  }
  tdn_supervisor_give_back(&decoupled->instance->supervisor, flight->block_handle);
  for (tdn_flight** link = &decoupled->flights; *link != NULL; link = &(*link)->next) {
    if (*link == flight) {
      *link = flight->next;
      break;
    }
  }
  flight_free(flight);
}

/* The request's FINAL went out (or its turn ended with RESCHEDULE, which
 * `release_flags` then says): statistics, release, factory. */
static void finish_request(
    tdn_decoupled* decoupled, tdn_flight* flight, uint32_t index, uint32_t release_flags)
{
  flight->finished[index] = true;
  flight->open--;
  TRITONBACKEND_Request* request = flight->batch.sendable_requests[index];
  const uint64_t now = tdn_now_ns();
  const uint64_t compute_end = flight->compute_end_ns != 0 ? flight->compute_end_ns : now;
  TDN_LOG_IF_ERROR(
      TRITONBACKEND_ModelInstanceReportStatistics(
          decoupled->handle, request, flight->succeeded[index], flight->exec_start_ns,
          flight->compute_start_ns, compute_end, now),
      "cannot report request statistics");
  TDN_LOG_IF_ERROR(
      TRITONBACKEND_ResponseFactoryDelete(flight->factories[index]),
      "cannot delete a response factory");
  flight->factories[index] = NULL;
  tdn_release_request(request, release_flags, decoupled->instance->name);
}

static void fail_request(
    tdn_decoupled* decoupled, tdn_flight* flight, uint32_t index, const char* message,
    TRITONSERVER_Error_Code code)
{
  flight->succeeded[index] = false;
  tdn_respond_streamed_error(
      flight->factories[index], tdn_error(code, "%s", message),
      TRITONSERVER_RESPONSE_COMPLETE_FINAL);
  finish_request(decoupled, flight, index, TRITONSERVER_REQUEST_RELEASE_ALL);
}

static void settle(tdn_decoupled* decoupled, tdn_flight* flight)
{
  if (flight->executed) {
    return;
  }
  flight->executed = true;
  flight->compute_end_ns = tdn_now_ns();
  decoupled->executing--;
  TDN_LOG_IF_ERROR(
      TRITONBACKEND_ModelInstanceReportBatchStatistics(
          decoupled->handle, flight->batch.batch_size, flight->exec_start_ns,
          flight->compute_start_ns, flight->compute_end_ns, flight->compute_end_ns),
      "cannot report batch statistics");
  pthread_cond_broadcast(&decoupled->changed);
}

/* The stub is gone: no acknowledgement of an ended request will come. */
static void forget_acknowledgements(tdn_flight* flight)
{
  memset(flight->closing, 0, flight->batch.sendable_count * sizeof(bool));
  flight->unacknowledged = 0;
}

/* Fails every open request of every flight with `message` (the stub is gone). */
static void fail_all(tdn_decoupled* decoupled, const char* message)
{
  tdn_flight* flight = decoupled->flights;
  while (flight != NULL) {
    tdn_flight* next = flight->next;
    forget_acknowledgements(flight);
    for (uint32_t i = 0; i < flight->batch.sendable_count; ++i) {
      if (!flight->finished[i]) {
        fail_request(decoupled, flight, i, message, TRITONSERVER_ERROR_INTERNAL);
      }
    }
    settle(decoupled, flight);
    maybe_retire(decoupled, flight);
    flight = next;
  }
  pthread_cond_broadcast(&decoupled->changed);
}

static tdn_flight* find_flight(tdn_decoupled* decoupled, uint64_t batch_id)
{
  for (tdn_flight* flight = decoupled->flights; flight != NULL; flight = flight->next) {
    if (flight->batch_id == batch_id) {
      return flight;
    }
  }
  return NULL;
}

/* RESPONSE: one response (or only FINAL) for one request. */
static bool on_response(tdn_decoupled* decoupled, const tdn_record* record, tdn_diag* why)
{
  tdn_instance* instance = decoupled->instance;
  tdn_flight* flight = find_flight(decoupled, record->id);
  if (flight == NULL || record->aux >= flight->batch.sendable_count) {
    return tdn_diag_set(
        why, "sent a RESPONSE for request %u of batch %llu, which is not in flight", record->aux,
        (unsigned long long)record->id);
  }
  const uint32_t index = record->aux;
  const bool acknowledgement = record->flags == TDN_FLAG_CLOSED && record->length == 0;
  if (flight->closing[index]) {
    /* The parent ended this request; what the model sent for it before the
     * stub saw that is dropped, and the acknowledgement is its last record. */
    if (acknowledgement) {
      flight->closing[index] = false;
      flight->unacknowledged--;
      maybe_retire(decoupled, flight);
    } else if ((record->flags & ~(TDN_FLAG_FINAL | TDN_FLAG_RESCHEDULE)) != 0) {
      return tdn_diag_set(why, "sent a RESPONSE with flags %u", record->flags);
    }
    return true;
  }
  if (flight->finished[index]) {
    return tdn_diag_set(
        why, "sent a RESPONSE for request %u of batch %llu after its FINAL", index,
        (unsigned long long)record->id);
  }
  if (acknowledgement) {
    return tdn_diag_set(
        why, "acknowledged the end of request %u of batch %llu, which the parent did not end",
        index, (unsigned long long)record->id);
  }
  if (!tdn_check_response_flags(record, why)) {
    return false;
  }
  if ((record->flags & TDN_FLAG_RESCHEDULE) != 0) {
    /* The request's turn is over without a FINAL: Triton gives it back. */
    finish_request(decoupled, flight, index, TRITONSERVER_REQUEST_RELEASE_RESCHEDULE);
    maybe_retire(decoupled, flight);
    return true;
  }
  flight->last_response_ns[index] = tdn_now_ns();
  const bool final = (record->flags & TDN_FLAG_FINAL) != 0;
  const uint32_t flags = final ? TRITONSERVER_RESPONSE_COMPLETE_FINAL : 0;
  TRITONBACKEND_ResponseFactory* factory = flight->factories[index];
  const tdn_request_desc* desc = &flight->batch.sendable[index];
  tdn_supervisor* supervisor = &instance->supervisor;
  if (record->length == 0) {
    tdn_respond_streamed(factory, desc, NULL, flags, NULL, instance->name);
  } else {
    tdn_result_view result;
    if (!tdn_result_decode(
            tdn_supervisor_arena(supervisor), tdn_supervisor_arena_size(supervisor),
            record->offset, record->length, 1, &result, why)) {
      return false;
    }
    uint64_t bytes = 0;
    for (uint32_t k = 0; k < result.responses[0].output_count; ++k) {
      bytes += result.responses[0].outputs[k].data_size;
    }
    const uint64_t limit = instance->model->sandbox.max_output_bytes;
    if (result.responses[0].problem == NULL && bytes > limit) {
      tdn_respond_streamed_error(
          factory,
          tdn_error(
              TRITONSERVER_ERROR_INTERNAL,
              "instance '%s': a response of %llu bytes is above the model's limit of %llu bytes "
              "(deno.max_output_bytes)",
              instance->name, (unsigned long long)bytes, (unsigned long long)limit),
          flags);
      flight->succeeded[index] = false;
    } else if (!tdn_respond_streamed(
                   factory, desc, &result.responses[0], flags,
                   tdn_supervisor_arena(supervisor), instance->name)) {
      flight->succeeded[index] = false;
    }
    tdn_result_view_free(&result);
  }
  if (final) {
    finish_request(decoupled, flight, index, TRITONSERVER_REQUEST_RELEASE_ALL);
    maybe_retire(decoupled, flight);
  }
  return true;
}

/* RESULT: the whole answer to a batch of a model that is not decoupled
 * (its batches overlap: deno.max_batches_in_flight). Each request gets its
 * one response, FINAL, as Execute would have sent it (instance.c). */
static bool on_result(tdn_decoupled* decoupled, const tdn_record* record, tdn_diag* why)
{
  tdn_instance* instance = decoupled->instance;
  tdn_flight* flight = find_flight(decoupled, record->id);
  if (flight == NULL || flight->executed) {
    return tdn_diag_set(
        why, "sent a RESULT for batch %llu, which is not running", (unsigned long long)record->id);
  }
  tdn_supervisor* supervisor = &instance->supervisor;
  const uint8_t* arena = tdn_supervisor_arena(supervisor);
  tdn_result_view result;
  if (!tdn_result_decode(
          arena, tdn_supervisor_arena_size(supervisor), record->offset, record->length,
          flight->batch.sendable_count, &result, why)) {
    return false;
  }
  settle(decoupled, flight);
  TRITONSERVER_Error* too_large = tdn_result_check_volume(
      &result, instance->model->sandbox.max_output_bytes, instance->model->name, instance->name);
  for (uint32_t i = 0; i < flight->batch.sendable_count; ++i) {
    const tdn_response_view* response = &result.responses[i];
    if (flight->finished[i]) {
      continue; /* nothing ends such a request before its RESULT; should anything, once is enough */
    }
    if (too_large != NULL) {
      fail_request(
          decoupled, flight, i, TRITONSERVER_ErrorMessage(too_large),
          TRITONSERVER_ErrorCode(too_large));
    } else if (response->problem == NULL && response->reschedule) {
      finish_request(decoupled, flight, i, TRITONSERVER_REQUEST_RELEASE_RESCHEDULE);
    } else {
      if (!tdn_respond_streamed(
              flight->factories[i], &flight->batch.sendable[i], response,
              TRITONSERVER_RESPONSE_COMPLETE_FINAL, arena, instance->name)) {
        flight->succeeded[i] = false;
      }
      finish_request(decoupled, flight, i, TRITONSERVER_REQUEST_RELEASE_ALL);
    }
  }
  if (too_large != NULL) {
    TRITONSERVER_ErrorDelete(too_large);
  }
  tdn_result_view_free(&result);
  maybe_retire(decoupled, flight);
  return true;
}

/* Handles one record of the stub of a model whose batches overlap; false:
 * protocol violation. A decoupled model's stub answers with RESPONSE and
 * EXECUTE_DONE, any other with one RESULT a batch. */
static bool handle_record(tdn_decoupled* decoupled, const tdn_record* record, tdn_diag* why)
{
  const bool decoupled_model = decoupled->instance->model->sandbox.decoupled;
  if ((record->kind == TDN_MSG_RESULT && decoupled_model) ||
      ((record->kind == TDN_MSG_RESPONSE || record->kind == TDN_MSG_EXECUTE_DONE) &&
       !decoupled_model)) {
    return tdn_diag_set(
        why, "sent record kind %u, which the stub of a %s model never sends", record->kind,
        decoupled_model ? "decoupled" : "non-decoupled");
  }
  switch (record->kind) {
    case TDN_MSG_RESPONSE:
      return on_response(decoupled, record, why);
    case TDN_MSG_RESULT:
      return on_result(decoupled, record, why);
    case TDN_MSG_EXECUTE_DONE: {
      tdn_flight* flight = find_flight(decoupled, record->id);
      if (flight == NULL || flight->executed) {
        return tdn_diag_set(
            why, "sent EXECUTE_DONE for batch %llu, which is not running",
            (unsigned long long)record->id);
      }
      settle(decoupled, flight);
      maybe_retire(decoupled, flight);
      return true;
    }
    case TDN_MSG_ERROR: {
      /* The batch failed as a whole (it could not even be read, or the
       * Worker died: batch id 0 means every batch). */
      char* text = NULL;
      if (!tdn_supervisor_error_text(&decoupled->instance->supervisor, record, &text, why)) {
        return false;
      }
      tdn_flight* flight = decoupled->flights;
      while (flight != NULL) {
        tdn_flight* next = flight->next;
        if (record->id == 0 || flight->batch_id == record->id) {
          if (record->id == 0) {
            forget_acknowledgements(flight); /* the Worker is gone */
          }
          for (uint32_t i = 0; i < flight->batch.sendable_count; ++i) {
            if (!flight->finished[i]) {
              fail_request(decoupled, flight, i, text, (TRITONSERVER_Error_Code)(
                  record->aux <= TRITONSERVER_ERROR_CANCELLED ? record->aux
                                                              : TRITONSERVER_ERROR_INTERNAL));
            }
          }
          settle(decoupled, flight);
          maybe_retire(decoupled, flight);
        }
        flight = next;
      }
      free(text);
      return true;
    }
    default:
      return tdn_diag_set(
          why, "sent record kind %u, which the stub never sends while batches overlap",
          record->kind);
  }
}

bool tdn_decoupled_on_record(void* context, const tdn_record* record)
{
  tdn_decoupled* decoupled = context;
  if (record->kind != TDN_MSG_RESPONSE && record->kind != TDN_MSG_EXECUTE_DONE &&
      record->kind != TDN_MSG_RESULT) {
    return false;
  }
  tdn_diag why;
  pthread_mutex_lock(&decoupled->lock);
  const bool handled = handle_record(decoupled, record, &why);
  pthread_mutex_unlock(&decoupled->lock);
  if (!handled) {
    TDN_LOG_WARN(
        "stub for instance '%s' during finalize: %s", decoupled->instance->name, why.text);
  }
  return handled;
}

/* Ends request `index` for the model: `error` goes to the client as its
 * FINAL, and a CANCEL flagged CLOSED tells the stub, which drops whatever
 * the model still sends for it and acknowledges. */
static bool end_request(
    tdn_decoupled* decoupled, tdn_flight* flight, uint32_t index, TRITONSERVER_Error_Code code,
    const char* client_message, tdn_diag* why)
{
  fail_request(decoupled, flight, index, client_message, code);
  flight->closing[index] = true;
  flight->unacknowledged++;
  tdn_record record = {
      .kind = TDN_MSG_CANCEL, .flags = TDN_FLAG_CLOSED, .aux = index, .id = flight->batch_id};
  return tdn_supervisor_send_record(&decoupled->instance->supervisor, &record, why);
}

/* A request's longest silence passed, or it was cancelled and the model
 * did not close it in time: ends it, saying so in Triton's log. */
static bool end_overdue(
    tdn_decoupled* decoupled, tdn_flight* flight, uint32_t index, uint64_t now, tdn_diag* why)
{
  if (!decoupled->instance->model->sandbox.decoupled) {
    /* One RESULT answers the whole batch, and the execute deadline bounds
     * it: a request of such a batch is never ended alone. */
    return true;
  }
  const char* name = decoupled->instance->name;
  const char* id = flight->batch.sendable[index].id;
  if (flight->cancelled_ns[index] != 0 && now >= flight->cancelled_ns[index] + CANCEL_GRACE_NS) {
    TDN_LOG_WARN(
        "instance '%s': request '%s' was cancelled and its model did not close it within %llu "
        "ms; the backend ended it",
        name, id, (unsigned long long)(CANCEL_GRACE_NS / TDN_NS_PER_MS));
    return end_request(decoupled, flight, index, TRITONSERVER_ERROR_CANCELLED, "request cancelled",
                       why);
  }
  const uint64_t limit_ms = decoupled->instance->model->sandbox.stream_idle_timeout_ms;
  if (!flight->executed || limit_ms == 0) {
    return true; /* during execute the execute deadline applies */
  }
  const uint64_t since = flight->last_response_ns[index] > flight->compute_end_ns
                             ? flight->last_response_ns[index]
                             : flight->compute_end_ns;
  if (now < since + limit_ms * TDN_NS_PER_MS) {
    return true;
  }
  TDN_LOG_WARN(
      "instance '%s': request '%s' got no response for %llu ms after execute returned "
      "(deno.stream_idle_timeout_ms); the backend ended it",
      name, id, (unsigned long long)limit_ms);
  char message[160];
  snprintf(
      message, sizeof(message),
      "the model sent no response for %llu ms and did not close the request; it was ended",
      (unsigned long long)limit_ms);
  return end_request(decoupled, flight, index, TRITONSERVER_ERROR_UNAVAILABLE, message, why);
}

/* Forwards new cancellations, enforces the execute deadline, and ends
 * requests that are overdue (end_overdue). */
static bool watch_flights(tdn_decoupled* decoupled, tdn_diag* why, bool* deadline_missed)
{
  tdn_supervisor* supervisor = &decoupled->instance->supervisor;
  const uint64_t now = tdn_now_ns();
  tdn_flight* flight = decoupled->flights;
  while (flight != NULL) {
    /* Ending a flight's last request may retire (free) it. */
    tdn_flight* next = flight->next;
    if (!flight->executed && flight->deadline_ns != 0 && now >= flight->deadline_ns) {
      *deadline_missed = true;
      return true;
    }
    for (uint32_t i = 0; i < flight->batch.sendable_count; ++i) {
      if (flight->finished[i]) {
        continue;
      }
      if (!flight->batch.cancel_sent[i]) {
        bool cancelled = false;
        TRITONSERVER_Error* error =
            TRITONBACKEND_RequestIsCancelled(flight->batch.sendable_requests[i], &cancelled);
        if (error != NULL) {
          TRITONSERVER_ErrorDelete(error);
        } else if (cancelled) {
          flight->batch.cancel_sent[i] = true;
          flight->cancelled_ns[i] = now;
          if (!tdn_supervisor_send(supervisor, TDN_MSG_CANCEL, i, flight->batch_id, 0, 0, why)) {
            return false;
          }
        }
      }
      if (!end_overdue(decoupled, flight, i, now, why)) {
        return false;
      }
    }
    flight = next;
  }
  return true;
}

static void* pump_main(void* argument)
{
  tdn_decoupled* decoupled = argument;
  tdn_instance* instance = decoupled->instance;
  tdn_supervisor* supervisor = &instance->supervisor;
  char message[4608];
  message[0] = '\0';
  uint64_t next_watch_ns = 0;
  uint64_t quiet_since_ns = tdn_now_ns(); /* 0 while something is in flight */
  uint64_t slice_ns = PUMP_SLICE_NS;
  for (;;) {
    tdn_record record;
    tdn_diag why;
    const tdn_wait_outcome outcome =
        tdn_supervisor_await(supervisor, tdn_now_ns() + slice_ns, &record, &why);
    pthread_mutex_lock(&decoupled->lock);
    /* A record the parent refuses, or a ring (or doorbell) it refuses. */
    bool failed = outcome == WAIT_BROKEN;
    if (outcome == WAIT_RECORD) {
      failed = !handle_record(decoupled, &record, &why);
      if (!failed && record.kind == TDN_MSG_ERROR && record.id == 0) {
        /* The stub failed all its work and is ending: stop it now, so that
         * the next batch starts a new one instead of finding it gone. */
        tdn_supervisor_kill(supervisor, NULL);
        decoupled->pump_exited = true;
        pthread_cond_broadcast(&decoupled->changed);
        pthread_mutex_unlock(&decoupled->lock);
        return NULL;
      }
    }
    if (failed) {
      snprintf(
          message, sizeof(message),
          "stub for instance '%.256s' broke the protocol: %s; it was killed and is restarting",
          instance->name, why.text);
    }
    const uint64_t now = tdn_now_ns();
    if (outcome == WAIT_DIED) {
      failed = true;
      tdn_diag how;
      tdn_supervisor_kill(supervisor, &how);
      snprintf(
          message, sizeof(message), "stub for instance '%.256s' %s; restarting", instance->name,
          how.text);
    } else if (!failed && now >= next_watch_ns) {
      /* Every slice, also while records keep coming. */
      next_watch_ns = now + slice_ns;
      bool missed = false;
      if (!watch_flights(decoupled, &why, &missed)) {
        failed = true;
        snprintf(message, sizeof(message), "stub for instance '%.256s': %s", instance->name, why.text);
      } else if (missed) {
        failed = true;
        snprintf(
            message, sizeof(message),
            "execute exceeded the %llu ms deadline on instance '%.256s'; the stub was killed and is "
            "restarting",
            (unsigned long long)supervisor->config.execute_timeout_ms, instance->name);
      }
      /* The memory budget, as Execute's path looks at it after each batch
       * (at most every 50 ms): over it, the stub was killed (and said so). */
      tdn_supervisor_check_memory(supervisor, false);
      if (!failed && supervisor->pid <= 0) {
        failed = true;
        snprintf(
            message, sizeof(message),
            "stub for instance '%.256s' was over its memory budget; it was killed and is restarting",
            instance->name);
      }
    }
    if (failed) {
      TDN_LOG_WARN("%s", message);
      tdn_supervisor_kill(supervisor, NULL);
      fail_all(decoupled, message);
      decoupled->pump_exited = true;
      pthread_cond_broadcast(&decoupled->changed);
      pthread_mutex_unlock(&decoupled->lock);
      return NULL;
    }
    if (decoupled->stopping) {
      decoupled->pump_exited = true;
      pthread_mutex_unlock(&decoupled->lock);
      return NULL;
    }
    if (decoupled->flights != NULL) {
      quiet_since_ns = 0;
    } else if (quiet_since_ns == 0) {
      quiet_since_ns = now;
    }
    /* Only where a batch can end the rest (a writer of the doorbell). */
    decoupled->pump_resting = supervisor->doorbells.wake_parent >= 0 && quiet_since_ns != 0 &&
                              now - quiet_since_ns >= PUMP_REST_AFTER_NS;
    slice_ns = decoupled->pump_resting ? PUMP_REST_NS : PUMP_SLICE_NS;
    if (next_watch_ns > now + slice_ns) {
      next_watch_ns = now + slice_ns; /* a batch ended the rest: watch it from now on */
    }
    pthread_mutex_unlock(&decoupled->lock);
  }
}

/* With the lock held: a live stub and a pump for it. */
static TRITONSERVER_Error* ensure_pump(tdn_decoupled* decoupled)
{
  tdn_supervisor* supervisor = &decoupled->instance->supervisor;
  if (decoupled->pump_started && decoupled->pump_exited) {
    pthread_mutex_unlock(&decoupled->lock);
    pthread_join(decoupled->pump, NULL);
    pthread_mutex_lock(&decoupled->lock);
    decoupled->pump_started = false;
  }
  if (decoupled->pump_started) {
    return NULL; /* the pump watches the stub's life */
  }
  TDN_RETURN_IF_ERROR(tdn_supervisor_ensure_running(supervisor));
  decoupled->pump_exited = false;
  decoupled->pump_resting = false;
  if (pthread_create(&decoupled->pump, NULL, pump_main, decoupled) != 0) {
    return tdn_error(
        TRITONSERVER_ERROR_INTERNAL, "instance '%s': cannot start the response thread",
        decoupled->instance->name);
  }
  /* Named for `top -H` and the tests that count its wake-ups. */
  pthread_setname_np(decoupled->pump, TDN_RESPONSE_THREAD_NAME);
  decoupled->pump_started = true;
  return NULL;
}

static void fail_batch_now(tdn_collected_batch* batch, TRITONSERVER_Error* error)
{
  for (uint32_t i = 0; i < batch->sendable_count; ++i) {
    tdn_respond_error(
        batch->sendable_requests[i],
        tdn_error(TRITONSERVER_ErrorCode(error), "%s", TRITONSERVER_ErrorMessage(error)));
  }
  TRITONSERVER_ErrorDelete(error);
}

void tdn_decoupled_execute(
    tdn_decoupled* decoupled, TRITONBACKEND_ModelInstance* handle, tdn_collected_batch* batch,
    uint64_t exec_start_ns)
{
  tdn_instance* instance = decoupled->instance;
  tdn_supervisor* supervisor = &instance->supervisor;
  decoupled->handle = handle;
  const uint32_t count = batch->sendable_count;
  tdn_flight* flight = calloc(1, sizeof(*flight));
  TRITONSERVER_Error* error = NULL;
  if (flight == NULL ||
      (flight->factories = calloc(count, sizeof(*flight->factories))) == NULL ||
      (flight->finished = calloc(count, sizeof(bool))) == NULL ||
      (flight->succeeded = calloc(count, sizeof(bool))) == NULL ||
      (flight->last_response_ns = calloc(count, sizeof(uint64_t))) == NULL ||
      (flight->cancelled_ns = calloc(count, sizeof(uint64_t))) == NULL ||
      (flight->closing = calloc(count, sizeof(bool))) == NULL) {
    error = tdn_error(TRITONSERVER_ERROR_INTERNAL, "instance '%s': out of memory", instance->name);
  }
  for (uint32_t i = 0; error == NULL && i < count; ++i) {
    error = TRITONBACKEND_ResponseFactoryNew(&flight->factories[i], batch->sendable_requests[i]);
    flight->succeeded[i] = true;
  }
  pthread_mutex_lock(&decoupled->lock);
  if (error == NULL) {
    error = ensure_pump(decoupled);
  }
  tdn_arena_grant block = {0};
  uint64_t length = 0;
  bool have_block = false;
  if (error == NULL) {
    error = tdn_supervisor_encode_batch(supervisor, batch->sendable, count, &block, &length);
    have_block = error == NULL;
  }
  tdn_diag why;
  if (error == NULL) {
    flight->batch_id = tdn_supervisor_next_batch_id(supervisor);
    flight->exec_start_ns = exec_start_ns;
    flight->compute_start_ns = tdn_now_ns();
    const uint64_t timeout_ms = supervisor->config.execute_timeout_ms;
    flight->deadline_ns =
        timeout_ms == 0 ? 0 : flight->compute_start_ns + timeout_ms * TDN_NS_PER_MS;
    flight->block_handle = block.handle;
    if (!tdn_supervisor_send(
            supervisor, TDN_MSG_EXECUTE, 0, flight->batch_id, block.offset, length, &why)) {
      error = tdn_error(
          TRITONSERVER_ERROR_UNAVAILABLE, "stub for instance '%s' cannot take the batch: %s",
          instance->name, why.text);
    }
  }
  if (error != NULL) {
    if (have_block) {
      tdn_supervisor_give_back(supervisor, block.handle);
    }
    pthread_mutex_unlock(&decoupled->lock);
    for (uint32_t i = 0; flight != NULL && flight->factories != NULL && i < count; ++i) {
      if (flight->factories[i] != NULL) {
        TRITONBACKEND_ResponseFactoryDelete(flight->factories[i]);
      }
    }
    if (flight != NULL) {
      flight_free(flight); /* the batch is not the flight's yet: its part is empty */
    }
    fail_batch_now(batch, error);
    for (uint32_t i = 0; i < count; ++i) {
      TDN_LOG_IF_ERROR(
          TRITONBACKEND_RequestRelease(batch->sendable_requests[i], TRITONSERVER_REQUEST_RELEASE_ALL),
          "cannot release a request");
    }
    tdn_collected_batch_free(batch);
    return;
  }
  /* The flight owns the batch from here on. */
  flight->batch = *batch;
  memset(batch, 0, sizeof(*batch));
  flight->open = count;
  flight->next = decoupled->flights;
  decoupled->flights = flight;
  decoupled->executing++;
  if (decoupled->pump_resting) {
    /* Its deadline and its requests' cancellations need watching now. */
    decoupled->pump_resting = false;
    tdn_supervisor_wake_waiter(supervisor);
  }
  const uint32_t cap = (uint32_t)instance->model->sandbox.max_batches_in_flight;
  while (decoupled->executing >= cap && !decoupled->pump_exited) {
    pthread_cond_wait(&decoupled->changed, &decoupled->lock);
  }
  pthread_mutex_unlock(&decoupled->lock);
}

void tdn_decoupled_stop_pump(tdn_decoupled* decoupled)
{
  pthread_mutex_lock(&decoupled->lock);
  decoupled->stopping = true;
  const bool started = decoupled->pump_started;
  if (started) {
    tdn_supervisor_wake_waiter(&decoupled->instance->supervisor);
  }
  pthread_mutex_unlock(&decoupled->lock);
  if (started) {
    pthread_join(decoupled->pump, NULL);
    decoupled->pump_started = false;
  }
}

void tdn_decoupled_fail_open(tdn_decoupled* decoupled, const char* why)
{
  pthread_mutex_lock(&decoupled->lock);
  fail_all(decoupled, why);
  pthread_mutex_unlock(&decoupled->lock);
}

void tdn_decoupled_destroy(tdn_decoupled* decoupled)
{
  pthread_mutex_destroy(&decoupled->lock);
  pthread_cond_destroy(&decoupled->changed);
}

bool tdn_decoupled_pump_running(tdn_decoupled* decoupled)
{
  pthread_mutex_lock(&decoupled->lock);
  const bool running = decoupled->pump_started && !decoupled->pump_exited;
  pthread_mutex_unlock(&decoupled->lock);
  return running;
}
