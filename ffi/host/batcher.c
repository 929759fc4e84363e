/*
 * batcher.c: how the stand-in server forms a batch for a model without
 * sequence batching, as Triton's schedulers do:
 *
 *   - without dynamic_batching, each request runs alone, on the first idle
 *     instance;
 *   - with dynamic_batching, the oldest requests are batched together while
 *     their batch sizes (first dimensions) add up to no more than the
 *     largest preferred_batch_size (max_batch_size if none) and their
 *     inputs match but for the batch dimension. A batch that is not full
 *     waits for more requests until its oldest has been queued for
 *     max_queue_delay_microseconds (0: it leaves at once).
 */
#include <string.h>

#include "host_core.h"

/* Whether two requests can share a batch: the same inputs, datatypes and
 * shapes but for the first dimension. */
static bool host_batchable(const TRITONBACKEND_Request* first, const TRITONBACKEND_Request* other) {
  if (first->input_count != other->input_count) return false;
  for (uint32_t i = 0; i < first->input_count; i++) {
    const TRITONBACKEND_Input* a = first->inputs[i];
    const TRITONBACKEND_Input* b = other->inputs[i];
    if (strcmp(a->name, b->name) != 0 || a->datatype != b->datatype || a->rank != b->rank) {
      return false;
    }
    for (uint32_t d = 1; d < a->rank; d++) {
      if (a->shape[d] != b->shape[d]) return false;
    }
  }
  return true;
}

/* The batch size a dynamic batch aims at. */
static uint64_t host_batch_target(const host_model_config* config) {
  uint64_t limit = (uint64_t)config->max_batch_size;
  uint64_t target = 0;
  for (uint32_t i = 0; i < config->preferred_count; i++) {
    uint64_t size = (uint64_t)config->preferred_batch_sizes[i];
    if (size <= limit && size > target) target = size;
  }
  return target == 0 ? limit : target;
}

host_queued* host_batcher_next(host_scheduler* scheduler, uint32_t instance, uint64_t now_ns,
                               uint64_t* wake_ns) {
  (void)instance; /* every instance serves the one queue */
  *wake_ns = 0;
  host_queued* head = scheduler->head;
  if (head == NULL) return NULL;
  const host_model_config* config = scheduler->config;
  uint32_t count = 1;
  if (config->schedule == HOST_SCHEDULE_DYNAMIC) {
    uint64_t target = host_batch_target(config);
    uint64_t total = head->batch_size;
    bool full = total >= target;
    for (host_queued* item = head->next; item != NULL && !full; item = item->next) {
      if (total + item->batch_size > target ||
          !host_batchable(head->call->backend_request, item->call->backend_request)) {
        full = true; /* what is left waits for the next batch */
        break;
      }
      total += item->batch_size;
      count++;
      full = total >= target;
    }
    uint64_t deadline = head->enqueued_ns + config->max_queue_delay_us * 1000u;
    if (!full && config->max_queue_delay_us > 0 && now_ns < deadline) {
      *wake_ns = deadline;
      return NULL;
    }
  }
  /* Take `count` requests off the queue. */
  host_queued* last = head;
  for (uint32_t i = 1; i < count; i++) last = last->next;
  scheduler->head = last->next;
  if (scheduler->head == NULL) scheduler->tail = NULL;
  last->next = NULL;
  scheduler->queued -= count;
  return head;
}
