/*
 * server_options.c: TRITONSERVER_ServerOptions, the settings
 * TRITONSERVER_ServerNew starts the stand-in server with (the
 * tritonserver flags of the same names). Every setting is kept; those the
 * stand-in has no use for (server id, repo agents, strict readiness when
 * nothing is loading) are accepted and stored, as Triton accepts them.
 */
#include <stdlib.h>
#include <string.h>

#include "host_core.h"

#define HOST_CHECK_OPTIONS(options)                                                      \
  do {                                                                                   \
    if ((options) == NULL) {                                                             \
      return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "NULL server options");      \
    }                                                                                    \
  } while (0)

TRITONSERVER_Error* TRITONSERVER_ServerOptionsNew(TRITONSERVER_ServerOptions** options) {
  if (options == NULL) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "NULL options out-pointer");
  }
  TRITONSERVER_ServerOptions* created = host_alloc(sizeof *created);
  /* tritonserver's defaults. */
  created->server_id = host_strdup("triton");
  created->backend_dir = host_strdup("/opt/tritonserver/backends");
  created->repoagent_dir = host_strdup("/opt/tritonserver/repoagents");
  created->control_mode = TRITONSERVER_MODEL_CONTROL_NONE;
  created->strict_model_config = true;
  created->strict_readiness = true;
  created->exit_on_error = true;
  created->exit_timeout_s = 30;
  created->log_info = true;
  created->log_warn = true;
  created->log_error = true;
  created->metrics = true;
  *options = created;
  return NULL;
}

void host_server_options_free(TRITONSERVER_ServerOptions* options) {
  if (options == NULL) return;
  free(options->server_id);
  for (uint32_t i = 0; i < options->repository_count; i++) free(options->repositories[i]);
  free(options->repositories);
  free(options->backend_dir);
  free(options->repoagent_dir);
  for (uint32_t i = 0; i < options->startup_model_count; i++) free(options->startup_models[i]);
  free(options->startup_models);
  free(options->log_file);
  for (uint32_t i = 0; i < options->backend_setting_count; i++) {
    free(options->backend_settings[i].backend);
    free(options->backend_settings[i].key);
    free(options->backend_settings[i].value);
  }
  free(options->backend_settings);
  free(options);
}

TRITONSERVER_Error* TRITONSERVER_ServerOptionsDelete(TRITONSERVER_ServerOptions* options) {
  HOST_CHECK_OPTIONS(options);
  host_server_options_free(options);
  return NULL;
}

static char** host_strings_copy(char* const* strings, uint32_t count) {
  char** copy = host_alloc(sizeof *copy * (count + 1u));
  for (uint32_t i = 0; i < count; i++) copy[i] = host_strdup(strings[i]);
  return copy;
}

TRITONSERVER_ServerOptions* host_server_options_copy(const TRITONSERVER_ServerOptions* options) {
  TRITONSERVER_ServerOptions* copy = host_alloc(sizeof *copy);
  *copy = *options;
  copy->server_id = host_strdup(options->server_id);
  copy->repositories = host_strings_copy(options->repositories, options->repository_count);
  copy->backend_dir = host_strdup(options->backend_dir);
  copy->repoagent_dir = host_strdup(options->repoagent_dir);
  copy->startup_models = host_strings_copy(options->startup_models, options->startup_model_count);
  copy->log_file = options->log_file == NULL ? NULL : host_strdup(options->log_file);
  copy->backend_settings =
      host_alloc(sizeof *copy->backend_settings * (options->backend_setting_count + 1u));
  for (uint32_t i = 0; i < options->backend_setting_count; i++) {
    copy->backend_settings[i].backend = host_strdup(options->backend_settings[i].backend);
    copy->backend_settings[i].key = host_strdup(options->backend_settings[i].key);
    copy->backend_settings[i].value = host_strdup(options->backend_settings[i].value);
  }
  return copy;
}

static void host_replace(char** field, const char* value) {
  free(*field);
  *field = host_strdup(value);
}

TRITONSERVER_Error* TRITONSERVER_ServerOptionsSetServerId(TRITONSERVER_ServerOptions* options,
                                                          const char* server_id) {
  HOST_CHECK_OPTIONS(options);
  host_replace(&options->server_id, server_id);
  return NULL;
}

