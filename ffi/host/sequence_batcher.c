/*
 * sequence_batcher.c: Triton's sequence batcher with the direct strategy,
 * for models with sequence_batching.
 *
 * Each instance has max(1, max_batch_size) sequence slots. The request
 * that starts a sequence (flag START) takes a free slot, on the instance
 * serving the fewest sequences; every later request of that correlation id
 * (numeric or string) goes to the same slot, so to the same instance, and
 * runs after the one before it. A batch holds at most one request per slot
 * of one instance. The slot is freed when the request with END is taken
 * into a batch, or when the sequence has had no request for
 * max_sequence_idle_microseconds (later requests without START are then
 * refused). With every slot taken, new sequences wait in a backlog.
 *
 * Each request gets the control inputs the configuration declares, as
 * Triton fills them: START and END from the request's flags, READY true,
 * CORRID the correlation id; shape [1], or [1, 1] for a batching model.
 *
 * Unlike Triton, batches are never padded with empty slots ("null
 * requests", READY false), and the direct strategy's max_queue_delay /
 * minimum_slot_utilization are not waited for: a batch leaves as soon as
 * its instance is free.
 */
#include <stdlib.h>
#include <string.h>

#include "host_api.h"
#include "host_core.h"

typedef struct host_sequence_slot {
  char* key;    /* the sequence it serves; NULL when free */
  bool ending;  /* its END is queued: no new request joins it */
  host_queued* head;
  host_queued* tail;
  uint64_t last_seen_ns;
} host_sequence_slot;

typedef struct host_sequence_backlog {
  struct host_sequence_backlog* next;
  char* key;
  bool ending;
  host_queued* head;
  host_queued* tail;
} host_sequence_backlog;

struct host_sequence_batcher {
  uint32_t instance_count;
  uint32_t slots_per_instance;
  host_sequence_slot* slots; /* instance-major */
  host_sequence_backlog* backlog;
  uint64_t idle_ns;
};

host_sequence_batcher* host_sequence_batcher_new(const host_model_config* config,
                                                 uint32_t instance_count) {
  host_sequence_batcher* batcher = host_alloc(sizeof *batcher);
  batcher->instance_count = instance_count;
  batcher->slots_per_instance = config->max_batch_size > 0 ? (uint32_t)config->max_batch_size : 1;
  batcher->slots = host_alloc(sizeof *batcher->slots *
                              ((size_t)instance_count * batcher->slots_per_instance + 1u));
  batcher->idle_ns = config->max_sequence_idle_us * 1000u;
  return batcher;
}

static void host_queue_append(host_queued** head, host_queued** tail, host_queued* item) {
  item->next = NULL;
  if (*tail == NULL) {
    *head = item;
  } else {
    (*tail)->next = item;
  }
  *tail = item;
}

host_queued* host_sequence_take_all(host_scheduler* scheduler) {
  host_sequence_batcher* batcher = scheduler->sequences;
  host_queued* all = NULL;
  host_queued* all_tail = NULL;
  uint32_t total = batcher->instance_count * batcher->slots_per_instance;
  for (uint32_t i = 0; i < total; i++) {
    host_sequence_slot* slot = &batcher->slots[i];
    while (slot->head != NULL) {
      host_queued* item = slot->head;
      slot->head = item->next;
      host_queue_append(&all, &all_tail, item);
    }
    slot->tail = NULL;
    free(slot->key);
    slot->key = NULL;
    slot->ending = false;
  }
  while (batcher->backlog != NULL) {
    host_sequence_backlog* waiting = batcher->backlog;
    batcher->backlog = waiting->next;
    while (waiting->head != NULL) {
      host_queued* item = waiting->head;
      waiting->head = item->next;
      host_queue_append(&all, &all_tail, item);
    }
    free(waiting->key);
    free(waiting);
  }
  return all;
}

void host_sequence_batcher_free(host_sequence_batcher* batcher) {
  uint32_t total = batcher->instance_count * batcher->slots_per_instance;
  for (uint32_t i = 0; i < total; i++) free(batcher->slots[i].key);
  free(batcher->slots);
  free(batcher);
}

/* ---- Sequences by correlation id. ---- */

static char* host_sequence_key(const TRITONSERVER_InferenceRequest* request) {
  host_text key = {0};
  if (request->correlation_id_is_string) {
    host_text_printf(&key, "s%s", request->correlation_id_string);
  } else {
    host_text_printf(&key, "n%llu", (unsigned long long)request->correlation_id);
  }
  return key.data;
}

