/*
 * model_registry.c: the models the host has loaded, by name and version,
 * for in-process inference, readiness and model control.
 *
 * Every host_model_load registers its model; a name can have several
 * versions (and, briefly during a reload, several copies of one version:
 * the newest wins). Each in-process call pins the entry it runs on, so an
 * unload first makes the model unreachable, then lets the calls under way
 * finish (as Triton keeps a model alive while requests hold it), and only
 * then finalizes. If they do not finish in time the unload gives up on
 * them: calls not yet run are answered with an error, calls that ran are
 * counted as abandoned.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "host_api.h"
#include "host_core.h"

/* How long an unload waits for in-process calls before giving up on them. */
#define HOST_UNLOAD_DRAIN_MS 5000u
/* Finished requests kept per model to catch a backend using one late. */
#define HOST_RETIRED_PER_MODEL 128u
/* A waiter re-checks this often even without a wake-up. */
#define HOST_IDLE_POLL_MS 20u

static pthread_mutex_t host_registry_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t host_registry_changed = PTHREAD_COND_INITIALIZER;
static host_model_entry* host_registry_entries; /* oldest first */

void host_registry_add(TRITONBACKEND_Model* model) {
  host_model_entry* entry = host_alloc(sizeof *entry);
  entry->model = model;
  entry->name = host_strdup(model->name);
  entry->version = model->version;
  entry->ready = true;
  pthread_mutex_lock(&host_registry_lock);
  host_model_entry** tail = &host_registry_entries;
  while (*tail != NULL) tail = &(*tail)->next;
  *tail = entry;
  pthread_mutex_unlock(&host_registry_lock);
}

/* Called with the lock held. */
static host_model_entry* host_registry_entry_of(TRITONBACKEND_Model* model) {
  for (host_model_entry* entry = host_registry_entries; entry != NULL; entry = entry->next) {
    if (entry->model == model) return entry;
  }
  return NULL;
}

/* The entry a request for (name, version) runs on: the highest ready
 * version for -1, the newest copy on a tie. Called with the lock held. */
static host_model_entry* host_registry_find(const char* name, int64_t version) {
  host_model_entry* best = NULL;
  for (host_model_entry* entry = host_registry_entries; entry != NULL; entry = entry->next) {
    if (!entry->ready || strcmp(entry->name, name) != 0) continue;
    if (version < 0 ? (best == NULL || entry->version >= best->version)
                    : entry->version == (uint64_t)version) {
      best = entry;
    }
  }
  return best;
}

/* Triton's answers (ModelLifeCycle::GetModel, prefixed by the repository
 * manager) when no ready model matches. Called with the lock held. */
static TRITONSERVER_Error* host_registry_miss(const char* name, int64_t version) {
  bool known = false;
  bool version_known = false;
  for (host_model_entry* entry = host_registry_entries; entry != NULL; entry = entry->next) {
    if (strcmp(entry->name, name) != 0) continue;
    known = true;
    if (version >= 0 && entry->version == (uint64_t)version) version_known = true;
  }
  /* A model of the server's repository that is not loaded (or failed to)
   * is known too. */
  if (!known) known = host_server_knows(name);
  if (!known) {
    return host_error_new(TRITONSERVER_ERROR_NOT_FOUND,
                          "Request for unknown model: '%s' is not found", name);
  }
  if (version < 0) {
    return host_error_new(TRITONSERVER_ERROR_NOT_FOUND,
                          "Request for unknown model: '%s' has no available versions", name);
  }
  if (version_known) {
    return host_error_new(TRITONSERVER_ERROR_UNAVAILABLE,
                          "Request for unknown model: '%s' version %lld is not at ready state",
                          name, (long long)version);
  }
  return host_error_new(TRITONSERVER_ERROR_NOT_FOUND,
                        "Request for unknown model: '%s' version %lld is not found", name,
                        (long long)version);
}

TRITONSERVER_Error* host_registry_pin(const char* name, int64_t version, host_infer_call* call) {
  pthread_mutex_lock(&host_registry_lock);
  host_model_entry* entry = host_registry_find(name, version);
  if (entry == NULL) {
    TRITONSERVER_Error* error = host_registry_miss(name, version);
    pthread_mutex_unlock(&host_registry_lock);
    return error;
  }
  if (call != NULL) {
    entry->pins++;
    entry->workers++;
    call->entry = entry;
    call->model = entry->model;
    call->model_version = (int64_t)entry->version;
    call->next_in_entry = entry->calls;
    entry->calls = call;
  }
  pthread_mutex_unlock(&host_registry_lock);
  return NULL;
}

