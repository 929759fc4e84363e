/*
 * model.c: loading and unloading a model the way Triton does, and the
 * TRITONBACKEND_Model services.
 *
 * Triton's objects finalize in their destructors, so a failed load still
 * finalizes: an instance whose Initialize failed gets ModelInstanceFinalize,
 * and a model whose Initialize (or an instance's) failed gets
 * ModelFinalize. The host does the same, so a backend that cannot cope with
 * finalizing half-built state fails here as it would in the server.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_api.h"
#include "host_core.h"
#include "host_internal.h"

/* TRITONBACKEND_ModelServer hands out a token: the TRITONSERVER_Server* that
 * in-process inference, model control and readiness calls take. */
static char host_server_token;

TRITONSERVER_Server* host_server(void) { return (TRITONSERVER_Server*)(void*)&host_server_token; }

bool host_server_check(TRITONSERVER_Server* server, const char* api) {
  if (server == host_server()) return true;
  host_violation_record(HOST_VIOLATION_BAD_HANDLE, "%s with a server handle %p that "
                        "TRITONBACKEND_ModelServer did not give", api, (void*)server);
  return false;
}

static void host_log_error(const char* what, TRITONSERVER_Error* error) {
  if (error == NULL) return;
  char line[1200];
  snprintf(line, sizeof line, "%s: %s", what, TRITONSERVER_ErrorMessage(error));
  host_log_append("E", "host", 0, line);
}

/* name: NULL for the test host's naming: the group "<model>_0", suffixed
 * with the instance index only when it has more than one instance. */
static TRITONBACKEND_ModelInstance* host_instance_new(TRITONBACKEND_Model* model,
                                                      uint32_t index, uint32_t count,
                                                      const char* name) {
  TRITONBACKEND_ModelInstance* instance = host_alloc(sizeof *instance);
  instance->magic = HOST_MAGIC_INSTANCE;
  instance->model = model;
  instance->index = index;
  instance->kind = TRITONSERVER_INSTANCEGROUPKIND_CPU;
  instance->device_id = 0;
  if (name != NULL) {
    instance->name = host_strdup(name);
  } else {
    host_text generated = {0};
    if (count > 1) {
      host_text_printf(&generated, "%s_0_%u", model->name, index);
    } else {
      host_text_printf(&generated, "%s_0", model->name);
    }
    instance->name = generated.data;
  }
  pthread_mutex_init(&instance->execute_lock, NULL);
  pthread_mutex_init(&instance->stats_lock, NULL);
  return instance;
}

static void host_instance_free(TRITONBACKEND_ModelInstance* instance) {
  pthread_mutex_destroy(&instance->execute_lock);
  pthread_mutex_destroy(&instance->stats_lock);
  free(instance->name);
  instance->magic = HOST_MAGIC_DEAD;
  free(instance);
}

/* Finalizes (through the backend) and frees every created instance, then
 * finalizes the model. Returns the first finalize error, if any. */
static TRITONSERVER_Error* host_model_teardown(TRITONBACKEND_Model* model) {
  TRITONBACKEND_Backend* backend = model->backend;
  TRITONSERVER_Error* first = NULL;
  for (uint32_t i = 0; i < model->instance_count; i++) {
    TRITONBACKEND_ModelInstance* instance = model->instances[i];
    if (instance == NULL) continue;
    /* Wait for an execute still running on this instance. */
    pthread_mutex_lock(&instance->execute_lock);
    if (backend->instance_finalize != NULL) {
      TRITONSERVER_Error* error = backend->instance_finalize(instance);
      host_log_error("failed finalizing model instance", error);
      if (first == NULL) {
        first = error;
      } else if (error != NULL) {
        TRITONSERVER_ErrorDelete(error);
      }
    }
    pthread_mutex_unlock(&instance->execute_lock);
    host_instance_free(instance);
    model->instances[i] = NULL;
  }
  if (backend->model_finalize != NULL) {
    TRITONSERVER_Error* error = backend->model_finalize(model);
    host_log_error("failed finalizing model", error);
    if (first == NULL) {
      first = error;
    } else if (error != NULL) {
      TRITONSERVER_ErrorDelete(error);
    }
  }
  return first;
}

