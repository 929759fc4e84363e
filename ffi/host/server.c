/*
 * server.c: TRITONSERVER_ServerNew, Stop, Delete, IsLive and IsReady, and
 * the server's model repository at work: the stand-in server loads the
 * backends its models name and the models its control mode asks for, and
 * keeps each model version's state (LOADING, READY, UNLOADING,
 * UNAVAILABLE with a reason) for the JSON views (server_views.c).
 *
 * As in Triton:
 *   - a backend is <backend_dir>/<name>/libtriton_<name>.so, loaded once
 *     with the "cmdline" config of its --backend-config settings and
 *     Triton's backend-directory, min-compute-capability and
 *     default-max-batch-size;
 *   - modes NONE and POLL load every model of the repository, EXPLICIT the
 *     startup models; a model that fails to load is UNAVAILABLE with its
 *     reason, and ServerNew then fails ("failed to load all models" in NONE
 *     and POLL, the model's load error in EXPLICIT) unless exit_on_error
 *     is off (TRITONSERVER_ServerOptionsSetExitOnError; Triton's default is
 *     on), when the server starts without the model;
 *   - a model's versions are its numeric directories, chosen by the
 *     version policy; a reload loads the new copies before the old go;
 *   - an unload only starts: the model goes once its requests finished;
 *   - ServerStop unloads everything and waits up to the exit timeout.
 *
 * The stand-in differs where it must: one server per process (the backend
 * finds it through TRITONBACKEND_ModelServer's single handle); POLL does
 * not poll the repository after the start; the configurations come from
 * host_repository_set_config (repository.c), not from config.pbtxt.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "host_api.h"
#include "host_core.h"

/* Models ServerNew loads at once, as Triton's model_load_thread_count. */
#define HOST_LOAD_THREADS 4u

typedef struct host_core_backend {
  struct host_core_backend* next;
  char* name;
  TRITONBACKEND_Backend* backend;
} host_core_backend;

/* The table and the server's state (host_core_lock, a leaf lock). */
static pthread_mutex_t host_core_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t host_core_changed = PTHREAD_COND_INITIALIZER;
static bool host_core_exists;
static bool host_core_stopping;
static bool host_core_stopped;
static TRITONSERVER_ServerOptions* host_core_options;
static host_served_model* host_core_table;
static uint32_t host_core_unloads; /* background unloads running */
/* Models being loaded or unloaded by name, so one name is changed by one
 * thread at a time. */
typedef struct host_core_busy {
  struct host_core_busy* next;
  char* name;
} host_core_busy;
static host_core_busy* host_core_busy_names;

/* Backends: loading one runs the backend's Initialize, so it has its own
 * lock, never held with the table's. */
static pthread_mutex_t host_core_backend_lock = PTHREAD_MUTEX_INITIALIZER;
static host_core_backend* host_core_backends;

/* ---- The table. ---- */

const char* host_version_state_name(host_version_state state) {
  switch (state) {
    case HOST_VERSION_LOADING: return "LOADING";
    case HOST_VERSION_READY: return "READY";
    case HOST_VERSION_UNLOADING: return "UNLOADING";
    case HOST_VERSION_UNAVAILABLE: break;
  }
  return "UNAVAILABLE";
}

host_served_model* host_server_table_lock(void) {
  pthread_mutex_lock(&host_core_lock);
  return host_core_table;
}

void host_server_table_unlock(void) { pthread_mutex_unlock(&host_core_lock); }

/* With the lock held. */
static host_served_model* host_table_find(const char* name) {
  for (host_served_model* model = host_core_table; model != NULL; model = model->next) {
    if (strcmp(model->name, name) == 0) return model;
  }
  return NULL;
}

/* With the lock held: the model's record, created (in name order). */
static host_served_model* host_table_record(const char* name) {
  host_served_model** link = &host_core_table;
  while (*link != NULL && strcmp((*link)->name, name) < 0) link = &(*link)->next;
  if (*link != NULL && strcmp((*link)->name, name) == 0) return *link;
  host_served_model* model = host_alloc(sizeof *model);
  model->name = host_strdup(name);
  model->next = *link;
  *link = model;
  return model;
}

/* With the lock held: the version's entry, created (ascending). */
static host_served_version* host_table_version(host_served_model* model, uint64_t version) {
  uint32_t at = 0;
  while (at < model->version_count && model->versions[at].version < version) at++;
  if (at < model->version_count && model->versions[at].version == version) {
    return &model->versions[at];
  }
  model->versions =
      host_grow(model->versions, sizeof *model->versions * (model->version_count + 1u));
  memmove(&model->versions[at + 1], &model->versions[at],
          sizeof *model->versions * (model->version_count - at));
  memset(&model->versions[at], 0, sizeof model->versions[at]);
  model->versions[at].version = version;
  model->versions[at].state = HOST_VERSION_UNAVAILABLE;
  model->version_count++;
  return &model->versions[at];
}

