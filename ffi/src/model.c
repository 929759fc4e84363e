/*
 * model.c: the per-model entry points. A model holds no process of its
 * own: each instance runs its own stub (instance.c). The model only
 * gathers what every instance's INIT arguments share.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auto_complete.h"
#include "errors.h"
#include "log.h"
#include "model.h"
#include "supervisor.h"
#include "triton_api.h"

static void model_free(tdn_model* model)
{
  if (model == NULL) {
    return;
  }
  tdn_auto_complete_discard(model);
  tdn_metrics_model_free(model->metrics);
  if (model->siblings != NULL) {
    if (model->siblings->woken_total > 0) {
      TDN_LOG_INFO(
          "model '%s': woke the stub of its next instance early %llu times, %llu of them in time",
          model->name, (unsigned long long)model->siblings->woken_total,
          (unsigned long long)model->siblings->hits_total);
    }
    tdn_siblings_destroy(model->siblings);
    free(model->siblings);
  }
  free(model->name);
  free(model->repository);
  free(model->config_json);
  tdn_sandbox_free(&model->sandbox);
  for (size_t i = 0; i < model->env_count; ++i) {
    free(model->env_pairs[i]);
  }
  free(model->env_pairs);
  free(model);
}

TRITONSERVER_Error* tdn_model_read_config(TRITONBACKEND_Model* handle, tdn_model* model)
{
  free(model->config_json);
  model->config_json = NULL;
  TRITONSERVER_Message* message = NULL;
  TDN_RETURN_IF_ERROR_CTX(
      TRITONBACKEND_ModelConfig(handle, 1, &message), "cannot read the model configuration");
  const char* json = NULL;
  size_t length = 0;
  TRITONSERVER_Error* error = TRITONSERVER_MessageSerializeToJson(message, &json, &length);
  if (error != NULL) {
    error = tdn_error_context(error, "cannot serialize the model configuration");
  } else if ((model->config_json = strndup(json, length)) == NULL) {
    error = tdn_error(TRITONSERVER_ERROR_INTERNAL, "out of memory");
  }
  /* ModelConfig's message is ours to delete. */
  TDN_LOG_IF_ERROR(TRITONSERVER_MessageDelete(message), "deleting the model configuration");
  return error;
}

static TRITONSERVER_Error* read_identity(TRITONBACKEND_Model* handle, tdn_model* model)
{
  const char* name = NULL;
  TDN_RETURN_IF_ERROR_CTX(TRITONBACKEND_ModelName(handle, &name), "cannot read the model name");
  if ((model->name = strdup(name)) == NULL) {
    return tdn_error(TRITONSERVER_ERROR_INTERNAL, "out of memory");
  }
  TDN_RETURN_IF_ERROR_CTX(
      TRITONBACKEND_ModelVersion(handle, &model->version), "cannot read the model version");
  TRITONBACKEND_ArtifactType artifact_type;
  const char* repository = NULL;
  TDN_RETURN_IF_ERROR_CTX(
      TRITONBACKEND_ModelRepository(handle, &artifact_type, &repository),
      "cannot read the model repository path");
  if (artifact_type != TRITONBACKEND_ARTIFACT_FILESYSTEM || repository == NULL) {
    return tdn_error(
        TRITONSERVER_ERROR_UNSUPPORTED, "the model repository must be on a filesystem");
  }
  if (repository[0] != '/' || strchr(repository, ',') != NULL) {
    return tdn_error(
        TRITONSERVER_ERROR_INVALID_ARG,
        "the model directory '%s' must be an absolute path without commas (the stub's "
        "--allow-read list cannot express commas)",
        repository);
  }
  if ((model->repository = strdup(repository)) == NULL) {
    return tdn_error(TRITONSERVER_ERROR_INTERNAL, "out of memory");
  }
  return NULL;
}

/* The granted variables' values, read once from Triton's environment: a
 * variable Triton does not have stays unset for the model too. */
static TRITONSERVER_Error* capture_environment(tdn_model* model)
{
  const char* names = model->sandbox.env;
  size_t count = names[0] == '\0' ? 0 : 1;
  for (const char* c = names; *c != '\0'; ++c) {
    count += *c == ',';
  }
  model->env_pairs = calloc(count > 0 ? count : 1, sizeof(char*));
  char* copy = strdup(names);
  if (model->env_pairs == NULL || copy == NULL) {
    free(copy);
    return tdn_error(TRITONSERVER_ERROR_INTERNAL, "out of memory");
  }
  char* save = NULL;
  for (char* name = strtok_r(copy, ",", &save); name != NULL; name = strtok_r(NULL, ",", &save)) {
    const char* value = getenv(name);
    if (value == NULL || !tdn_sandbox_env_name_ok(name)) {
      continue;
    }
    if (asprintf(&model->env_pairs[model->env_count], "%s=%s", name, value) < 0) {
      model->env_pairs[model->env_count] = NULL;
      free(copy);
      return tdn_error(TRITONSERVER_ERROR_INTERNAL, "out of memory");
    }
    model->env_count++;
  }
  free(copy);
  return NULL;
}