void host_registry_unpin(host_infer_call* call, TRITONBACKEND_Request* finished) {
  TRITONBACKEND_Request* evicted = NULL;
  pthread_mutex_lock(&host_registry_lock);
  host_model_entry* entry = call->entry;
  host_infer_call** link = &entry->calls;
  while (*link != NULL && *link != call) link = &(*link)->next_in_entry;
  if (*link != NULL) *link = call->next_in_entry;
  entry->pins--;
  if (finished != NULL) {
    if (entry->retired == NULL) {
      entry->retired = host_alloc(sizeof *entry->retired * HOST_RETIRED_PER_MODEL);
    }
    if (entry->retired_count == HOST_RETIRED_PER_MODEL) {
      evicted = entry->retired[0];
      memmove(&entry->retired[0], &entry->retired[1],
              sizeof *entry->retired * (HOST_RETIRED_PER_MODEL - 1));
      entry->retired_count--;
    }
    entry->retired[entry->retired_count++] = finished;
  }
  pthread_cond_broadcast(&host_registry_changed);
  pthread_mutex_unlock(&host_registry_lock);
  host_request_free(evicted);
}

TRITONBACKEND_Model* host_registry_hold(const char* name, int64_t version) {
  if (name == NULL) return NULL;
  pthread_mutex_lock(&host_registry_lock);
  host_model_entry* entry = host_registry_find(name, version);
  /* Held like a call: an unload waits for it. */
  if (entry != NULL) entry->pins++;
  pthread_mutex_unlock(&host_registry_lock);
  return entry == NULL ? NULL : entry->model;
}

void host_registry_unhold(TRITONBACKEND_Model* model) {
  pthread_mutex_lock(&host_registry_lock);
  host_model_entry* entry = host_registry_entry_of(model);
  if (entry != NULL) entry->pins--;
  pthread_cond_broadcast(&host_registry_changed);
  pthread_mutex_unlock(&host_registry_lock);
}

bool host_registry_is_ready(const char* name, int64_t version) {
  if (name == NULL) return false;
  pthread_mutex_lock(&host_registry_lock);
  bool ready = host_registry_find(name, version) != NULL;
  pthread_mutex_unlock(&host_registry_lock);
  return ready;
}

TRITONBACKEND_ModelInstance* host_registry_claim_instance(host_infer_call* call) {
  pthread_mutex_lock(&host_registry_lock);
  host_model_entry* entry = call->entry;
  for (;;) {
    if (entry->abort_calls) break;
    TRITONBACKEND_Model* model = entry->model;
    for (uint32_t i = 0; i < model->instance_count; i++) {
      TRITONBACKEND_ModelInstance* instance = model->instances[i];
      /* The lowest-numbered idle instance, as the bench picks one. */
      if (pthread_mutex_trylock(&instance->execute_lock) == 0) {
        entry->running++;
        pthread_mutex_unlock(&host_registry_lock);
        return instance;
      }
    }
    struct timespec deadline = host_deadline_in(HOST_IDLE_POLL_MS);
    pthread_cond_timedwait(&host_registry_changed, &host_registry_lock, &deadline);
  }
  pthread_mutex_unlock(&host_registry_lock);
  return NULL;
}

void host_registry_release_instance(host_infer_call* call, TRITONBACKEND_ModelInstance* instance) {
  pthread_mutex_unlock(&instance->execute_lock);
  pthread_mutex_lock(&host_registry_lock);
  call->entry->running--;
  pthread_cond_broadcast(&host_registry_changed);
  pthread_mutex_unlock(&host_registry_lock);
}

bool host_registry_begin_run(host_model_entry* entry) {
  pthread_mutex_lock(&host_registry_lock);
  bool run = !entry->abort_calls;
  if (run) entry->running++;
  pthread_mutex_unlock(&host_registry_lock);
  return run;
}

void host_registry_end_run(host_model_entry* entry) {
  pthread_mutex_lock(&host_registry_lock);
  entry->running--;
  pthread_cond_broadcast(&host_registry_changed);
  pthread_mutex_unlock(&host_registry_lock);
}

void host_registry_worker_done(host_infer_call* call) {
  pthread_mutex_lock(&host_registry_lock);
  call->entry->workers--;
  pthread_cond_broadcast(&host_registry_changed);
  pthread_mutex_unlock(&host_registry_lock);
}

void host_registry_instance_idle(void) {
  pthread_mutex_lock(&host_registry_lock);
  pthread_cond_broadcast(&host_registry_changed);
  pthread_mutex_unlock(&host_registry_lock);
}

/* Waits (with the lock held) until the entry's counter reaches zero or the
 * deadline passes; returns whether it did. */
static bool host_registry_wait_zero(const uint32_t* counter, const struct timespec* deadline) {
  while (*counter > 0) {
    if (deadline == NULL) {
      pthread_cond_wait(&host_registry_changed, &host_registry_lock);
    } else if (pthread_cond_timedwait(&host_registry_changed, &host_registry_lock, deadline) ==
               ETIMEDOUT) {
      return *counter == 0;
    }
  }
  return true;
}

