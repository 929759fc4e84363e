/*
 * scheduler.c: the stand-in server's scheduler in front of a served
 * model, threaded as Triton's: TRITONSERVER_ServerInferAsync checks the
 * request and queues it, then returns; one thread per model instance
 * takes batches from the queue (batcher.c: one request at a time, or
 * dynamic batching; sequence_batcher.c: sequence slots) and calls
 * TRITONBACKEND_ModelInstanceExecute with them. Responses reach the caller
 * on whichever thread the backend sends them from (infer_call.c), and the
 * caller waits on its own thread.
 *
 * Unloading: the registry first lets the queued and running requests
 * finish (they hold the model), then the threads leave. If the registry
 * gives up waiting, it answers the requests not yet run and the scheduler
 * drops them (host_scheduler_abort).
 */
#include <stdlib.h>
#include <string.h>

#include "host_core.h"

typedef struct host_scheduler_thread_start {
  host_scheduler* scheduler;
  uint32_t instance;
} host_scheduler_thread_start;

void host_scheduler_discard(host_queued* queued) {
  if (queued == NULL) return;
  free(queued->sequence_key);
  free(queued);
}

/* Runs one batch on an instance, then hands every call's outcome over. */
static void host_scheduler_run(host_scheduler* scheduler, uint32_t index, host_queued* batch) {
  TRITONBACKEND_ModelInstance* instance = scheduler->model->instances[index];
  uint32_t count = 0;
  for (host_queued* item = batch; item != NULL; item = item->next) count++;
  host_model_stats_pending(scheduler->stats, -(int64_t)count);
  host_model_entry* entry = batch->call->entry;
  if (!host_registry_begin_run(entry)) {
    /* The unload gave up on waiting: answered, never run. */
    for (host_queued* item = batch; item != NULL; item = item->next) {
      host_infer_call_abandon(item->call);
    }
  } else {
    TRITONBACKEND_Request** requests = host_alloc(sizeof *requests * count);
    uint32_t runnable = 0;
    for (host_queued* item = batch; item != NULL; item = item->next) {
      if (host_infer_call_claim(item->call)) requests[runnable++] = item->call->backend_request;
    }
    if (runnable > 0) {
      char error_text[1024];
      pthread_mutex_lock(&instance->execute_lock);
      /* An error return was answered and released by the host already. */
      (void)host_execute_locked(instance, requests, runnable, error_text, sizeof error_text);
      pthread_mutex_unlock(&instance->execute_lock);
    }
    free(requests);
    host_registry_end_run(entry);
  }
  while (batch != NULL) {
    host_queued* next = batch->next;
    host_infer_call_worker_finish(batch->call);
    host_scheduler_discard(batch);
    batch = next;
  }
}

/* Every queued request, taken off the queue (with the lock held). */
static host_queued* host_scheduler_take_all(host_scheduler* scheduler) {
  host_queued* all = scheduler->head;
  scheduler->head = scheduler->tail = NULL;
  scheduler->queued = 0;
  if (scheduler->sequences != NULL) {
    host_queued* sequenced = host_sequence_take_all(scheduler);
    if (all == NULL) {
      all = sequenced;
    } else {
      host_queued* last = all;
      while (last->next != NULL) last = last->next;
      last->next = sequenced;
    }
  }
  return all;
}

static host_queued* host_scheduler_next(host_scheduler* scheduler, uint32_t instance,
                                        uint64_t* wake_ns) {
  uint64_t now = host_now_ns();
  if (scheduler->sequences != NULL) {
    return host_sequence_next(scheduler, instance, now, wake_ns);
  }
  return host_batcher_next(scheduler, instance, now, wake_ns);
}

static void host_scheduler_wait(host_scheduler* scheduler, uint64_t wake_ns) {
  if (wake_ns == 0) {
    pthread_cond_wait(&scheduler->changed, &scheduler->lock);
    return;
  }
  /* The monotonic deadline as a realtime one for the condition variable. */
  uint64_t now = host_now_ns();
  uint64_t wait_ns = wake_ns > now ? wake_ns - now : 0;
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  uint64_t nanoseconds = (uint64_t)deadline.tv_nsec + wait_ns;
  deadline.tv_sec += (time_t)(nanoseconds / 1000000000u);
  deadline.tv_nsec = (long)(nanoseconds % 1000000000u);
  pthread_cond_timedwait(&scheduler->changed, &scheduler->lock, &deadline);
}