static void host_version_set(host_served_version* entry, host_version_state state,
                             const char* reason, TRITONBACKEND_Model* model) {
  free(entry->reason);
  entry->reason = reason == NULL ? NULL : host_strdup(reason);
  entry->state = state;
  entry->model = model;
}

static void host_table_free(void) {
  while (host_core_table != NULL) {
    host_served_model* model = host_core_table;
    host_core_table = model->next;
    for (uint32_t i = 0; i < model->version_count; i++) free(model->versions[i].reason);
    free(model->versions);
    free(model->reason);
    free(model->loaded_config);
    host_load_files_remove(model->files_root);
    free(model->files_root);
    free(model->name);
    free(model);
  }
}

host_served_version* host_server_find_ready(host_served_model* table, const char* name,
                                            int64_t version, TRITONSERVER_Error** error) {
  *error = NULL;
  host_served_model* model = table;
  while (model != NULL && strcmp(model->name, name) != 0) model = model->next;
  if (model == NULL) {
    *error = host_error_new(TRITONSERVER_ERROR_NOT_FOUND,
                            "Request for unknown model: '%s' is not found", name);
    return NULL;
  }
  host_served_version* best = NULL;
  bool version_known = false;
  for (uint32_t i = 0; i < model->version_count; i++) {
    host_served_version* entry = &model->versions[i];
    if (version >= 0 && entry->version == (uint64_t)version) version_known = true;
    if (entry->state != HOST_VERSION_READY) continue;
    if (version < 0 || entry->version == (uint64_t)version) best = entry;
  }
  if (best != NULL) return best;
  if (version < 0) {
    *error = host_error_new(TRITONSERVER_ERROR_NOT_FOUND,
                            "Request for unknown model: '%s' has no available versions", name);
  } else if (version_known) {
    *error = host_error_new(TRITONSERVER_ERROR_UNAVAILABLE,
                            "Request for unknown model: '%s' version %lld is not at ready state",
                            name, (long long)version);
  } else {
    *error = host_error_new(TRITONSERVER_ERROR_NOT_FOUND,
                            "Request for unknown model: '%s' version %lld is not found", name,
                            (long long)version);
  }
  return NULL;
}

bool host_server_running(void) {
  pthread_mutex_lock(&host_core_lock);
  bool running = host_core_exists;
  pthread_mutex_unlock(&host_core_lock);
  return running;
}

bool host_server_knows(const char* name) {
  pthread_mutex_lock(&host_core_lock);
  bool known = host_core_exists && host_table_find(name) != NULL;
  pthread_mutex_unlock(&host_core_lock);
  return known;
}

bool host_server_metrics_enabled(void) {
  pthread_mutex_lock(&host_core_lock);
  bool enabled = host_core_options != NULL && host_core_options->metrics;
  pthread_mutex_unlock(&host_core_lock);
  return enabled;
}

/* One thread at a time loads or unloads a name. */
static void host_name_claim(const char* name) {
  pthread_mutex_lock(&host_core_lock);
  for (;;) {
    bool busy = false;
    for (host_core_busy* entry = host_core_busy_names; entry != NULL; entry = entry->next) {
      if (strcmp(entry->name, name) == 0) busy = true;
    }
    if (!busy) break;
    pthread_cond_wait(&host_core_changed, &host_core_lock);
  }
  host_core_busy* entry = host_alloc(sizeof *entry);
  entry->name = host_strdup(name);
  entry->next = host_core_busy_names;
  host_core_busy_names = entry;
  pthread_mutex_unlock(&host_core_lock);
}

static void host_name_release(const char* name) {
  pthread_mutex_lock(&host_core_lock);
  host_core_busy** link = &host_core_busy_names;
  while (*link != NULL && strcmp((*link)->name, name) != 0) link = &(*link)->next;
  if (*link != NULL) {
    host_core_busy* entry = *link;
    *link = entry->next;
    free(entry->name);
    free(entry);
  }
  pthread_cond_broadcast(&host_core_changed);
  pthread_mutex_unlock(&host_core_lock);
}

/* ---- Backends. ---- */

static TRITONSERVER_Error* host_core_backend_get(const TRITONSERVER_ServerOptions* options,
                                                 const char* name,
                                                 TRITONBACKEND_Backend** backend) {
  pthread_mutex_lock(&host_core_backend_lock);
  for (host_core_backend* loaded = host_core_backends; loaded != NULL; loaded = loaded->next) {
    if (strcmp(loaded->name, name) == 0) {
      *backend = loaded->backend;
      pthread_mutex_unlock(&host_core_backend_lock);
      return NULL;
    }
  }
  host_text directory = {0};
  host_text_printf(&directory, "%s/%s", options->backend_dir, name);
  host_text library = {0};
  host_text_printf(&library, "%s/libtriton_%s.so", directory.data, name);
  char* cmdline = host_server_options_cmdline(options, name);
  char error_text[2048] = "";
  TRITONSERVER_Error* error = NULL;
  *backend = host_backend_load(name, library.data, directory.data, cmdline, error_text,
                               sizeof error_text);
  if (*backend == NULL) {
    error = host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                           "unable to load backend '%s' from %s: %s", name, library.data,
                           error_text);
  } else {
    host_core_backend* loaded = host_alloc(sizeof *loaded);
    loaded->name = host_strdup(name);
    loaded->backend = *backend;
    loaded->next = host_core_backends;
    host_core_backends = loaded;
  }
  pthread_mutex_unlock(&host_core_backend_lock);
  free(cmdline);
  host_text_free(&directory);
  host_text_free(&library);
  return error;
}