void host_registry_forget(TRITONBACKEND_Model* model) {
  pthread_mutex_lock(&host_registry_lock);
  host_model_entry* entry = host_registry_entry_of(model);
  if (entry == NULL) {
    pthread_mutex_unlock(&host_registry_lock);
    return;
  }
  entry->ready = false;
  struct timespec deadline = host_deadline_in(HOST_UNLOAD_DRAIN_MS);
  if (!host_registry_wait_zero(&entry->pins, &deadline)) {
    /* Calls not yet running stop waiting for an instance; the executes
     * already running return on their own. */
    entry->abort_calls = true;
    pthread_cond_broadcast(&host_registry_changed);
    host_registry_wait_zero(&entry->running, NULL);
    uint32_t count = 0;
    host_infer_call** stuck = host_alloc(sizeof *stuck * (entry->pins + 1u));
    for (host_infer_call* call = entry->calls; call != NULL; call = call->next_in_entry) {
      atomic_fetch_add(&call->refs, 1);
      stuck[count++] = call;
    }
    pthread_mutex_unlock(&host_registry_lock);
    for (uint32_t i = 0; i < count; i++) {
      host_infer_call_abandon(stuck[i]);
      host_infer_call_unref(stuck[i]);
    }
    free(stuck);
    /* A served model's scheduler drops what it still queues (answered). */
    if (model->runtime != NULL) host_scheduler_abort(model->runtime->scheduler);
    pthread_mutex_lock(&host_registry_lock);
  }
  /* Threads of answered calls may still be on their way out. */
  host_registry_wait_zero(&entry->pins, NULL);
  host_registry_wait_zero(&entry->running, NULL);
  host_registry_wait_zero(&entry->workers, NULL);
  host_model_entry** link = &host_registry_entries;
  while (*link != entry) link = &(*link)->next;
  *link = entry->next;
  pthread_cond_broadcast(&host_registry_changed);
  pthread_mutex_unlock(&host_registry_lock);
  for (uint32_t i = 0; i < entry->retired_count; i++) host_request_free(entry->retired[i]);
  free(entry->retired);
  free(entry->name);
  free(entry);
}

uint32_t host_registry_retire_name(const char* name, TRITONBACKEND_Model* keep,
                                   TRITONBACKEND_Model*** owned) {
  uint32_t count = 0;
  *owned = NULL;
  pthread_mutex_lock(&host_registry_lock);
  for (host_model_entry* entry = host_registry_entries; entry != NULL; entry = entry->next) {
    if (entry->model == keep || strcmp(entry->name, name) != 0) continue;
    entry->ready = false;
    if (entry->server_owned && !entry->unloading) {
      entry->unloading = true;
      *owned = host_grow(*owned, sizeof **owned * (count + 1u));
      (*owned)[count++] = entry->model;
    }
  }
  pthread_mutex_unlock(&host_registry_lock);
  return count;
}

void host_registry_retire_model(TRITONBACKEND_Model* model) {
  pthread_mutex_lock(&host_registry_lock);
  host_model_entry* entry = host_registry_entry_of(model);
  if (entry != NULL) entry->ready = false;
  pthread_mutex_unlock(&host_registry_lock);
}

void host_registry_set_server_owned(TRITONBACKEND_Model* model) {
  pthread_mutex_lock(&host_registry_lock);
  host_model_entry* entry = host_registry_entry_of(model);
  if (entry != NULL) entry->server_owned = true;
  pthread_mutex_unlock(&host_registry_lock);
}

uint32_t host_registry_owned_by(TRITONBACKEND_Backend* backend, TRITONBACKEND_Model*** owned) {
  uint32_t count = 0;
  *owned = NULL;
  pthread_mutex_lock(&host_registry_lock);
  for (host_model_entry* entry = host_registry_entries; entry != NULL; entry = entry->next) {
    if (entry->model->backend != backend || !entry->server_owned || entry->unloading) continue;
    entry->ready = false;
    entry->unloading = true;
    *owned = host_grow(*owned, sizeof **owned * (count + 1u));
    (*owned)[count++] = entry->model;
  }
  pthread_mutex_unlock(&host_registry_lock);
  return count;
}

bool host_registry_idle(void) {
  pthread_mutex_lock(&host_registry_lock);
  bool idle = true;
  for (host_model_entry* entry = host_registry_entries; entry != NULL && idle;
       entry = entry->next) {
    idle = entry->pins == 0;
  }
  pthread_mutex_unlock(&host_registry_lock);
  return idle;
}

uint64_t host_registry_json(char* out, uint64_t cap) {
  host_text text = {0};
  host_text_append(&text, "[", 1);
  pthread_mutex_lock(&host_registry_lock);
  for (host_model_entry* entry = host_registry_entries; entry != NULL; entry = entry->next) {
    if (entry != host_registry_entries) host_text_append(&text, ",", 1);
    host_text_append(&text, "{\"name\":", 8);
    host_text_json_string(&text, entry->name);
    host_text_printf(&text, ",\"version\":%llu,\"ready\":%s,\"server_owned\":%s,\"in_flight\":%u}",
                     (unsigned long long)entry->version, entry->ready ? "true" : "false",
                     entry->server_owned ? "true" : "false", entry->pins);
  }
  pthread_mutex_unlock(&host_registry_lock);
  host_text_append(&text, "]", 1);
  uint64_t length = host_text_export(&text, out, cap);
  host_text_free(&text);
  return length;
}
