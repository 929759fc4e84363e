/*
 * init_args.c: see init_args.h. Every string goes through the JSON writer's
 * escaping; a string that is not valid UTF-8 (a path, say) fails the load
 * with a message rather than producing JSON the stub cannot parse.
 */
#include "init_args.h"

#include <stdbool.h>
#include <stdio.h>

#include "errors.h"
#include "json_writer.h"
#include "trace.h"

const char* tdn_instance_kind_name(TRITONSERVER_InstanceGroupKind kind)
{
  switch (kind) {
    case TRITONSERVER_INSTANCEGROUPKIND_CPU:
      return "CPU";
    case TRITONSERVER_INSTANCEGROUPKIND_GPU:
      return "GPU";
    case TRITONSERVER_INSTANCEGROUPKIND_MODEL:
      return "MODEL";
    case TRITONSERVER_INSTANCEGROUPKIND_AUTO:
    default:
      return "AUTO";
  }
}

TRITONSERVER_Error* tdn_init_args_build(
    const tdn_model* model, const char* instance_name, TRITONSERVER_InstanceGroupKind kind,
    int32_t device_id, bool auto_complete, char** json, size_t* length)
{
  const tdn_backend* backend = model->backend;
  char version[24];
  char device[16];
  char timeout[24];
  snprintf(version, sizeof(version), "%llu", (unsigned long long)model->version);
  snprintf(device, sizeof(device), "%d", (int)device_id);
  snprintf(
      timeout, sizeof(timeout), "%llu", (unsigned long long)model->sandbox.execute_timeout_ms);

  tdn_json_writer writer = {0};
  tdn_json_raw(&writer, "{");
  tdn_json_string_member(&writer, true, "model_config", model->config_json);
  tdn_json_string_member(&writer, false, "model_name", model->name);
  tdn_json_string_member(&writer, false, "model_version", version);
  tdn_json_string_member(&writer, false, "model_repository", model->repository);
  tdn_json_string_member(&writer, false, "model_instance_name", instance_name);
  tdn_json_string_member(&writer, false, "model_instance_kind", tdn_instance_kind_name(kind));
  tdn_json_string_member(&writer, false, "model_instance_device_id", device);
  /* The sandbox record exactly as the policy evaluator wrote it: the stub
   * gives the model's Worker these permissions. */
  tdn_json_string_member(&writer, false, "sandbox", model->sandbox.record);
  tdn_json_raw(&writer, ",\"backend_options\":{");
  tdn_json_string_member(&writer, true, "deno_path", backend->options.deno_path);
  tdn_json_string_member(&writer, false, "stub_library", backend->stub_library);
  tdn_json_string_member(&writer, false, "runtime_dir", backend->backend_dir);
  tdn_json_string_member(&writer, false, "execute_timeout_ms", timeout);
  if (tdn_tracing()) {
    /* The Worker stamps its hops too (TRACE records). */
    tdn_json_string_member(&writer, false, "trace", "1");
  }
  tdn_json_raw(&writer, "}");
  if (auto_complete) {
    tdn_json_string_member(&writer, false, "auto_complete", "1");
  }
  tdn_json_raw(&writer, "}");

  const char* failure = writer.failure;
  *json = tdn_json_take(&writer, length);
  if (*json == NULL) {
    return tdn_error(
        TRITONSERVER_ERROR_INVALID_ARG, "cannot build the stub's INIT arguments: %s",
        failure != NULL ? failure : "out of memory");
  }
  return NULL;
}

TRITONSERVER_Error* tdn_instance_args_build(
    const tdn_model* model, const char* instance_name, TRITONSERVER_InstanceGroupKind kind,
    int32_t device_id, char** json, size_t* length)
{
  char device[16];
  snprintf(device, sizeof(device), "%d", (int)device_id);
  tdn_json_writer writer = {0};
  tdn_json_raw(&writer, "{");
  tdn_json_string_member(&writer, true, "model_config", model->config_json);
  tdn_json_string_member(&writer, false, "model_instance_name", instance_name);
  tdn_json_string_member(&writer, false, "model_instance_kind", tdn_instance_kind_name(kind));
  tdn_json_string_member(&writer, false, "model_instance_device_id", device);
  tdn_json_raw(&writer, "}");
  const char* failure = writer.failure;
  *json = tdn_json_take(&writer, length);
  if (*json == NULL) {
    return tdn_error(
        TRITONSERVER_ERROR_INVALID_ARG, "cannot build the stub's INSTANCE arguments: %s",
        failure != NULL ? failure : "out of memory");
  }
  return NULL;
}