/* Finalizes every backend (after every model is gone); the first error. */
static TRITONSERVER_Error* host_core_backends_unload(void) {
  TRITONSERVER_Error* first = NULL;
  pthread_mutex_lock(&host_core_backend_lock);
  while (host_core_backends != NULL) {
    host_core_backend* loaded = host_core_backends;
    host_core_backends = loaded->next;
    char error_text[1024] = "";
    if (host_backend_unload(loaded->backend, error_text, sizeof error_text) != 0 &&
        first == NULL) {
      first = host_error_new(TRITONSERVER_ERROR_INTERNAL, "failed to unload backend '%s': %s",
                             loaded->name, error_text);
    }
    free(loaded->name);
    free(loaded);
  }
  pthread_mutex_unlock(&host_core_backend_lock);
  return first;
}

/* ---- Unloading. ---- */

typedef struct host_unload_job {
  char* name;
  uint64_t version;
  TRITONBACKEND_Model* model;
} host_unload_job;

static void* host_unload_thread(void* argument) {
  host_unload_job* job = argument;
  char error_text[1024] = "";
  if (host_model_unload(job->model, error_text, sizeof error_text) != 0) {
    host_text line = {0};
    host_text_printf(&line, "failed to unload model '%s' version %llu: %s", job->name,
                     (unsigned long long)job->version, error_text);
    host_log_append("E", "host", 0, line.data);
    host_text_free(&line);
  }
  pthread_mutex_lock(&host_core_lock);
  host_served_model* record = host_table_find(job->name);
  if (record != NULL) {
    for (uint32_t i = 0; i < record->version_count; i++) {
      host_served_version* entry = &record->versions[i];
      if (entry->model == job->model) host_version_set(entry, HOST_VERSION_UNAVAILABLE, "unloaded", NULL);
    }
  }
  host_core_unloads--;
  pthread_cond_broadcast(&host_core_changed);
  pthread_mutex_unlock(&host_core_lock);
  free(job->name);
  free(job);
  return NULL;
}

/* Starts unloading models (their entries already UNLOADING); counted in
 * host_core_unloads until each is gone. */
static void host_unload_start(const char* name, const uint64_t* versions,
                              TRITONBACKEND_Model* const* models, uint32_t count) {
  /* No new request reaches them from now on. */
  for (uint32_t i = 0; i < count; i++) host_registry_retire_model(models[i]);
  for (uint32_t i = 0; i < count; i++) {
    host_unload_job* job = host_alloc(sizeof *job);
    job->name = host_strdup(name);
    job->version = versions[i];
    job->model = models[i];
    pthread_mutex_lock(&host_core_lock);
    host_core_unloads++;
    pthread_mutex_unlock(&host_core_lock);
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    pthread_t thread;
    int failed = pthread_create(&thread, &attributes, host_unload_thread, job);
    pthread_attr_destroy(&attributes);
    if (failed != 0) host_unload_thread(job);
  }
}

/* With the lock held: marks the ready versions of a model (those in
 * `keep` excepted) UNLOADING and collects them. */
static uint32_t host_table_retire(host_served_model* record, const uint64_t* keep,
                                  uint32_t keep_count, uint64_t** versions,
                                  TRITONBACKEND_Model*** models) {
  uint32_t count = 0;
  *versions = host_alloc(sizeof **versions * (record->version_count + 1u));
  *models = host_alloc(sizeof **models * (record->version_count + 1u));
  for (uint32_t i = 0; i < record->version_count; i++) {
    host_served_version* entry = &record->versions[i];
    if (entry->state != HOST_VERSION_READY || entry->model == NULL) continue;
    bool kept = false;
    for (uint32_t k = 0; k < keep_count; k++) kept = kept || keep[k] == entry->version;
    if (kept) continue;
    (*versions)[count] = entry->version;
    (*models)[count++] = entry->model;
    entry->state = HOST_VERSION_UNLOADING;
  }
  return count;
}

TRITONSERVER_Error* host_server_unload(const char* name) {
  host_name_claim(name);
  pthread_mutex_lock(&host_core_lock);
  host_served_model* record = host_table_find(name);
  uint32_t count = 0;
  uint64_t* versions = NULL;
  TRITONBACKEND_Model** models = NULL;
  if (record != NULL) count = host_table_retire(record, NULL, 0, &versions, &models);
  pthread_mutex_unlock(&host_core_lock);
  /* Unloading a model that is not loaded succeeds, as in Triton. */
  if (count > 0) host_unload_start(name, versions, models, count);
  free(versions);
  free(models);
  host_name_release(name);
  return NULL;
}

/* ---- Loading. ---- */