/* Triton accepts several repositories (the flag repeated). */
TRITONSERVER_Error* TRITONSERVER_ServerOptionsSetModelRepositoryPath(
    TRITONSERVER_ServerOptions* options, const char* model_repository_path) {
  HOST_CHECK_OPTIONS(options);
  if (model_repository_path == NULL) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "NULL model repository path");
  }
  options->repositories = host_grow(options->repositories,
                                    sizeof *options->repositories * (options->repository_count + 1u));
  options->repositories[options->repository_count++] = host_strdup(model_repository_path);
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_ServerOptionsSetModelControlMode(
    TRITONSERVER_ServerOptions* options, TRITONSERVER_ModelControlMode mode) {
  HOST_CHECK_OPTIONS(options);
  if (mode != TRITONSERVER_MODEL_CONTROL_NONE && mode != TRITONSERVER_MODEL_CONTROL_POLL &&
      mode != TRITONSERVER_MODEL_CONTROL_EXPLICIT) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "unknown model control mode %d",
                          (int)mode);
  }
  options->control_mode = mode;
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_ServerOptionsSetStartupModel(TRITONSERVER_ServerOptions* options,
                                                              const char* model_name) {
  HOST_CHECK_OPTIONS(options);
  if (model_name == NULL) return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "NULL model name");
  options->startup_models = host_grow(
      options->startup_models, sizeof *options->startup_models * (options->startup_model_count + 1u));
  options->startup_models[options->startup_model_count++] = host_strdup(model_name);
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_ServerOptionsSetStrictModelConfig(
    TRITONSERVER_ServerOptions* options, bool strict) {
  HOST_CHECK_OPTIONS(options);
  options->strict_model_config = strict;
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_ServerOptionsSetStrictReadiness(
    TRITONSERVER_ServerOptions* options, bool strict) {
  HOST_CHECK_OPTIONS(options);
  options->strict_readiness = strict;
  return NULL;
}

TRITONDENO_EXPORT TRITONSERVER_Error* TRITONSERVER_ServerOptionsSetExitOnError(
    TRITONSERVER_ServerOptions* options, bool exit) {
  HOST_CHECK_OPTIONS(options);
  options->exit_on_error = exit;
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_ServerOptionsSetExitTimeout(TRITONSERVER_ServerOptions* options,
                                                             unsigned int timeout) {
  HOST_CHECK_OPTIONS(options);
  options->exit_timeout_s = timeout;
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_ServerOptionsSetModelLoadRetryCount(
    TRITONSERVER_ServerOptions* options, unsigned int retry_count) {
  HOST_CHECK_OPTIONS(options);
  options->load_retry_count = retry_count;
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_ServerOptionsSetLogFile(TRITONSERVER_ServerOptions* options,
                                                         const char* file) {
  HOST_CHECK_OPTIONS(options);
  free(options->log_file);
  options->log_file = file == NULL || file[0] == '\0' ? NULL : host_strdup(file);
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_ServerOptionsSetLogInfo(TRITONSERVER_ServerOptions* options,
                                                         bool log) {
  HOST_CHECK_OPTIONS(options);
  options->log_info = log;
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_ServerOptionsSetLogWarn(TRITONSERVER_ServerOptions* options,
                                                         bool log) {
  HOST_CHECK_OPTIONS(options);
  options->log_warn = log;
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_ServerOptionsSetLogError(TRITONSERVER_ServerOptions* options,
                                                          bool log) {
  HOST_CHECK_OPTIONS(options);
  options->log_error = log;
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_ServerOptionsSetLogVerbose(TRITONSERVER_ServerOptions* options,
                                                            int level) {
  HOST_CHECK_OPTIONS(options);
  options->log_verbose = level;
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_ServerOptionsSetMetrics(TRITONSERVER_ServerOptions* options,
                                                         bool metrics) {
  HOST_CHECK_OPTIONS(options);
  options->metrics = metrics;
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_ServerOptionsSetBackendDirectory(
    TRITONSERVER_ServerOptions* options, const char* backend_dir) {
  HOST_CHECK_OPTIONS(options);
  if (backend_dir == NULL) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "NULL backend directory");
  }
  host_replace(&options->backend_dir, backend_dir);
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_ServerOptionsSetRepoAgentDirectory(
    TRITONSERVER_ServerOptions* options, const char* repoagent_dir) {
  HOST_CHECK_OPTIONS(options);
  host_replace(&options->repoagent_dir, repoagent_dir);
  return NULL;
}

/* A setting given again for the same backend replaces the earlier one. */
TRITONSERVER_Error* TRITONSERVER_ServerOptionsSetBackendConfig(TRITONSERVER_ServerOptions* options,
                                                               const char* backend_name,
                                                               const char* setting,
                                                               const char* value) {
  HOST_CHECK_OPTIONS(options);
  if (backend_name == NULL || setting == NULL || value == NULL) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                          "backend config needs a backend name, a setting and a value");
  }
  for (uint32_t i = 0; i < options->backend_setting_count; i++) {
    host_backend_setting* existing = &options->backend_settings[i];
    if (strcmp(existing->backend, backend_name) == 0 && strcmp(existing->key, setting) == 0) {
      host_replace(&existing->value, value);
      return NULL;
    }
  }
  options->backend_settings =
      host_grow(options->backend_settings,
                sizeof *options->backend_settings * (options->backend_setting_count + 1u));
  host_backend_setting* added = &options->backend_settings[options->backend_setting_count++];
  added->backend = host_strdup(backend_name);
  added->key = host_strdup(setting);
  added->value = host_strdup(value);
  return NULL;
}

/* Triton's defaults come first, so a backend's own setting of the same
 * name wins (a JSON reader keeps the last). */
char* host_server_options_cmdline(const TRITONSERVER_ServerOptions* options, const char* backend) {
  host_json* cmdline = host_json_new(HOST_JSON_OBJECT);
  host_json_set(cmdline, "backend-directory", host_json_new_string(options->backend_dir));
  host_json_set(cmdline, "min-compute-capability", host_json_new_string("6.000000"));
  host_json_set(cmdline, "default-max-batch-size", host_json_new_string("4"));
  for (uint32_t i = 0; i < options->backend_setting_count; i++) {
    const host_backend_setting* setting = &options->backend_settings[i];
    if (strcmp(setting->backend, backend) != 0) continue;
    host_json_set(cmdline, setting->key, host_json_new_string(setting->value));
  }
  char* text = host_json_to_string(cmdline);
  host_json_free(cmdline);
  return text;
}