static void host_model_runtime_free(struct host_model_runtime* runtime);

static void host_model_free(TRITONBACKEND_Model* model) {
  host_model_runtime_free(model->runtime);
  host_message_free(model->config);
  pthread_mutex_destroy(&model->config_lock);
  free(model->instances);
  free(model->name);
  free(model->repository);
  model->magic = HOST_MAGIC_DEAD;
  free(model);
}

/* Allocates the model and runs ModelInitialize; NULL with the error (the
 * model finalized and freed) if that fails. */
static TRITONBACKEND_Model* host_model_create(TRITONBACKEND_Backend* backend, const char* name,
                                              uint64_t version, const char* model_dir,
                                              const char* config_json, bool auto_complete,
                                              TRITONSERVER_Error** error) {
  TRITONBACKEND_Model* model = host_alloc(sizeof *model);
  model->magic = HOST_MAGIC_MODEL;
  model->backend = backend;
  model->name = host_strdup(name);
  model->version = version;
  model->repository = host_strdup(model_dir);
  model->auto_complete_config = auto_complete;
  pthread_mutex_init(&model->config_lock, NULL);
  *error = host_message_new(&model->config, config_json, strlen(config_json), false);
  if (*error != NULL) {
    host_model_free(model);
    return NULL;
  }
  if (backend->model_initialize != NULL) {
    *error = backend->model_initialize(model);
    if (*error != NULL) {
      TRITONSERVER_Error* teardown = host_model_teardown(model);
      if (teardown != NULL) TRITONSERVER_ErrorDelete(teardown);
      host_model_free(model);
      return NULL;
    }
  }
  return model;
}

/* One instance's ModelInstanceInitialize, on a thread of its own when the
 * backend loads instances in parallel. */
typedef struct host_instance_start {
  TRITONBACKEND_ModelInstance* instance;
  TRITONSERVER_Error* error;
  pthread_t thread;
  bool threaded;
} host_instance_start;

static void* host_instance_start_run(void* argument) {
  host_instance_start* start = argument;
  TRITONBACKEND_Backend* backend = start->instance->model->backend;
  start->error = backend->instance_initialize(start->instance);
  return NULL;
}

/* Creates and initializes the instances (names: NULL for the test host's
 * naming); on the first error the whole model is torn down and freed. As
 * Triton: one after another, or all at once (a thread each, then the
 * errors in instance order) when the backend asked for parallel loading. */
static TRITONSERVER_Error* host_model_start_instances(TRITONBACKEND_Model* model, uint32_t count,
                                                      char* const* names) {
  TRITONBACKEND_Backend* backend = model->backend;
  model->instances = host_alloc(sizeof *model->instances * (count + 1u));
  host_instance_start* starts = host_alloc(sizeof *starts * (count + 1u));
  const bool parallel = backend->parallel_instance_loading && count > 1;
  TRITONSERVER_Error* error = NULL;
  for (uint32_t i = 0; i < count && error == NULL; i++) {
    TRITONBACKEND_ModelInstance* instance =
        host_instance_new(model, i, count, names == NULL ? NULL : names[i]);
    model->instances[i] = instance;
    model->instance_count = i + 1;
    starts[i] = (host_instance_start){.instance = instance};
    if (backend->instance_initialize == NULL) continue;
    if (parallel) {
      starts[i].threaded =
          pthread_create(&starts[i].thread, NULL, host_instance_start_run, &starts[i]) == 0;
      if (starts[i].threaded) continue;
    }
    host_instance_start_run(&starts[i]);
    error = starts[i].error;
  }
  for (uint32_t i = 0; i < model->instance_count; i++) {
    if (starts[i].threaded) pthread_join(starts[i].thread, NULL);
  }
  error = NULL;
  for (uint32_t i = 0; i < model->instance_count; i++) {
    if (starts[i].error == NULL) {
      model->instances[i]->initialized = true;
    } else if (error == NULL) {
      error = starts[i].error;
    } else {
      TRITONSERVER_ErrorDelete(starts[i].error);
    }
  }
  free(starts);
  if (error != NULL) {
    TRITONSERVER_Error* teardown = host_model_teardown(model);
    if (teardown != NULL) TRITONSERVER_ErrorDelete(teardown);
    host_model_free(model);
  }
  return error;
}