/* Where the model's directory is: the first repository that has it. */
static const char* host_repository_of(const TRITONSERVER_ServerOptions* options,
                                      const char* name) {
  for (uint32_t r = 0; r < options->repository_count; r++) {
    char** names = NULL;
    uint32_t count = host_repository_models(options->repositories[r], &names);
    bool found = false;
    for (uint32_t i = 0; i < count; i++) {
      found = found || strcmp(names[i], name) == 0;
      free(names[i]);
    }
    free(names);
    if (found) return options->repositories[r];
  }
  return NULL;
}

/* Records a failure of the whole model (no version could be tried). */
static TRITONSERVER_Error* host_model_failed(const char* name, const uint64_t* versions,
                                             uint32_t version_count, TRITONSERVER_Error* cause) {
  host_text reason = {0};
  host_text_printf(&reason, "%s: %s", host_error_code_string(TRITONSERVER_ErrorCode(cause)),
                   TRITONSERVER_ErrorMessage(cause));
  pthread_mutex_lock(&host_core_lock);
  host_served_model* record = host_table_record(name);
  for (uint32_t i = 0; i < version_count; i++) {
    host_served_version* entry = host_table_version(record, versions[i]);
    if (entry->state != HOST_VERSION_READY) {
      host_version_set(entry, HOST_VERSION_UNAVAILABLE, reason.data, NULL);
    }
  }
  free(record->reason);
  record->reason = version_count == 0 ? host_strdup(reason.data) : NULL;
  pthread_mutex_unlock(&host_core_lock);
  host_text_free(&reason);
  return cause;
}

/* Reads, normalizes and checks the configuration a load uses. */
static TRITONSERVER_Error* host_load_config(const char* repository, const char* name,
                                            const char* override_json, host_json** config) {
  *config = NULL;
  char* problem = NULL;
  char* text = override_json != NULL ? host_strdup(override_json)
                                     : host_repository_config(repository, name, &problem);
  if (text == NULL) {
    TRITONSERVER_Error* error = host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "%s", problem);
    free(problem);
    return error;
  }
  const char* invalid = NULL;
  host_json* parsed = host_json_parse(text, strlen(text), &invalid);
  free(text);
  if (parsed == NULL || parsed->kind != HOST_JSON_OBJECT) {
    host_json_free(parsed);
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                          "the configuration of model '%s' is not a JSON object%s%s", name,
                          invalid == NULL ? "" : ": ", invalid == NULL ? "" : invalid);
  }
  TRITONSERVER_Error* error = host_model_config_normalize(parsed, name);
  if (error == NULL && host_model_config_backend(parsed) == NULL) {
    error = host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                           "Invalid model name: Could not determine backend for model '%s' with "
                           "no backend in model configuration. Expected model name of the form "
                           "'model.<backend_name>'.",
                           name);
  }
  if (error == NULL) {
    /* A check of everything the server uses, before the backend sees it. */
    host_model_config settings;
    error = host_model_config_read(parsed, &settings);
    host_model_config_free(&settings);
  }
  if (error != NULL) {
    host_json_free(parsed);
    return error;
  }
  *config = parsed;
  return NULL;
}

/* Loads one version, retrying as --model-load-retry-count says. */
static TRITONBACKEND_Model* host_load_version(const TRITONSERVER_ServerOptions* options,
                                              TRITONBACKEND_Backend* backend, const char* name,
                                              uint64_t version, const char* directory,
                                              const char* config_json,
                                              TRITONSERVER_Error** error) {
  TRITONBACKEND_Model* model = NULL;
  for (unsigned int attempt = 0; attempt <= options->load_retry_count; attempt++) {
    if (*error != NULL) TRITONSERVER_ErrorDelete(*error);
    *error = NULL;
    uint64_t started = host_now_ns();
    model = host_model_load_served(backend, name, version, directory, config_json,
                                   !options->strict_model_config, error);
    if (model != NULL) {
      model->runtime->stats.load_seconds = (double)(host_now_ns() - started) / 1e9;
      return model;
    }
  }
  return NULL;
}

/* With the lock held: whether a load finds nothing changed, as Triton
 * decides it: the model's files are as they were at the last load that
 * succeeded (with or without a configuration given to it), the
 * repository's configuration too, and the versions to serve are those
 * ready. */
static bool host_load_unchanged(const host_served_model* record, const uint64_t* versions,
                                uint32_t version_count, const char* repository_config,
                                int64_t stamp) {
  if (!record->loaded || record->loaded_stamp != stamp ||
      (record->loaded_config == NULL) != (repository_config == NULL) ||
      (repository_config != NULL && strcmp(record->loaded_config, repository_config) != 0)) {
    return false;
  }
  uint32_t ready = 0;
  for (uint32_t i = 0; i < record->version_count; i++) {
    const host_served_version* entry = &record->versions[i];
    if (entry->state == HOST_VERSION_LOADING || entry->state == HOST_VERSION_UNLOADING) {
      return false;
    }
    if (entry->state != HOST_VERSION_READY) continue;
    ready++;
    bool selected = false;
    for (uint32_t v = 0; v < version_count; v++) selected = selected || versions[v] == entry->version;
    if (!selected) return false;
  }
  return ready == version_count;
}

