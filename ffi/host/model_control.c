/*
 * model_control.c: TRITONSERVER_ServerLoadModel, UnloadModel and
 * ModelIsReady, and the host's side of them: the control mode and the
 * models a load may find (Triton's model repository, reduced to a list
 * the tests register).
 *
 * As in Triton, loading and unloading by name is refused unless the
 * server runs with explicit model control; a load returns once the model
 * is ready (a reload replaces the copies loaded before), and an unload
 * only starts: models the server loaded are finalized in the background
 * after their in-flight requests, while a model the test loaded itself
 * just stops being reachable (the test still unloads it).
 *
 * When the stand-in server runs (TRITONSERVER_ServerNew), loads and
 * unloads go to its model repository instead (server.c).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host_api.h"
#include "host_core.h"

typedef struct host_loadable {
  struct host_loadable* next;
  TRITONBACKEND_Backend* backend;
  char* name;
  uint64_t version;
  char* model_dir;
  char* config_json;
  uint32_t instance_count;
} host_loadable;

static atomic_bool host_explicit_control;
static pthread_mutex_t host_control_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t host_control_changed = PTHREAD_COND_INITIALIZER;
static host_loadable* host_loadables;
static uint32_t host_background_unloads;

void host_set_model_control(int32_t explicit_mode) {
  atomic_store(&host_explicit_control, explicit_mode != 0);
}

static void host_loadable_free(host_loadable* loadable) {
  free(loadable->name);
  free(loadable->model_dir);
  free(loadable->config_json);
  free(loadable);
}

int32_t host_register_loadable(TRITONBACKEND_Backend* backend, const char* name, uint64_t version,
                               const char* model_dir, const char* config_json,
                               uint32_t instance_count) {
  if (!host_check_magic(backend, HOST_MAGIC_BACKEND, "backend") || name == NULL ||
      model_dir == NULL || config_json == NULL || instance_count == 0) {
    return -1;
  }
  host_loadable* loadable = host_alloc(sizeof *loadable);
  loadable->backend = backend;
  loadable->name = host_strdup(name);
  loadable->version = version;
  loadable->model_dir = host_strdup(model_dir);
  loadable->config_json = host_strdup(config_json);
  loadable->instance_count = instance_count;
  pthread_mutex_lock(&host_control_lock);
  /* A name registered again replaces the earlier registration. */
  host_loadable** link = &host_loadables;
  while (*link != NULL && strcmp((*link)->name, name) != 0) link = &(*link)->next;
  host_loadable* replaced = *link;
  if (replaced != NULL) {
    loadable->next = replaced->next;
  }
  *link = loadable;
  pthread_mutex_unlock(&host_control_lock);
  if (replaced != NULL) host_loadable_free(replaced);
  return 0;
}

/* ---- Background unloads. ---- */

static void* host_background_unload(void* argument) {
  TRITONBACKEND_Model* model = argument;
  char error_text[1024] = "";
  char name[256];
  host_write_text(name, sizeof name, "%s", model->name);
  if (host_model_unload(model, error_text, sizeof error_text) != 0) {
    char line[1400];
    host_write_text(line, sizeof line, "failed to unload model '%s': %s", name, error_text);
    host_log_append("E", "host", 0, line);
  }
  pthread_mutex_lock(&host_control_lock);
  host_background_unloads--;
  pthread_cond_broadcast(&host_control_changed);
  pthread_mutex_unlock(&host_control_lock);
  return NULL;
}

static void host_unload_in_background(TRITONBACKEND_Model* const* models, uint32_t count) {
  for (uint32_t i = 0; i < count; i++) {
    pthread_mutex_lock(&host_control_lock);
    host_background_unloads++;
    pthread_mutex_unlock(&host_control_lock);
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    pthread_t thread;
    int failed = pthread_create(&thread, &attributes, host_background_unload, models[i]);
    pthread_attr_destroy(&attributes);
    if (failed != 0) host_background_unload(models[i]); /* then here and now */
  }
}

uint32_t host_model_control_pending(void) {
  pthread_mutex_lock(&host_control_lock);
  uint32_t pending = host_background_unloads;
  pthread_mutex_unlock(&host_control_lock);
  return pending;
}