static TRITONSERVER_Error* model_create(TRITONBACKEND_Model* handle, tdn_model** created)
{
  tdn_model* model = calloc(1, sizeof(*model));
  if (model == NULL) {
    return tdn_error(TRITONSERVER_ERROR_INTERNAL, "out of memory");
  }
  TRITONBACKEND_Backend* backend_handle = NULL;
  void* backend_state = NULL;
  TRITONSERVER_Error* error = TRITONBACKEND_ModelBackend(handle, &backend_handle);
  if (error == NULL) {
    error = TRITONBACKEND_BackendState(backend_handle, &backend_state);
  }
  if (error != NULL) {
    error = tdn_error_context(error, "cannot reach the deno backend's state");
  }
  model->backend = backend_state;
  if (error == NULL) {
    error = read_identity(handle, model);
  }
  if (error == NULL) {
    error = tdn_model_read_config(handle, model);
  }
  if (error == NULL) {
    error = tdn_sandbox_evaluate(
        model->backend, model->name, model->repository, model->config_json, &model->sandbox);
  }
  if (error == NULL) {
    error = capture_environment(model);
  }
  if (error == NULL && (model->metrics = tdn_metrics_model_new(model->name)) == NULL) {
    error = tdn_error(TRITONSERVER_ERROR_INTERNAL, "out of memory");
  }
  if (error == NULL && (model->siblings = malloc(sizeof(*model->siblings))) == NULL) {
    error = tdn_error(TRITONSERVER_ERROR_INTERNAL, "out of memory");
  }
  if (error == NULL) {
    tdn_siblings_init(model->siblings, tdn_supervisor_prewake, tdn_supervisor_call_off_prewake);
  }
  if (error == NULL) {
    error = tdn_auto_complete(handle, model);
  }
  if (error != NULL) {
    model_free(model);
    return error;
  }
  *created = model;
  return NULL;
}

const char* tdn_model_directory_of(TRITONBACKEND_Model* handle)
{
  TRITONBACKEND_ArtifactType artifact_type;
  const char* repository = NULL;
  TRITONSERVER_Error* error = TRITONBACKEND_ModelRepository(handle, &artifact_type, &repository);
  if (error != NULL) {
    TRITONSERVER_ErrorDelete(error);
    return NULL;
  }
  return repository;
}

/* Triton calls this when it loads a model version served by this backend,
 * before any of the model's instances. The tdn_model it creates is owned by
 * the model handle until TRITONBACKEND_ModelFinalize. */
TRITONSERVER_Error* TRITONBACKEND_ModelInitialize(TRITONBACKEND_Model* handle)
{
  tdn_model* model = NULL;
  TRITONSERVER_Error* error = model_create(handle, &model);
  if (error != NULL) {
    const char* name = NULL;
    TRITONSERVER_Error* name_error = TRITONBACKEND_ModelName(handle, &name);
    if (name_error != NULL) {
      TRITONSERVER_ErrorDelete(name_error);
    }
    if (name_error != NULL || name == NULL) {
      name = "?";
    }
    /* Clients see the load error (Triton's repository index, a load
     * request's answer): no server path in it; the log has them. */
    return tdn_error_for_client(
        tdn_error_context(error, "model '%s'", name), tdn_model_directory_of(handle),
        "the model failed to load (the full error)");
  }
  error = TRITONBACKEND_ModelSetState(handle, model);
  if (error != NULL) {
    const char* name_copy = model->name;
    error = tdn_error_context(error, "model '%s': cannot store the model state", name_copy);
    model_free(model);
    return error;
  }
  const tdn_sandbox* sandbox = &model->sandbox;
  TDN_LOG_INFO(
      "TRITONBACKEND_ModelInitialize: %s (version %llu, directory %s); sandbox%s: read [%s] "
      "write [%s] net [%s] env [%s] sys [%s] gpu %s, heap %llu MiB, memory %llu MiB, execute "
      "timeout %llu ms, stream idle timeout %llu ms, output %llu bytes",
      model->name, (unsigned long long)model->version, model->repository,
      sandbox->reused ? " (as evaluated before for the same request)" : "", sandbox->read,
      sandbox->write, sandbox->net, sandbox->env, sandbox->sys, sandbox->gpu ? "on" : "off",
      (unsigned long long)sandbox->heap_mb, (unsigned long long)sandbox->memory_mb,
      (unsigned long long)sandbox->execute_timeout_ms,
      (unsigned long long)sandbox->stream_idle_timeout_ms,
      (unsigned long long)sandbox->max_output_bytes);
  return NULL;
}

/* Triton calls this when it unloads the model, after every instance of it
 * has been finalized. It frees the tdn_model. */
TRITONSERVER_Error* TRITONBACKEND_ModelFinalize(TRITONBACKEND_Model* handle)
{
  void* state = NULL;
  TDN_RETURN_IF_ERROR_CTX(TRITONBACKEND_ModelState(handle, &state), "cannot read the model state");
  tdn_model* model = state;
  if (model != NULL) {
    TDN_LOG_INFO("TRITONBACKEND_ModelFinalize: %s", model->name);
  }
  model_free(model);
  return NULL;
}