/* Loads (or reloads) a model from the repository, as Triton's model
 * repository manager does. */
static TRITONSERVER_Error* host_server_load_model(const TRITONSERVER_ServerOptions* options,
                                                  const char* name, const char* override_json,
                                                  const char* files_root) {
  const char* repository = files_root != NULL ? files_root : host_repository_of(options, name);
  if (repository == NULL) {
    return host_error_new(TRITONSERVER_ERROR_INTERNAL,
                          "failed to load '%s', failed to poll from model repository", name);
  }
  uint64_t* available = NULL;
  uint32_t available_count = host_repository_versions(repository, name, &available);
  host_json* config = NULL;
  TRITONSERVER_Error* error = host_load_config(repository, name, override_json, &config);
  if (error != NULL) {
    /* Without a configuration, the versions a default policy would load. */
    uint32_t latest = available_count > 0 ? 1 : 0;
    host_model_failed(name, available + available_count - latest, latest, error);
    free(available);
    return error;
  }
  uint64_t* versions = NULL;
  uint32_t version_count =
      host_model_config_versions(config, available, available_count, &versions);
  free(available);
  if (version_count == 0) {
    host_json_free(config);
    free(versions);
    return host_model_failed(name, NULL, 0,
                             host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                                            "at least one version must be available under the "
                                            "version policy of model '%s'",
                                            name));
  }
  TRITONBACKEND_Backend* backend = NULL;
  error = host_core_backend_get(options, host_model_config_backend(config), &backend);
  if (error != NULL) {
    host_json_free(config);
    host_model_failed(name, versions, version_count, error);
    free(versions);
    return error;
  }
  char* config_json = host_json_to_string(config);
  host_json_free(config);
  int64_t stamp = host_repository_stamp(repository, name);
  char* unused = NULL;
  char* repository_config = host_repository_config(repository, name, &unused);
  free(unused);

  pthread_mutex_lock(&host_core_lock);
  host_served_model* record = host_table_record(name);
  if (override_json == NULL &&
      host_load_unchanged(record, versions, version_count, repository_config, stamp)) {
    /* As Triton, a load that finds nothing changed keeps the model as is
     * (even one a configuration was given to). */
    pthread_mutex_unlock(&host_core_lock);
    free(versions);
    free(config_json);
    free(repository_config);
    return NULL;
  }
  pthread_mutex_unlock(&host_core_lock);
  host_text directory = {0};
  host_text_printf(&directory, "%s/%s", repository, name);

  pthread_mutex_lock(&host_core_lock);
  free(record->reason);
  record->reason = NULL;
  for (uint32_t i = 0; i < version_count; i++) {
    host_served_version* entry = host_table_version(record, versions[i]);
    if (entry->state != HOST_VERSION_READY) {
      host_version_set(entry, HOST_VERSION_LOADING, NULL, NULL);
    }
  }
  pthread_mutex_unlock(&host_core_lock);

  host_text failures = {0};
  for (uint32_t i = 0; i < version_count; i++) {
    TRITONSERVER_Error* version_error = NULL;
    TRITONBACKEND_Model* model = host_load_version(options, backend, name, versions[i],
                                                   directory.data, config_json, &version_error);
    host_text reason = {0};
    if (model == NULL) {
      host_text_printf(&reason, "%s: %s",
                       host_error_code_string(TRITONSERVER_ErrorCode(version_error)),
                       TRITONSERVER_ErrorMessage(version_error));
      host_text_printf(&failures, "version %llu is at UNAVAILABLE state: %s;\n",
                       (unsigned long long)versions[i], reason.data);
      host_text line = {0};
      host_text_printf(&line, "failed to load '%s' version %llu: %s", name,
                       (unsigned long long)versions[i], reason.data);
      host_log_append("E", "host", 0, line.data);
      host_text_free(&line);
      TRITONSERVER_ErrorDelete(version_error);
    }
    TRITONBACKEND_Model* previous = NULL;
    pthread_mutex_lock(&host_core_lock);
    host_served_version* entry = host_table_version(record, versions[i]);
    if (model != NULL) {
      /* A reload: the copy loaded before goes once the new one serves. */
      if (entry->state == HOST_VERSION_READY) previous = entry->model;
      host_version_set(entry, HOST_VERSION_READY, NULL, model);
    } else if (entry->state != HOST_VERSION_READY) {
      /* A failed reload leaves the loaded copy serving. */
      host_version_set(entry, HOST_VERSION_UNAVAILABLE, reason.data, NULL);
    }
    pthread_mutex_unlock(&host_core_lock);
    if (previous != NULL) host_unload_start(name, &versions[i], &previous, 1);
    host_text_free(&reason);
  }
  /* Versions the policy no longer selects go. */
  pthread_mutex_lock(&host_core_lock);
  free(record->loaded_config);
  record->loaded = failures.length == 0;
  record->loaded_config = repository_config;
  repository_config = NULL;
  record->loaded_stamp = stamp;
  /* The model files of the copy loaded before go with it (Triton keeps a
   * load's files as long as what it loaded); a failed load's files go in
   * host_server_load_files. */
  char* replaced_root = NULL;
  if (failures.length == 0) {
    replaced_root = record->files_root;
    record->files_root = files_root == NULL ? NULL : host_strdup(files_root);
  }
  uint64_t* dropped_versions = NULL;
  TRITONBACKEND_Model** dropped = NULL;
  uint32_t dropped_count =
      host_table_retire(record, versions, version_count, &dropped_versions, &dropped);
  pthread_mutex_unlock(&host_core_lock);
  if (dropped_count > 0) host_unload_start(name, dropped_versions, dropped, dropped_count);
  free(dropped_versions);
  free(dropped);
  free(versions);
  free(config_json);
  free(repository_config);
  host_text_free(&directory);
  host_load_files_remove(replaced_root);
  free(replaced_root);
  if (failures.length == 0) return NULL;
  error = host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "load failed for model '%s': %s", name,
                         failures.data);
  host_text_free(&failures);
  return error;
}