TRITONBACKEND_Model* host_model_load(TRITONBACKEND_Backend* backend, const char* name,
                                     uint64_t version, const char* model_dir,
                                     const char* config_json, uint32_t instance_count,
                                     uint32_t flags, char* error_text, uint32_t error_cap) {
  if (!host_check_magic(backend, HOST_MAGIC_BACKEND, "backend")) {
    host_write_text(error_text, error_cap, "invalid backend handle");
    return NULL;
  }
  if (name == NULL || model_dir == NULL || config_json == NULL) {
    host_write_text(error_text, error_cap, "name, model dir and config are required");
    return NULL;
  }
  TRITONSERVER_Error* error = NULL;
  TRITONBACKEND_Model* model =
      host_model_create(backend, name, version, model_dir, config_json,
                        (flags & HOST_MODEL_AUTO_COMPLETE) != 0, &error);
  if (model != NULL) error = host_model_start_instances(model, instance_count, NULL);
  if (error != NULL) {
    host_error_take(error, error_text, error_cap);
    return NULL;
  }
  __atomic_add_fetch(&backend->loaded_models, 1, __ATOMIC_SEQ_CST);
  /* Reachable by name for in-process inference and readiness. */
  host_registry_add(model);
  return model;
}

static void host_model_runtime_free(struct host_model_runtime* runtime) {
  if (runtime == NULL) return;
  host_json_free(runtime->config_json);
  host_model_config_free(&runtime->config);
  host_model_stats_destroy(&runtime->stats);
  free(runtime);
}

/* The served model's configuration after ModelInitialize (the backend may
 * have completed it): normalized again and read into the runtime. */
static TRITONSERVER_Error* host_model_runtime_new(TRITONBACKEND_Model* model,
                                                  struct host_model_runtime** created) {
  pthread_mutex_lock(&model->config_lock);
  const char* problem = NULL;
  host_json* config = host_json_parse(model->config->json, model->config->byte_size, &problem);
  pthread_mutex_unlock(&model->config_lock);
  if (config == NULL) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                          "model '%s': the configuration is not valid JSON: %s", model->name,
                          problem);
  }
  TRITONSERVER_Error* error = host_model_config_normalize(config, model->name);
  struct host_model_runtime* runtime = host_alloc(sizeof *runtime);
  runtime->config_json = config;
  host_model_stats_init(&runtime->stats);
  if (error == NULL) error = host_model_config_read(config, &runtime->config);
  if (error == NULL) {
    /* Served as normalized, as Triton serves its normalized copy. */
    char* text = host_json_to_string(config);
    TRITONSERVER_Message* normalized = NULL;
    error = host_message_new(&normalized, text, strlen(text), false);
    free(text);
    if (error == NULL) {
      pthread_mutex_lock(&model->config_lock);
      TRITONSERVER_Message* old = model->config;
      model->config = normalized;
      pthread_mutex_unlock(&model->config_lock);
      host_message_free(old);
    }
  }
  if (error != NULL) {
    host_model_runtime_free(runtime);
    return error;
  }
  *created = runtime;
  return NULL;
}