static void* host_scheduler_thread(void* argument) {
  host_scheduler_thread_start start = *(host_scheduler_thread_start*)argument;
  free(argument);
  host_scheduler* scheduler = start.scheduler;
  pthread_mutex_lock(&scheduler->lock);
  for (;;) {
    if (scheduler->aborting) {
      host_queued* dropped = host_scheduler_take_all(scheduler);
      if (dropped != NULL) {
        pthread_mutex_unlock(&scheduler->lock);
        uint32_t count = 0;
        while (dropped != NULL) {
          host_queued* next = dropped->next;
          host_infer_call_abandon(dropped->call);
          host_infer_call_worker_finish(dropped->call);
          host_scheduler_discard(dropped);
          dropped = next;
          count++;
        }
        host_model_stats_pending(scheduler->stats, -(int64_t)count);
        pthread_mutex_lock(&scheduler->lock);
        continue;
      }
    }
    uint64_t wake_ns = 0;
    host_queued* batch = scheduler->aborting ? NULL
                                             : host_scheduler_next(scheduler, start.instance,
                                                                   &wake_ns);
    if (batch != NULL) {
      pthread_mutex_unlock(&scheduler->lock);
      host_scheduler_run(scheduler, start.instance, batch);
      pthread_mutex_lock(&scheduler->lock);
      /* Another instance may now take what this one left. */
      pthread_cond_broadcast(&scheduler->changed);
      continue;
    }
    if (scheduler->stopping) break;
    host_scheduler_wait(scheduler, wake_ns);
  }
  pthread_mutex_unlock(&scheduler->lock);
  return NULL;
}

host_scheduler* host_scheduler_start(TRITONBACKEND_Model* model, const host_model_config* config,
                                     host_model_stats* stats) {
  host_scheduler* scheduler = host_alloc(sizeof *scheduler);
  pthread_mutex_init(&scheduler->lock, NULL);
  pthread_cond_init(&scheduler->changed, NULL);
  scheduler->model = model;
  scheduler->config = config;
  scheduler->stats = stats;
  if (config->schedule == HOST_SCHEDULE_SEQUENCE) {
    scheduler->sequences = host_sequence_batcher_new(config, model->instance_count);
  }
  scheduler->threads = host_alloc(sizeof *scheduler->threads * (model->instance_count + 1u));
  for (uint32_t i = 0; i < model->instance_count; i++) {
    host_scheduler_thread_start* start = host_alloc(sizeof *start);
    start->scheduler = scheduler;
    start->instance = i;
    if (pthread_create(&scheduler->threads[scheduler->thread_count], NULL, host_scheduler_thread,
                       start) != 0) {
      free(start);
      host_log_append("E", "host", 0, "cannot start a scheduler thread");
      continue;
    }
    scheduler->thread_count++;
  }
  return scheduler;
}

TRITONSERVER_Error* host_scheduler_prepare(host_scheduler* scheduler,
                                           const TRITONSERVER_InferenceRequest* request,
                                           TRITONBACKEND_Request* backend_request,
                                           host_queued** queued) {
  *queued = NULL;
  uint64_t batch_size = 1;
  TRITONSERVER_Error* error = host_infer_check_config(request, scheduler->config, &batch_size);
  if (error != NULL) return error;
  host_queued* prepared = host_alloc(sizeof *prepared);
  prepared->batch_size = batch_size;
  if (scheduler->sequences != NULL) {
    pthread_mutex_lock(&scheduler->lock);
    error = host_sequence_prepare(scheduler, request, backend_request, prepared);
    pthread_mutex_unlock(&scheduler->lock);
    if (error != NULL) {
      host_scheduler_discard(prepared);
      return error;
    }
  }
  *queued = prepared;
  return NULL;
}

void host_scheduler_enqueue(host_scheduler* scheduler, host_queued* queued) {
  queued->enqueued_ns = host_now_ns();
  queued->next = NULL;
  host_model_stats_pending(scheduler->stats, 1);
  pthread_mutex_lock(&scheduler->lock);
  if (scheduler->sequences != NULL) {
    host_sequence_enqueue(scheduler, queued);
  } else {
    if (scheduler->tail == NULL) {
      scheduler->head = queued;
    } else {
      scheduler->tail->next = queued;
    }
    scheduler->tail = queued;
    scheduler->queued++;
  }
  pthread_cond_broadcast(&scheduler->changed);
  pthread_mutex_unlock(&scheduler->lock);
}

void host_scheduler_abort(host_scheduler* scheduler) {
  if (scheduler == NULL) return;
  pthread_mutex_lock(&scheduler->lock);
  scheduler->aborting = true;
  pthread_cond_broadcast(&scheduler->changed);
  pthread_mutex_unlock(&scheduler->lock);
}

void host_scheduler_stop(host_scheduler* scheduler) {
  if (scheduler == NULL) return;
  pthread_mutex_lock(&scheduler->lock);
  scheduler->stopping = true;
  /* Nothing should be left (the registry waited for every call), but a
   * request queued anyway is answered rather than lost. */
  scheduler->aborting = true;
  pthread_cond_broadcast(&scheduler->changed);
  pthread_mutex_unlock(&scheduler->lock);
  for (uint32_t i = 0; i < scheduler->thread_count; i++) {
    pthread_join(scheduler->threads[i], NULL);
  }
  host_queued* left = host_scheduler_take_all(scheduler);
  while (left != NULL) {
    host_queued* next = left->next;
    host_infer_call_abandon(left->call);
    host_infer_call_worker_finish(left->call);
    host_scheduler_discard(left);
    left = next;
  }
  if (scheduler->sequences != NULL) host_sequence_batcher_free(scheduler->sequences);
  pthread_cond_destroy(&scheduler->changed);
  pthread_mutex_destroy(&scheduler->lock);
  free(scheduler->threads);
  free(scheduler);
}