TRITONSERVER_ServerOptions* host_server_options_snapshot(void) {
  pthread_mutex_lock(&host_core_lock);
  TRITONSERVER_ServerOptions* options =
      host_core_options == NULL ? NULL : host_server_options_copy(host_core_options);
  pthread_mutex_unlock(&host_core_lock);
  return options;
}

TRITONSERVER_Error* host_server_load(const char* name, const char* config_json) {
  TRITONSERVER_ServerOptions* options = host_server_options_snapshot();
  if (options == NULL) {
    return host_error_new(TRITONSERVER_ERROR_UNAVAILABLE, "the server is not running");
  }
  host_name_claim(name);
  TRITONSERVER_Error* error = host_server_load_model(options, name, config_json, NULL);
  host_name_release(name);
  host_server_options_free(options);
  return error;
}

TRITONSERVER_Error* host_server_load_files(const char* name, const char* config_json, char* root) {
  TRITONSERVER_ServerOptions* options = host_server_options_snapshot();
  if (options == NULL) {
    host_load_files_remove(root);
    free(root);
    return host_error_new(TRITONSERVER_ERROR_UNAVAILABLE, "the server is not running");
  }
  host_name_claim(name);
  TRITONSERVER_Error* error = host_server_load_model(options, name, config_json, root);
  host_name_release(name);
  host_server_options_free(options);
  /* The model keeps its own copy of the path; on failure the files are gone
   * already, or were never used (a load refused before it began). */
  if (error != NULL) host_load_files_remove(root);
  free(root);
  return error;
}

/* ---- Start. ---- */

typedef struct host_startup {
  const TRITONSERVER_ServerOptions* options;
  char** names;
  uint32_t count;
  _Atomic uint32_t next;
  TRITONSERVER_Error** errors;
} host_startup;

static void* host_startup_thread(void* argument) {
  host_startup* startup = argument;
  for (;;) {
    uint32_t index = atomic_fetch_add(&startup->next, 1);
    if (index >= startup->count) return NULL;
    const char* name = startup->names[index];
    host_name_claim(name);
    startup->errors[index] = host_server_load_model(startup->options, name, NULL, NULL);
    host_name_release(name);
  }
}

/* Loads the models the control mode starts with, HOST_LOAD_THREADS at a
 * time; the first failure decides ServerNew's error. */
static TRITONSERVER_Error* host_startup_load(const TRITONSERVER_ServerOptions* options) {
  host_startup startup = {.options = options};
  if (options->control_mode == TRITONSERVER_MODEL_CONTROL_EXPLICIT) {
    startup.count = options->startup_model_count;
    startup.names = host_alloc(sizeof *startup.names * (startup.count + 1u));
    for (uint32_t i = 0; i < startup.count; i++) {
      startup.names[i] = host_strdup(options->startup_models[i]);
    }
  } else {
    for (uint32_t r = 0; r < options->repository_count; r++) {
      char** names = NULL;
      uint32_t count = host_repository_models(options->repositories[r], &names);
      startup.names = host_grow(startup.names, sizeof *startup.names * (startup.count + count + 1u));
      for (uint32_t i = 0; i < count; i++) startup.names[startup.count++] = names[i];
      free(names);
    }
  }
  startup.errors = host_alloc(sizeof *startup.errors * (startup.count + 1u));
  uint32_t thread_count = startup.count < HOST_LOAD_THREADS ? startup.count : HOST_LOAD_THREADS;
  pthread_t threads[HOST_LOAD_THREADS];
  uint32_t started = 0;
  for (uint32_t t = 0; t < thread_count; t++) {
    if (pthread_create(&threads[started], NULL, host_startup_thread, &startup) == 0) started++;
  }
  if (started == 0) host_startup_thread(&startup);
  for (uint32_t t = 0; t < started; t++) pthread_join(threads[t], NULL);
  TRITONSERVER_Error* first = NULL;
  for (uint32_t i = 0; i < startup.count; i++) {
    if (startup.errors[i] != NULL && first == NULL) {
      first = startup.errors[i];
    } else if (startup.errors[i] != NULL) {
      TRITONSERVER_ErrorDelete(startup.errors[i]);
    }
    free(startup.names[i]);
  }
  free(startup.names);
  free(startup.errors);
  if (first != NULL && options->control_mode != TRITONSERVER_MODEL_CONTROL_EXPLICIT) {
    TRITONSERVER_ErrorDelete(first);
    first = host_error_new(TRITONSERVER_ERROR_INTERNAL, "failed to load all models");
  }
  return first;
}