void host_model_control_drain(TRITONBACKEND_Backend* backend) {
  TRITONBACKEND_Model** owned = NULL;
  uint32_t count = host_registry_owned_by(backend, &owned);
  for (uint32_t i = 0; i < count; i++) {
    char error_text[1024] = "";
    if (host_model_unload(owned[i], error_text, sizeof error_text) != 0) {
      host_log_append("E", "host", 0, error_text);
    }
  }
  free(owned);
  pthread_mutex_lock(&host_control_lock);
  while (host_background_unloads > 0) {
    pthread_cond_wait(&host_control_changed, &host_control_lock);
  }
  /* Its registrations would dangle once the backend is gone. */
  host_loadable** link = &host_loadables;
  while (*link != NULL) {
    host_loadable* loadable = *link;
    if (loadable->backend == backend) {
      *link = loadable->next;
      host_loadable_free(loadable);
    } else {
      link = &loadable->next;
    }
  }
  pthread_mutex_unlock(&host_control_lock);
}

int32_t host_wait_idle(uint32_t timeout_ms) {
  uint64_t deadline = host_now_ns() + (uint64_t)timeout_ms * 1000000u;
  for (;;) {
    if (host_registry_idle() && host_model_control_pending() == 0) return 1;
    if (host_now_ns() >= deadline) return 0;
    struct timespec pause = {.tv_sec = 0, .tv_nsec = 1000000L};
    nanosleep(&pause, NULL);
  }
}

uint64_t host_server_models_json(char* out, uint64_t cap) { return host_registry_json(out, cap); }

/* ---- The TRITONSERVER_Server services. ---- */

static TRITONSERVER_Error* host_control_refused(void) {
  return host_error_new(TRITONSERVER_ERROR_UNAVAILABLE,
                        "explicit model load / unload is not allowed if polling is enabled");
}

TRITONSERVER_Error* TRITONSERVER_ServerLoadModel(TRITONSERVER_Server* server,
                                                 const char* model_name) {
  if (!host_server_check(server, "ServerLoadModel")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid server handle");
  }
  if (model_name == NULL) return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "NULL model name");
  if (!atomic_load(&host_explicit_control)) return host_control_refused();
  if (host_server_running()) return host_server_load(model_name, NULL);

  pthread_mutex_lock(&host_control_lock);
  host_loadable* found = host_loadables;
  while (found != NULL && strcmp(found->name, model_name) != 0) found = found->next;
  host_loadable copy = {0};
  if (found != NULL) {
    copy = *found;
    copy.name = host_strdup(found->name);
    copy.model_dir = host_strdup(found->model_dir);
    copy.config_json = host_strdup(found->config_json);
  }
  pthread_mutex_unlock(&host_control_lock);
  if (found == NULL) {
    return host_error_new(TRITONSERVER_ERROR_INTERNAL,
                          "failed to load '%s', failed to poll from model repository", model_name);
  }

  char error_text[1024] = "";
  TRITONBACKEND_Model* model =
      host_model_load(copy.backend, copy.name, copy.version, copy.model_dir, copy.config_json,
                      copy.instance_count, 0, error_text, sizeof error_text);
  TRITONSERVER_Error* error = NULL;
  if (model == NULL) {
    error = host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                           "load failed for model '%s': version %llu is at UNAVAILABLE state: "
                           "%s;\n",
                           copy.name, (unsigned long long)copy.version, error_text);
  } else {
    host_registry_set_server_owned(model);
    /* A reload: the copies loaded before stop serving and go. */
    TRITONBACKEND_Model** previous = NULL;
    uint32_t count = host_registry_retire_name(copy.name, model, &previous);
    host_unload_in_background(previous, count);
    free(previous);
  }
  free(copy.name);
  free(copy.model_dir);
  free(copy.config_json);
  return error;
}

TRITONSERVER_Error* TRITONSERVER_ServerUnloadModel(TRITONSERVER_Server* server,
                                                   const char* model_name) {
  if (!host_server_check(server, "ServerUnloadModel")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid server handle");
  }
  if (model_name == NULL) return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "NULL model name");
  if (!atomic_load(&host_explicit_control)) return host_control_refused();
  if (host_server_running()) return host_server_unload(model_name);
  /* Unloading a model that is not loaded succeeds, as in Triton. */
  TRITONBACKEND_Model** owned = NULL;
  uint32_t count = host_registry_retire_name(model_name, NULL, &owned);
  host_unload_in_background(owned, count);
  free(owned);
  return NULL;
}

