/*
 * auto_complete.c: see auto_complete.h.
 */
#include "auto_complete.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "init_args.h"
#include "log.h"
#include "stub_command.h"

struct tdn_parked_stub {
  char* name; /* a placeholder instance name: "<model>_auto_complete" */
  tdn_stub_command command;
  char* init_json;
  size_t init_json_length;
  tdn_supervisor supervisor;
  pthread_mutex_t lock; /* instances may be created on several threads */
  bool adopted;
};

static void parked_free(tdn_parked_stub* parked)
{
  if (parked == NULL) {
    return;
  }
  if (!parked->adopted) {
    tdn_supervisor_stop(&parked->supervisor);
  }
  tdn_stub_command_free(&parked->command);
  free(parked->init_json);
  free(parked->name);
  pthread_mutex_destroy(&parked->lock);
  free(parked);
}

/* Hands the checked configuration to Triton and re-reads what Triton made
 * of it, and the sandbox that follows from it. */
static TRITONSERVER_Error* apply_config(
    TRITONBACKEND_Model* handle, tdn_model* model, const char* config, size_t length)
{
  TRITONSERVER_Message* message = NULL;
  TDN_RETURN_IF_ERROR_CTX(
      TRITONSERVER_MessageNewFromSerializedJson(&message, config, length),
      "autoCompleteConfig produced a configuration Triton cannot read");
  TRITONSERVER_Error* error = TRITONBACKEND_ModelSetConfig(handle, 1, message);
  TDN_LOG_IF_ERROR(TRITONSERVER_MessageDelete(message), "deleting the completed configuration");
  if (error != NULL) {
    return tdn_error_context(error, "Triton refused the configuration autoCompleteConfig produced");
  }
  TDN_RETURN_IF_ERROR(tdn_model_read_config(handle, model));
  tdn_sandbox sandbox;
  TDN_RETURN_IF_ERROR(tdn_sandbox_evaluate(
      model->backend, model->name, model->repository, model->config_json, &sandbox));
  tdn_sandbox_free(&model->sandbox);
  model->sandbox = sandbox;
  return NULL;
}

TRITONSERVER_Error* tdn_auto_complete(TRITONBACKEND_Model* handle, tdn_model* model)
{
  bool enabled = false;
  TDN_RETURN_IF_ERROR_CTX(
      TRITONBACKEND_ModelAutoCompleteConfig(handle, &enabled),
      "cannot ask whether to auto-complete the configuration");
  if (!enabled) {
    return NULL;
  }
  tdn_parked_stub* parked = calloc(1, sizeof(*parked));
  if (parked == NULL || asprintf(&parked->name, "%s_auto_complete", model->name) < 0) {
    if (parked != NULL) {
      parked->name = NULL;
    }
    free(parked);
    return tdn_error(TRITONSERVER_ERROR_INTERNAL, "out of memory");
  }
  pthread_mutex_init(&parked->lock, NULL);
  const tdn_supervisor_config empty = {0};
  tdn_supervisor_init(&parked->supervisor, &empty);
  TRITONSERVER_Error* error = tdn_stub_command_build(model, parked->name, &parked->command);
  if (error == NULL) {
    error = tdn_init_args_build(
        model, parked->name, TRITONSERVER_INSTANCEGROUPKIND_CPU, 0, true, &parked->init_json,
        &parked->init_json_length);
  }
  if (error == NULL) {
    const tdn_options* options = &model->backend->options;
    const tdn_supervisor_config config = {
        .model_name = model->name,
        .model_directory = model->repository,
        .instance_name = parked->name,
        .init_json = parked->init_json,
        .init_json_length = parked->init_json_length,
        .command = &parked->command,
        .region_prefix = options->shm_region_prefix_name,
        .window_size = options->shm_max_byte_size,
        .initial_arena = options->shm_default_byte_size,
        .growth = options->shm_growth_byte_size,
        .start_timeout_ms = options->stub_timeout_seconds * 1000,
        .execute_timeout_ms = model->sandbox.execute_timeout_ms,
        .auto_complete = true,
    };
    tdn_supervisor_init(&parked->supervisor, &config);
    error = tdn_supervisor_start(&parked->supervisor);
  }
  /* A failure to start says what went wrong in the model's own terms (a
   * syntax or type error, a missing file, a timeout): the stub was loading
   * the model, as it would for an instance; the first instance adopts it. */
  tdn_supervisor* supervisor = &parked->supervisor;
  if (error == NULL && supervisor->proposed_config_length > 0) {
    char* checked = NULL;
    error = tdn_auto_complete_check(
        model->backend, model->repository, model->config_json, supervisor->proposed_config,
        supervisor->proposed_config_length, &checked);
    if (error == NULL) {
      error = apply_config(handle, model, checked, strlen(checked));
    }
    free(checked);
    if (error != NULL) {
      error = tdn_error_context(error, "the configuration the model's autoCompleteConfig proposed");
    }
    if (error == NULL) {
      TDN_LOG_INFO("model '%s': configuration auto-completed by the model", model->name);
    }
  }
  if (error != NULL) {
    parked_free(parked);
    return error;
  }
  model->parked = parked;
  return NULL;
}

bool tdn_auto_complete_adopt(tdn_model* model, tdn_supervisor* into, unsigned* applied_layers)
{
  tdn_parked_stub* parked = model->parked;
  if (parked == NULL) {
    return false;
  }
  pthread_mutex_lock(&parked->lock);
  const bool available = !parked->adopted && parked->supervisor.pid > 0;
  if (available) {
    *into = parked->supervisor;
    /* The layers the running stub really has are those of the command that
     * started it, not of the instance's own, which never ran. */
    *applied_layers = parked->command.layers != NULL ? parked->command.layers->applied : 0;
    parked->adopted = true;
    memset(&parked->supervisor, 0, sizeof(parked->supervisor));
  }
  pthread_mutex_unlock(&parked->lock);
  return available;
}

void tdn_auto_complete_discard(tdn_model* model)
{
  parked_free(model->parked);
  model->parked = NULL;
}