static TRITONSERVER_Error* host_core_stop(void);
static TRITONSERVER_Error* host_core_delete(void);

TRITONSERVER_Error* TRITONSERVER_ServerNew(TRITONSERVER_Server** server,
                                           TRITONSERVER_ServerOptions* options) {
  if (server == NULL || options == NULL) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "NULL server out-pointer or options");
  }
  *server = NULL;
  if (options->repository_count == 0) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                          "--model-repository must be specified");
  }
  for (uint32_t r = 0; r < options->repository_count; r++) {
    struct stat info;
    if (stat(options->repositories[r], &info) != 0 || !S_ISDIR(info.st_mode)) {
      return host_error_new(TRITONSERVER_ERROR_INTERNAL, "failed to stat file %s",
                            options->repositories[r]);
    }
  }
  pthread_mutex_lock(&host_core_lock);
  if (host_core_exists && host_core_stopped) {
    /* A server whose stop timed out was left allocated (as Triton's must
     * be): the stand-in reclaims it once its unloads end. */
    pthread_mutex_unlock(&host_core_lock);
    TRITONSERVER_Error* deleted = host_core_delete();
    if (deleted != NULL) TRITONSERVER_ErrorDelete(deleted);
    pthread_mutex_lock(&host_core_lock);
  }
  if (host_core_exists) {
    pthread_mutex_unlock(&host_core_lock);
    return host_error_new(TRITONSERVER_ERROR_ALREADY_EXISTS,
                          "the stand-in core serves one server per process, and one exists: "
                          "delete it (TRITONSERVER_ServerDelete) first");
  }
  host_core_exists = true;
  host_core_stopping = false;
  host_core_stopped = false;
  host_core_options = host_server_options_copy(options);
  pthread_mutex_unlock(&host_core_lock);
  host_log_configure(options->log_info, options->log_warn, options->log_error,
                     options->log_verbose, options->log_file);
  host_set_model_control(options->control_mode == TRITONSERVER_MODEL_CONTROL_EXPLICIT);

  TRITONSERVER_Error* error = host_startup_load(options);
  if (error != NULL && !options->exit_on_error) {
    /* As Triton without exit_on_error: logged, and the server starts with
     * the failed models UNAVAILABLE. */
    host_log_append("E", "host", 0, TRITONSERVER_ErrorMessage(error));
    TRITONSERVER_ErrorDelete(error);
    error = NULL;
  }
  if (error != NULL) {
    /* As Triton does with exit_on_error (its default): stop, and no server. */
    TRITONSERVER_Error* stopped = host_core_stop();
    if (stopped != NULL) TRITONSERVER_ErrorDelete(stopped);
    TRITONSERVER_Error* deleted = host_core_delete();
    if (deleted != NULL) TRITONSERVER_ErrorDelete(deleted);
    return error;
  }
  *server = host_server();
  return NULL;
}

/* ---- Stop and delete. ---- */

static bool host_wait_unloads(const struct timespec* deadline) {
  pthread_mutex_lock(&host_core_lock);
  while (host_core_unloads > 0) {
    if (deadline == NULL) {
      pthread_cond_wait(&host_core_changed, &host_core_lock);
    } else if (pthread_cond_timedwait(&host_core_changed, &host_core_lock, deadline) != 0) {
      break;
    }
  }
  bool done = host_core_unloads == 0;
  pthread_mutex_unlock(&host_core_lock);
  return done;
}

static TRITONSERVER_Error* host_core_stop(void) {
  pthread_mutex_lock(&host_core_lock);
  host_core_stopping = true;
  unsigned int timeout_s = host_core_options == NULL ? 30 : host_core_options->exit_timeout_s;
  /* Every ready version of every model starts unloading. */
  uint32_t model_count = 0;
  for (host_served_model* record = host_core_table; record != NULL; record = record->next) {
    model_count++;
  }
  char** names = host_alloc(sizeof *names * (model_count + 1u));
  uint64_t** versions = host_alloc(sizeof *versions * (model_count + 1u));
  TRITONBACKEND_Model*** models = host_alloc(sizeof *models * (model_count + 1u));
  uint32_t* counts = host_alloc(sizeof *counts * (model_count + 1u));
  uint32_t at = 0;
  for (host_served_model* record = host_core_table; record != NULL; record = record->next) {
    names[at] = host_strdup(record->name);
    counts[at] = host_table_retire(record, NULL, 0, &versions[at], &models[at]);
    at++;
  }
  pthread_mutex_unlock(&host_core_lock);
  for (uint32_t i = 0; i < model_count; i++) {
    if (counts[i] > 0) host_unload_start(names[i], versions[i], models[i], counts[i]);
    free(names[i]);
    free(versions[i]);
    free(models[i]);
  }
  free(names);
  free(versions);
  free(models);
  free(counts);

  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += (time_t)timeout_s;
  bool done = host_wait_unloads(&deadline);
  pthread_mutex_lock(&host_core_lock);
  host_core_stopped = true;
  pthread_mutex_unlock(&host_core_lock);
  if (!done) {
    return host_error_new(TRITONSERVER_ERROR_INTERNAL,
                          "Exit timeout expired. Exiting immediately.");
  }
  return NULL;
}