TRITONBACKEND_Model* host_model_load_served(TRITONBACKEND_Backend* backend, const char* name,
                                            uint64_t version, const char* model_dir,
                                            const char* config_json, bool auto_complete,
                                            TRITONSERVER_Error** error) {
  TRITONBACKEND_Model* model =
      host_model_create(backend, name, version, model_dir, config_json, auto_complete, error);
  if (model == NULL) return NULL;
  struct host_model_runtime* runtime = NULL;
  *error = host_model_runtime_new(model, &runtime);
  if (*error != NULL) {
    TRITONSERVER_Error* teardown = host_model_teardown(model);
    if (teardown != NULL) TRITONSERVER_ErrorDelete(teardown);
    host_model_free(model);
    return NULL;
  }
  /* Triton names each instance "<group name>_<index in the group>". */
  uint32_t count = 0;
  for (uint32_t g = 0; g < runtime->config.group_count; g++) count += runtime->config.groups[g].count;
  char** names = host_alloc(sizeof *names * (count + 1u));
  uint32_t at = 0;
  for (uint32_t g = 0; g < runtime->config.group_count; g++) {
    for (uint32_t i = 0; i < runtime->config.groups[g].count; i++) {
      host_text instance_name = {0};
      host_text_printf(&instance_name, "%s_%u", runtime->config.groups[g].name, i);
      names[at++] = instance_name.data;
    }
  }
  model->runtime = runtime;
  *error = host_model_start_instances(model, count, names);
  for (uint32_t i = 0; i < count; i++) free(names[i]);
  free(names);
  if (*error != NULL) return NULL; /* the model, runtime included, is freed */
  runtime->scheduler = host_scheduler_start(model, &runtime->config, &runtime->stats);
  __atomic_add_fetch(&backend->loaded_models, 1, __ATOMIC_SEQ_CST);
  host_registry_add(model);
  return model;
}

int32_t host_model_unload(TRITONBACKEND_Model* model, char* error_text, uint32_t error_cap) {
  if (!host_check_magic(model, HOST_MAGIC_MODEL, "model")) {
    host_write_text(error_text, error_cap, "invalid model handle");
    return -1;
  }
  TRITONBACKEND_Backend* backend = model->backend;
  /* No new in-process request reaches it; those under way finish first. */
  host_registry_forget(model);
  /* Then a served model's instance threads leave. */
  if (model->runtime != NULL) {
    host_scheduler_stop(model->runtime->scheduler);
    model->runtime->scheduler = NULL;
  }
  TRITONSERVER_Error* error = host_model_teardown(model);
  host_model_free(model);
  __atomic_sub_fetch(&backend->loaded_models, 1, __ATOMIC_SEQ_CST);
  if (error != NULL) {
    host_error_take(error, error_text, error_cap);
    return -1;
  }
  return 0;
}

bool host_model_instances_ready(TRITONBACKEND_Model* model) {
  TRITONBACKEND_Backend* backend = model->backend;
  if (backend->instance_ready == NULL) return true;
  for (uint32_t i = 0; i < model->instance_count; i++) {
    TRITONSERVER_Error* error = backend->instance_ready(model->instances[i]);
    if (error != NULL) {
      host_text line = {0};
      host_text_printf(&line, "model '%s' version %llu is not ready: instance '%s': %s",
                       model->name, (unsigned long long)model->version, model->instances[i]->name,
                       TRITONSERVER_ErrorMessage(error));
      host_log_append("W", "host", 0, line.data);
      host_text_free(&line);
      TRITONSERVER_ErrorDelete(error);
      return false;
    }
  }
  return true;
}

uint32_t host_model_instance_count(TRITONBACKEND_Model* model) {
  if (!host_check_magic(model, HOST_MAGIC_MODEL, "model")) return 0;
  return model->instance_count;
}

TRITONBACKEND_ModelInstance* host_model_instance(TRITONBACKEND_Model* model, uint32_t index) {
  if (!host_check_magic(model, HOST_MAGIC_MODEL, "model")) return NULL;
  return index < model->instance_count ? model->instances[index] : NULL;
}

uint64_t host_model_config_json(TRITONBACKEND_Model* model, char* out, uint64_t cap) {
  if (!host_check_magic(model, HOST_MAGIC_MODEL, "model")) return 0;
  pthread_mutex_lock(&model->config_lock);
  host_text text = {0};
  host_text_append(&text, model->config->json, model->config->byte_size);
  pthread_mutex_unlock(&model->config_lock);
  uint64_t length = host_text_export(&text, out, cap);
  host_text_free(&text);
  return length;
}