/* The slot a running sequence is in (not one whose END is queued). */
static host_sequence_slot* host_slot_of(host_sequence_batcher* batcher, const char* key) {
  uint32_t total = batcher->instance_count * batcher->slots_per_instance;
  for (uint32_t i = 0; i < total; i++) {
    host_sequence_slot* slot = &batcher->slots[i];
    if (slot->key != NULL && !slot->ending && strcmp(slot->key, key) == 0) return slot;
  }
  return NULL;
}

static host_sequence_backlog* host_backlog_of(host_sequence_batcher* batcher, const char* key) {
  for (host_sequence_backlog* waiting = batcher->backlog; waiting != NULL;
       waiting = waiting->next) {
    if (!waiting->ending && strcmp(waiting->key, key) == 0) return waiting;
  }
  return NULL;
}

/* A free slot on the instance serving the fewest sequences. */
static host_sequence_slot* host_free_slot(host_sequence_batcher* batcher) {
  host_sequence_slot* best = NULL;
  uint32_t best_load = UINT32_MAX;
  for (uint32_t instance = 0; instance < batcher->instance_count; instance++) {
    host_sequence_slot* slots = &batcher->slots[instance * batcher->slots_per_instance];
    uint32_t load = 0;
    host_sequence_slot* free_slot = NULL;
    for (uint32_t s = 0; s < batcher->slots_per_instance; s++) {
      if (slots[s].key != NULL) {
        load++;
      } else if (free_slot == NULL) {
        free_slot = &slots[s];
      }
    }
    if (free_slot != NULL && load < best_load) {
      best = free_slot;
      best_load = load;
    }
  }
  return best;
}

/* Gives a freed slot to the first sequence of the backlog, if any. */
static void host_slot_release(host_sequence_batcher* batcher, host_sequence_slot* slot,
                              uint64_t now_ns) {
  free(slot->key);
  slot->key = NULL;
  slot->ending = false;
  host_sequence_backlog* waiting = batcher->backlog;
  if (waiting == NULL) return;
  batcher->backlog = waiting->next;
  slot->key = waiting->key;
  slot->ending = waiting->ending;
  slot->head = waiting->head;
  slot->tail = waiting->tail;
  slot->last_seen_ns = now_ns;
  free(waiting);
}

/* ---- Control inputs. ---- */

static TRITONSERVER_Error* host_add_control(TRITONBACKEND_Request* backend_request,
                                            const host_config_control* control, bool batching,
                                            const void* data, uint64_t byte_size) {
  static const int64_t shape[2] = {1, 1};
  char error_text[512] = "";
  if (host_request_add_input(backend_request, control->name, control->datatype, shape,
                             batching ? 2u : 1u, data, byte_size, 1, error_text,
                             sizeof error_text) != 0) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "control input '%s': %s", control->name,
                          error_text);
  }
  return NULL;
}

static TRITONSERVER_Error* host_add_controls(const host_model_config* config,
                                             const TRITONSERVER_InferenceRequest* request,
                                             TRITONBACKEND_Request* backend_request) {
  bool batching = config->max_batch_size > 0;
  for (uint32_t i = 0; i < config->control_count; i++) {
    const host_config_control* control = &config->controls[i];
    TRITONSERVER_Error* error = NULL;
    if (control->kind == HOST_CONTROL_CORRID) {
      if (control->datatype == TRITONSERVER_TYPE_BYTES) {
        host_text id = {0};
        if (request->correlation_id_is_string) {
          host_text_printf(&id, "%s", request->correlation_id_string);
        } else {
          host_text_printf(&id, "%llu", (unsigned long long)request->correlation_id);
        }
        uint32_t length = (uint32_t)id.length;
        uint8_t* element = host_alloc(4u + id.length);
        memcpy(element, &length, 4);
        memcpy(element + 4, id.data, id.length);
        error = host_add_control(backend_request, control, batching, element, 4u + id.length);
        free(element);
        host_text_free(&id);
      } else if (request->correlation_id_is_string) {
        error = host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                               "inference request to model '%s': sequence id '%s' is a string, "
                               "but the CORRID control input '%s' is %s",
                               request->model_name, request->correlation_id_string, control->name,
                               TRITONSERVER_DataTypeString(control->datatype));
      } else {
        /* The id's low bytes, as Triton copies it into the tensor. */
        uint64_t id = request->correlation_id;
        uint32_t size = host_datatype_size(control->datatype);
        error = host_add_control(backend_request, control, batching, &id, size);
      }
    } else {
      bool value = control->kind == HOST_CONTROL_READY ||
                   (control->kind == HOST_CONTROL_START &&
                    (request->flags & TRITONSERVER_REQUEST_FLAG_SEQUENCE_START) != 0) ||
                   (control->kind == HOST_CONTROL_END &&
                    (request->flags & TRITONSERVER_REQUEST_FLAG_SEQUENCE_END) != 0);
      error = host_add_control(backend_request, control, batching, control->values[value ? 1 : 0],
                               control->value_size);
    }
    if (error != NULL) return error;
  }
  return NULL;
}