static TRITONSERVER_Error* host_core_delete(void) {
  /* The unloads give up on unfinished requests by themselves (the
   * registry's drain limit), so this ends. */
  host_wait_unloads(NULL);
  TRITONSERVER_Error* error = host_core_backends_unload();
  pthread_mutex_lock(&host_core_lock);
  TRITONSERVER_ServerOptions* options = host_core_options;
  host_core_options = NULL;
  host_table_free();
  host_core_exists = false;
  host_core_stopping = false;
  host_core_stopped = false;
  pthread_cond_broadcast(&host_core_changed);
  pthread_mutex_unlock(&host_core_lock);
  if (options != NULL) {
    for (uint32_t r = 0; r < options->repository_count; r++) {
      host_repository_forget(options->repositories[r]);
    }
    host_server_options_free(options);
  }
  host_set_model_control(0);
  host_log_reset();
  return error;
}

static bool host_server_usable(TRITONSERVER_Server* server, const char* api) {
  return host_server_check(server, api) && host_server_running();
}

TRITONSERVER_Error* TRITONSERVER_ServerStop(TRITONSERVER_Server* server) {
  if (!host_server_usable(server, "ServerStop")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid server handle");
  }
  return host_core_stop();
}

TRITONSERVER_Error* TRITONSERVER_ServerDelete(TRITONSERVER_Server* server) {
  if (!host_server_usable(server, "ServerDelete")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid server handle");
  }
  pthread_mutex_lock(&host_core_lock);
  bool stopped = host_core_stopped;
  pthread_mutex_unlock(&host_core_lock);
  TRITONSERVER_Error* error = stopped ? NULL : host_core_stop();
  TRITONSERVER_Error* deleted = host_core_delete();
  if (error == NULL) return deleted;
  if (deleted != NULL) TRITONSERVER_ErrorDelete(deleted);
  return error;
}

TRITONSERVER_Error* TRITONSERVER_ServerIsLive(TRITONSERVER_Server* server, bool* live) {
  if (!host_server_check(server, "ServerIsLive") || live == NULL) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid server handle or out-pointer");
  }
  pthread_mutex_lock(&host_core_lock);
  *live = host_core_exists && !host_core_stopped;
  pthread_mutex_unlock(&host_core_lock);
  return NULL;
}

/* Ready: running, not stopping, and (strict readiness) every model the
 * server tried to load ready, but for those unloaded on purpose, and each
 * ready one's instances ready (TRITONBACKEND_ModelInstanceReady). */
TRITONSERVER_Error* TRITONSERVER_ServerIsReady(TRITONSERVER_Server* server, bool* ready) {
  if (!host_server_check(server, "ServerIsReady") || ready == NULL) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid server handle or out-pointer");
  }
  pthread_mutex_lock(&host_core_lock);
  bool answer = host_core_exists && !host_core_stopping;
  bool strict = answer && host_core_options->strict_readiness;
  char** names = NULL;
  uint64_t* versions = NULL;
  uint32_t count = 0;
  if (strict) {
    for (host_served_model* record = host_core_table; record != NULL && answer;
         record = record->next) {
      if (record->version_count == 0) answer = false;
      for (uint32_t i = 0; i < record->version_count && answer; i++) {
        const host_served_version* entry = &record->versions[i];
        answer = entry->state == HOST_VERSION_READY ||
                 (entry->state == HOST_VERSION_UNAVAILABLE && entry->reason != NULL &&
                  strcmp(entry->reason, "unloaded") == 0);
        if (entry->state == HOST_VERSION_READY) {
          names = host_grow(names, sizeof *names * (count + 1u));
          versions = host_grow(versions, sizeof *versions * (count + 1u));
          names[count] = host_strdup(record->name);
          versions[count++] = entry->version;
        }
      }
    }
  }
  pthread_mutex_unlock(&host_core_lock);
  for (uint32_t i = 0; i < count; i++) {
    if (answer) {
      TRITONBACKEND_Model* model = host_registry_hold(names[i], (int64_t)versions[i]);
      if (model != NULL) {
        answer = host_model_instances_ready(model);
        host_registry_unhold(model);
      }
    }
    free(names[i]);
  }
  free(names);
  free(versions);
  *ready = answer;
  return NULL;
}