/* Triton's load parameters: "config", a JSON configuration that replaces
 * the repository's for this load, and "file:<path>" model files, which
 * replace the model's directory (they need a "config"). */
TRITONSERVER_Error* TRITONSERVER_ServerLoadModelWithParameters(
    TRITONSERVER_Server* server, const char* model_name, const TRITONSERVER_Parameter** parameters,
    const uint64_t parameter_count) {
  if (!host_server_check(server, "ServerLoadModelWithParameters")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid server handle");
  }
  if (model_name == NULL || (parameter_count > 0 && parameters == NULL)) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "NULL model name or parameters");
  }
  const char* config = NULL;
  const TRITONSERVER_Parameter** files = host_alloc(sizeof *files * (parameter_count + 1u));
  uint64_t file_count = 0;
  TRITONSERVER_Error* error = NULL;
  for (uint64_t i = 0; error == NULL && i < parameter_count; i++) {
    const TRITONSERVER_Parameter* parameter = parameters[i];
    if (!host_handle_check(HOST_HANDLE_PARAMETER, parameter, "ServerLoadModelWithParameters")) {
      error = host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid parameter handle");
    } else if (strcmp(parameter->name, "config") == 0) {
      if (parameter->type != TRITONSERVER_PARAMETER_STRING) {
        error = host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                               "the 'config' load parameter must be a string");
      }
      config = parameter->string_value;
    } else if (strncmp(parameter->name, "file:", 5) == 0) {
      files[file_count++] = parameter;
    } else {
      error = host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "unrecognized load parameter '%s'",
                             parameter->name);
    }
  }
  if (error == NULL && !atomic_load(&host_explicit_control)) error = host_control_refused();
  if (error == NULL && file_count > 0 && config == NULL) {
    error = host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                           "Load parameter 'config' must be specified for model file override");
  }
  if (error == NULL && config != NULL && !host_server_running()) {
    error = host_error_new(TRITONSERVER_ERROR_UNSUPPORTED,
                           "a 'config' load parameter needs the stand-in server "
                           "(TRITONSERVER_ServerNew)");
  }
  if (error == NULL) {
    if (config == NULL) {
      error = TRITONSERVER_ServerLoadModel(server, model_name);
    } else if (file_count == 0) {
      error = host_server_load(model_name, config);
    } else {
      char* root = NULL;
      error = host_load_files_write(model_name, files, file_count, &root);
      if (error == NULL) error = host_server_load_files(model_name, config, root);
    }
  }
  free(files);
  return error;
}

/* The stand-in has no ensembles, so a model has no dependents. */
TRITONSERVER_Error* TRITONSERVER_ServerUnloadModelAndDependents(TRITONSERVER_Server* server,
                                                                const char* model_name) {
  return TRITONSERVER_ServerUnloadModel(server, model_name);
}

TRITONSERVER_Error* TRITONSERVER_ServerModelIsReady(TRITONSERVER_Server* server,
                                                    const char* model_name,
                                                    const int64_t model_version, bool* ready) {
  if (!host_server_check(server, "ServerModelIsReady")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid server handle");
  }
  if (ready == NULL) return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "NULL out-pointer");
  /* A ready model is asked as Triton asks it: every instance, through the
   * backend. One that is not ready is an error with the server running, as
   * in Triton ("Request for unknown model: ..."); the test host without a
   * server just answers false. */
  TRITONBACKEND_Model* model = host_registry_hold(model_name, model_version);
  if (model == NULL && model_name != NULL && host_server_running()) {
    TRITONSERVER_Error* error = NULL;
    host_served_model* table = host_server_table_lock();
    (void)host_server_find_ready(table, model_name, model_version, &error);
    host_server_table_unlock();
    if (error == NULL) {
      error = host_error_new(TRITONSERVER_ERROR_UNAVAILABLE,
                             "Request for unknown model: '%s' is not at ready state", model_name);
    }
    *ready = false;
    return error;
  }
  *ready = model != NULL && host_model_instances_ready(model);
  if (model != NULL) host_registry_unhold(model);
  return NULL;
}