/* ---- TRITONBACKEND_Model services. ---- */

#define HOST_CHECK_MODEL(model, out)                                                    \
  do {                                                                                  \
    if (!host_check_magic((model), HOST_MAGIC_MODEL, "model") || (out) == NULL) {       \
      return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid model or NULL out"); \
    }                                                                                   \
  } while (0)

TRITONSERVER_Error* TRITONBACKEND_ModelName(TRITONBACKEND_Model* model, const char** name) {
  HOST_CHECK_MODEL(model, name);
  *name = model->name;
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_ModelVersion(TRITONBACKEND_Model* model, uint64_t* version) {
  HOST_CHECK_MODEL(model, version);
  *version = model->version;
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_ModelRepository(TRITONBACKEND_Model* model,
                                                  TRITONBACKEND_ArtifactType* artifact_type,
                                                  const char** location) {
  HOST_CHECK_MODEL(model, location);
  if (artifact_type == NULL) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "NULL artifact_type");
  }
  *artifact_type = TRITONBACKEND_ARTIFACT_FILESYSTEM;
  *location = model->repository;
  return NULL;
}

/* A new message the caller owns and must delete, as in Triton. */
TRITONSERVER_Error* TRITONBACKEND_ModelConfig(TRITONBACKEND_Model* model,
                                              const uint32_t config_version,
                                              TRITONSERVER_Message** model_config) {
  HOST_CHECK_MODEL(model, model_config);
  if (config_version != 1) {
    return host_error_new(TRITONSERVER_ERROR_UNSUPPORTED,
                          "model configuration version %u not supported, supported versions "
                          "are: 1",
                          config_version);
  }
  pthread_mutex_lock(&model->config_lock);
  TRITONSERVER_Error* error = TRITONSERVER_MessageNewFromSerializedJson(
      model_config, model->config->json, model->config->byte_size);
  pthread_mutex_unlock(&model->config_lock);
  return error;
}

TRITONSERVER_Error* TRITONBACKEND_ModelAutoCompleteConfig(TRITONBACKEND_Model* model,
                                                          bool* auto_complete_config) {
  HOST_CHECK_MODEL(model, auto_complete_config);
  *auto_complete_config = model->auto_complete_config;
  return NULL;
}

/* The caller keeps ownership of model_config; the host copies it. */
TRITONSERVER_Error* TRITONBACKEND_ModelSetConfig(TRITONBACKEND_Model* model,
                                                 const uint32_t config_version,
                                                 TRITONSERVER_Message* model_config) {
  HOST_CHECK_MODEL(model, model_config);
  if (config_version != 1) {
    return host_error_new(TRITONSERVER_ERROR_UNSUPPORTED,
                          "model configuration version %u not supported, supported versions "
                          "are: 1",
                          config_version);
  }
  if (!host_check_magic(model_config, HOST_MAGIC_MESSAGE, "TRITONSERVER_Message")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid message handle");
  }
  TRITONSERVER_Message* copy = NULL;
  TRITONSERVER_Error* error =
      host_message_new(&copy, model_config->json, model_config->byte_size, false);
  if (error != NULL) return error;
  pthread_mutex_lock(&model->config_lock);
  TRITONSERVER_Message* old = model->config;
  model->config = copy;
  pthread_mutex_unlock(&model->config_lock);
  host_message_free(old);
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_ModelServer(TRITONBACKEND_Model* model,
                                              TRITONSERVER_Server** server) {
  HOST_CHECK_MODEL(model, server);
  *server = host_server();
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_ModelBackend(TRITONBACKEND_Model* model,
                                               TRITONBACKEND_Backend** backend) {
  HOST_CHECK_MODEL(model, backend);
  *backend = model->backend;
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_ModelState(TRITONBACKEND_Model* model, void** state) {
  HOST_CHECK_MODEL(model, state);
  *state = model->state;
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_ModelSetState(TRITONBACKEND_Model* model, void* state) {
  if (!host_check_magic(model, HOST_MAGIC_MODEL, "model")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid model handle");
  }
  model->state = state;
  return NULL;
}