/* ---- Scheduling. ---- */

TRITONSERVER_Error* host_sequence_prepare(host_scheduler* scheduler,
                                          const TRITONSERVER_InferenceRequest* request,
                                          TRITONBACKEND_Request* backend_request,
                                          host_queued* queued) {
  const host_model_config* config = scheduler->config;
  const char* model = request->model_name;
  if (config->max_batch_size > 0 && queued->batch_size != 1) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                          "inference request to model '%s' must specify batch-size 1 due to "
                          "requirements of sequence batcher",
                          model);
  }
  if (request->correlation_id_is_string ? request->correlation_id_string[0] == '\0'
                                        : request->correlation_id == 0) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                          "inference request to model '%s' must specify a non-zero or non-empty "
                          "correlation ID",
                          model);
  }
  char* key = host_sequence_key(request);
  bool starts = (request->flags & TRITONSERVER_REQUEST_FLAG_SEQUENCE_START) != 0;
  if (!starts && host_slot_of(scheduler->sequences, key) == NULL &&
      host_backlog_of(scheduler->sequences, key) == NULL) {
    TRITONSERVER_Error* error =
        host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                       "inference request for sequence %s to model '%s' must specify the START "
                       "flag on the first request of the sequence",
                       key + 1, model);
    free(key);
    return error;
  }
  TRITONSERVER_Error* error = host_add_controls(config, request, backend_request);
  if (error != NULL) {
    free(key);
    return error;
  }
  queued->sequence_key = key;
  queued->sequence_end = (request->flags & TRITONSERVER_REQUEST_FLAG_SEQUENCE_END) != 0;
  return NULL;
}

void host_sequence_enqueue(host_scheduler* scheduler, host_queued* queued) {
  host_sequence_batcher* batcher = scheduler->sequences;
  const char* key = queued->sequence_key;
  host_sequence_slot* slot = host_slot_of(batcher, key);
  if (slot == NULL) {
    host_sequence_backlog* waiting = host_backlog_of(batcher, key);
    if (waiting != NULL) {
      /* A START for a sequence that never ended continues it, as in Triton. */
      host_queue_append(&waiting->head, &waiting->tail, queued);
      waiting->ending = queued->sequence_end;
      return;
    }
    slot = host_free_slot(batcher);
    if (slot == NULL) {
      waiting = host_alloc(sizeof *waiting);
      waiting->key = host_strdup(key);
      host_queue_append(&waiting->head, &waiting->tail, queued);
      waiting->ending = queued->sequence_end;
      host_sequence_backlog** link = &batcher->backlog;
      while (*link != NULL) link = &(*link)->next;
      *link = waiting;
      return;
    }
    slot->key = host_strdup(key);
  }
  host_queue_append(&slot->head, &slot->tail, queued);
  slot->ending = queued->sequence_end;
  slot->last_seen_ns = queued->enqueued_ns;
}

host_queued* host_sequence_next(host_scheduler* scheduler, uint32_t instance, uint64_t now_ns,
                                uint64_t* wake_ns) {
  host_sequence_batcher* batcher = scheduler->sequences;
  host_sequence_slot* slots = &batcher->slots[instance * batcher->slots_per_instance];
  *wake_ns = 0;
  host_queued* batch = NULL;
  host_queued* batch_tail = NULL;
  for (uint32_t s = 0; s < batcher->slots_per_instance; s++) {
    host_sequence_slot* slot = &slots[s];
    if (slot->key == NULL) continue;
    if (slot->head == NULL) {
      /* An idle sequence gives its slot up. */
      uint64_t expires = slot->last_seen_ns + batcher->idle_ns;
      if (now_ns >= expires) {
        host_slot_release(batcher, slot, now_ns);
        if (slot->head == NULL) continue;
      } else {
        if (*wake_ns == 0 || expires < *wake_ns) *wake_ns = expires;
        continue;
      }
    }
    host_queued* item = slot->head;
    slot->head = item->next;
    if (slot->head == NULL) slot->tail = NULL;
    slot->last_seen_ns = now_ns;
    host_queue_append(&batch, &batch_tail, item);
    if (item->sequence_end && slot->head == NULL && slot->ending) {
      host_slot_release(batcher, slot, now_ns);
    }
  }
  if (batch == NULL) return NULL;
  return batch;
}
