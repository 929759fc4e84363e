/*
 * model_config.c: what the stand-in server reads in a model configuration
 * (Triton's JSON form): its tensors, scheduling, control inputs, instance
 * groups and version policy, with Triton's normalization of the parts the
 * stand-in uses.
 *
 * The configuration comes from runtime/core/server.ts, which parses
 * config.pbtxt (see repository.c); the backend may then complete it with
 * TRITONBACKEND_ModelSetConfig, after which it is normalized again.
 */
#include <stdlib.h>
#include <string.h>

#include "host_core.h"

/* Triton's default max_sequence_idle_microseconds. */
#define HOST_DEFAULT_SEQUENCE_IDLE_US 1000000u

/* ---- Reading. ---- */

/* "TYPE_FP32" (or the enum's number) as a TRITONSERVER_DataType: the
 * model configuration's DataType enum has the same numbering. */
static TRITONSERVER_DataType host_config_datatype(const host_json* value) {
  int64_t number = 0;
  if (value != NULL && value->kind == HOST_JSON_NUMBER && host_json_int(value, &number)) {
    return number > 0 && number <= TRITONSERVER_TYPE_BF16 ? (TRITONSERVER_DataType)number
                                                           : TRITONSERVER_TYPE_INVALID;
  }
  const char* name = host_json_string(value);
  if (name == NULL || strncmp(name, "TYPE_", 5) != 0) return TRITONSERVER_TYPE_INVALID;
  if (strcmp(name + 5, "STRING") == 0) return TRITONSERVER_TYPE_BYTES;
  return TRITONSERVER_StringToDataType(name + 5);
}

static TRITONSERVER_Error* host_config_tensors(const host_json* list, const char* what,
                                              const char* model, host_config_tensor** out,
                                              uint32_t* count) {
  uint32_t length = host_json_length(list);
  *count = 0;
  *out = host_alloc(sizeof **out * (length + 1u));
  for (uint32_t i = 0; i < length; i++) {
    const host_json* item = host_json_item(list, i);
    host_config_tensor* tensor = &(*out)[i];
    tensor->name = host_strdup(host_json_member_string(item, "name", ""));
    *count = i + 1;
    if (tensor->name[0] == '\0') {
      return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "model '%s' has an %s without a name",
                            model, what);
    }
    tensor->datatype = host_config_datatype(host_json_member(item, "data_type"));
    if (tensor->datatype == TRITONSERVER_TYPE_INVALID) {
      return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                            "model '%s': %s '%s' has no valid data_type", model, what,
                            tensor->name);
    }
    const host_json* dims = host_json_member(item, "dims");
    tensor->rank = host_json_length(dims);
    tensor->dims = host_alloc(sizeof *tensor->dims * (tensor->rank + 1u));
    for (uint32_t d = 0; d < tensor->rank; d++) {
      if (!host_json_int(host_json_item(dims, d), &tensor->dims[d])) {
        return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                              "model '%s': %s '%s' has a dimension that is not a number", model,
                              what, tensor->name);
      }
    }
    tensor->optional = host_json_bool(host_json_member(item, "optional"), false);
  }
  return NULL;
}

static int host_control_kind_of(const host_json* value) {
  static const char* const names[] = {"CONTROL_SEQUENCE_START", "CONTROL_SEQUENCE_READY",
                                      "CONTROL_SEQUENCE_END", "CONTROL_SEQUENCE_CORRID"};
  /* The proto's numbering: START 0, READY 1, END 2, CORRID 3. */
  static const host_control_kind kinds[] = {HOST_CONTROL_START, HOST_CONTROL_READY,
                                            HOST_CONTROL_END, HOST_CONTROL_CORRID};
  int64_t number = -1;
  const char* name = host_json_string(value);
  if (name == NULL) {
    if (!host_json_int(value, &number)) number = 0; /* absent: the proto default */
  } else {
    for (int i = 0; i < 4; i++) {
      if (strcmp(name, names[i]) == 0) number = i;
    }
  }
  return number >= 0 && number < 4 ? (int)kinds[number] : -1;
}

static TRITONSERVER_Error* host_read_control(const host_json* input, const char* model,
                                             host_config_control* control) {
  control->name = host_strdup(host_json_member_string(input, "name", ""));
  const host_json* controls = host_json_member(input, "control");
  if (control->name[0] == '\0') {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                          "a sequence_batching control input of model '%s' has no name", model);
  }
  if (host_json_length(controls) != 1) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                          "sequence_batching control input '%s' of model '%s' must have exactly "
                          "one control",
                          control->name, model);
  }
  const host_json* spec = host_json_item(controls, 0);
  int kind = host_control_kind_of(host_json_member(spec, "kind"));
  if (kind < 0) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                          "sequence_batching control input '%s' of model '%s' has an unknown kind",
                          control->name, model);
  }
  control->kind = (host_control_kind)kind;
  if (control->kind == HOST_CONTROL_CORRID) {
    control->datatype = host_config_datatype(host_json_member(spec, "data_type"));
    switch (control->datatype) {
      case TRITONSERVER_TYPE_UINT64:
      case TRITONSERVER_TYPE_INT64:
      case TRITONSERVER_TYPE_UINT32:
      case TRITONSERVER_TYPE_INT32:
      case TRITONSERVER_TYPE_BYTES: return NULL;
      default:
        return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                              "sequence_batching control input '%s' of model '%s': "
                              "CONTROL_SEQUENCE_CORRID needs data_type TYPE_UINT64, TYPE_INT64, "
                              "TYPE_UINT32, TYPE_INT32 or TYPE_STRING",
                              control->name, model);
    }
  }
  const host_json* int32s = host_json_member(spec, "int32_false_true");
  const host_json* fp32s = host_json_member(spec, "fp32_false_true");
  const host_json* bools = host_json_member(spec, "bool_false_true");
  const host_json* pair = NULL;
  uint32_t given = 0;
  if (host_json_length(int32s) > 0) {
    given++;
    pair = int32s;
    control->datatype = TRITONSERVER_TYPE_INT32;
  }
  if (host_json_length(fp32s) > 0) {
    given++;
    pair = fp32s;
    control->datatype = TRITONSERVER_TYPE_FP32;
  }
  if (host_json_length(bools) > 0) {
    given++;
    pair = bools;
    control->datatype = TRITONSERVER_TYPE_BOOL;
  }
  if (given != 1 || host_json_length(pair) != 2) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                          "sequence_batching control input '%s' of model '%s' needs exactly one "
                          "of int32_false_true, fp32_false_true, bool_false_true, with 2 values",
                          control->name, model);
  }
  for (uint32_t v = 0; v < 2; v++) {
    const host_json* item = host_json_item(pair, v);
    if (control->datatype == TRITONSERVER_TYPE_BOOL) {
      control->values[v][0] = host_json_bool(item, false) ? 1 : 0;
      control->value_size = 1;
    } else if (control->datatype == TRITONSERVER_TYPE_INT32) {
      int64_t number = 0;
      host_json_int(item, &number);
      int32_t value = (int32_t)number;
      memcpy(control->values[v], &value, 4);
      control->value_size = 4;
    } else {
      float value = item != NULL && item->kind == HOST_JSON_NUMBER ? strtof(item->text, NULL) : 0;
      memcpy(control->values[v], &value, 4);
      control->value_size = 4;
    }
  }
  return NULL;
}

static TRITONSERVER_Error* host_config_sequence(const host_json* sequencing, const char* model,
                                                host_model_config* out) {
  if (host_json_member(sequencing, "oldest") != NULL) {
    return host_error_new(TRITONSERVER_ERROR_UNSUPPORTED,
                          "model '%s': the stand-in core's sequence batcher has only the direct "
                          "strategy (sequence_batching.oldest is Triton's only)",
                          model);
  }
  if (host_json_length(host_json_member(sequencing, "state")) > 0 ||
      host_json_bool(host_json_member(sequencing, "iterative_sequence"), false)) {
    return host_error_new(TRITONSERVER_ERROR_UNSUPPORTED,
                          "model '%s': implicit state and iterative sequences are Triton's only, "
                          "the stand-in core has neither",
                          model);
  }
  int64_t idle = host_json_member_int(sequencing, "max_sequence_idle_microseconds", 0);
  out->max_sequence_idle_us = idle > 0 ? (uint64_t)idle : HOST_DEFAULT_SEQUENCE_IDLE_US;
  const host_json* direct = host_json_member(sequencing, "direct");
  int64_t delay = host_json_member_int(direct, "max_queue_delay_microseconds", 0);
  out->max_queue_delay_us = delay > 0 ? (uint64_t)delay : 0;
  const host_json* inputs = host_json_member(sequencing, "control_input");
  uint32_t count = host_json_length(inputs);
  out->controls = host_alloc(sizeof *out->controls * (count + 1u));
  for (uint32_t i = 0; i < count; i++) {
    out->control_count = i + 1;
    TRITONSERVER_Error* error =
        host_read_control(host_json_item(inputs, i), model, &out->controls[i]);
    if (error != NULL) return error;
    for (uint32_t j = 0; j < i; j++) {
      if (out->controls[j].kind == out->controls[i].kind) {
        return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                              "model '%s' has more than one control of the kind of '%s'", model,
                              out->controls[i].name);
      }
    }
  }
  return NULL;
}

const char* host_model_config_backend(const host_json* config) {
  const char* backend = host_json_member_string(config, "backend", "");
  if (backend[0] != '\0') return backend;
  static const char* const platforms[][2] = {
      {"tensorflow_graphdef", "tensorflow"}, {"tensorflow_savedmodel", "tensorflow"},
      {"onnxruntime_onnx", "onnxruntime"},   {"pytorch_libtorch", "pytorch"},
      {"tensorrt_plan", "tensorrt"},
  };
  const char* platform = host_json_member_string(config, "platform", "");
  for (size_t i = 0; i < sizeof platforms / sizeof platforms[0]; i++) {
    if (strcmp(platform, platforms[i][0]) == 0) return platforms[i][1];
  }
  return NULL;
}

TRITONSERVER_Error* host_model_config_read(const host_json* config, host_model_config* out) {
  memset(out, 0, sizeof *out);
  if (config == NULL || config->kind != HOST_JSON_OBJECT) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "a model configuration must be an object");
  }
  out->name = host_strdup(host_json_member_string(config, "name", ""));
  const char* model = out->name;
  out->platform = host_strdup(host_json_member_string(config, "platform", ""));
  const char* backend = host_model_config_backend(config);
  out->backend = host_strdup(backend);
  if (host_json_member(config, "ensemble_scheduling") != NULL ||
      strcmp(out->platform, "ensemble") == 0) {
    return host_error_new(TRITONSERVER_ERROR_UNSUPPORTED,
                          "model '%s': ensembles are Triton's only, the stand-in core does not "
                          "schedule them",
                          model);
  }
  out->max_batch_size = host_json_member_int(config, "max_batch_size", 0);
  if (out->max_batch_size < 0) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                          "model '%s': max_batch_size must be non-negative", model);
  }
  out->decoupled = host_json_bool(
      host_json_member(host_json_member(config, "model_transaction_policy"), "decoupled"), false);
  TRITONSERVER_Error* error = host_config_tensors(host_json_member(config, "input"), "input",
                                                  model, &out->inputs, &out->input_count);
  if (error == NULL) {
    error = host_config_tensors(host_json_member(config, "output"), "output", model,
                                &out->outputs, &out->output_count);
  }
  if (error != NULL) return error;

  const host_json* sequencing = host_json_member(config, "sequence_batching");
  const host_json* dynamic = host_json_member(config, "dynamic_batching");
  if (sequencing != NULL) {
    out->schedule = HOST_SCHEDULE_SEQUENCE;
    error = host_config_sequence(sequencing, model, out);
    if (error != NULL) return error;
  } else if (dynamic != NULL && out->max_batch_size > 0) {
    out->schedule = HOST_SCHEDULE_DYNAMIC;
    const host_json* preferred = host_json_member(dynamic, "preferred_batch_size");
    uint32_t count = host_json_length(preferred);
    out->preferred_batch_sizes = host_alloc(sizeof *out->preferred_batch_sizes * (count + 1u));
    for (uint32_t i = 0; i < count; i++) {
      int64_t size = 0;
      if (host_json_int(host_json_item(preferred, i), &size) && size > 0) {
        out->preferred_batch_sizes[out->preferred_count++] = size;
      }
    }
    int64_t delay = host_json_member_int(dynamic, "max_queue_delay_microseconds", 0);
    out->max_queue_delay_us = delay > 0 ? (uint64_t)delay : 0;
  }

  const host_json* groups = host_json_member(config, "instance_group");
  out->group_count = host_json_length(groups);
  out->groups = host_alloc(sizeof *out->groups * (out->group_count + 1u));
  for (uint32_t i = 0; i < out->group_count; i++) {
    const host_json* group = host_json_item(groups, i);
    out->groups[i].name = host_strdup(host_json_member_string(group, "name", ""));
    int64_t count = host_json_member_int(group, "count", 1);
    out->groups[i].count = count < 1 ? 1u : (uint32_t)count;
  }
  return NULL;
}

static void host_config_tensors_free(host_config_tensor* tensors, uint32_t count) {
  for (uint32_t i = 0; i < count; i++) {
    free(tensors[i].name);
    free(tensors[i].dims);
  }
  free(tensors);
}

void host_model_config_free(host_model_config* config) {
  free(config->name);
  free(config->backend);
  free(config->platform);
  host_config_tensors_free(config->inputs, config->input_count);
  host_config_tensors_free(config->outputs, config->output_count);
  free(config->preferred_batch_sizes);
  for (uint32_t i = 0; i < config->control_count; i++) free(config->controls[i].name);
  free(config->controls);
  for (uint32_t i = 0; i < config->group_count; i++) free(config->groups[i].name);
  free(config->groups);
  memset(config, 0, sizeof *config);
}

/* ---- Normalization. ---- */

static host_json* host_new_instance_group(const char* name) {
  host_json* group = host_json_new(HOST_JSON_OBJECT);
  host_json_set(group, "name", host_json_new_string(name));
  host_json_set(group, "kind", host_json_new_string("KIND_CPU"));
  host_json_set(group, "count", host_json_new_int(1));
  host_json_set(group, "gpus", host_json_new(HOST_JSON_ARRAY));
  host_json_set(group, "secondary_devices", host_json_new(HOST_JSON_ARRAY));
  host_json_set(group, "profile", host_json_new(HOST_JSON_ARRAY));
  host_json_set(group, "passive", host_json_new(HOST_JSON_FALSE));
  host_json_set(group, "host_policy", host_json_new_string(""));
  return group;
}

/* Triton's defaults for what a configuration leaves out: the version
 * policy, the optimization settings, and the dynamic batcher's settings
 * (its preferred batch size is max_batch_size unless given). */
static void host_config_defaults(host_json* config) {
  if (host_json_member(config, "version_policy") == NULL) {
    host_json* latest = host_json_new(HOST_JSON_OBJECT);
    host_json_set(latest, "num_versions", host_json_new_int(1));
    host_json* policy = host_json_new(HOST_JSON_OBJECT);
    host_json_set(policy, "latest", latest);
    host_json_set(config, "version_policy", policy);
  }
  if (host_json_member(config, "optimization") == NULL) {
    host_json* optimization = host_json_new(HOST_JSON_OBJECT);
    host_json_set(optimization, "priority", host_json_new_string("PRIORITY_DEFAULT"));
    host_json* pinned_in = host_json_new(HOST_JSON_OBJECT);
    host_json_set(pinned_in, "enable", host_json_new(HOST_JSON_TRUE));
    host_json_set(optimization, "input_pinned_memory", pinned_in);
    host_json* pinned_out = host_json_new(HOST_JSON_OBJECT);
    host_json_set(pinned_out, "enable", host_json_new(HOST_JSON_TRUE));
    host_json_set(optimization, "output_pinned_memory", pinned_out);
    host_json_set(optimization, "gather_kernel_buffer_threshold", host_json_new_int(0));
    host_json_set(optimization, "eager_batching", host_json_new(HOST_JSON_FALSE));
    host_json_set(config, "optimization", optimization);
  }
  host_json* dynamic = host_json_member(config, "dynamic_batching");
  if (dynamic != NULL && dynamic->kind == HOST_JSON_OBJECT) {
    int64_t max_batch_size = host_json_member_int(config, "max_batch_size", 0);
    if (host_json_length(host_json_member(dynamic, "preferred_batch_size")) == 0) {
      host_json* preferred = host_json_new(HOST_JSON_ARRAY);
      if (max_batch_size > 0) host_json_push(preferred, host_json_new_int(max_batch_size));
      host_json_set(dynamic, "preferred_batch_size", preferred);
    }
    static const char* const zeros[] = {"max_queue_delay_microseconds", "priority_levels",
                                        "default_priority_level"};
    for (size_t i = 0; i < sizeof zeros / sizeof zeros[0]; i++) {
      if (host_json_member(dynamic, zeros[i]) == NULL) {
        host_json_set(dynamic, zeros[i], host_json_new_int(0));
      }
    }
    if (host_json_member(dynamic, "preserve_ordering") == NULL) {
      host_json_set(dynamic, "preserve_ordering", host_json_new(HOST_JSON_FALSE));
    }
    if (host_json_member(dynamic, "priority_queue_policy") == NULL) {
      host_json_set(dynamic, "priority_queue_policy", host_json_new(HOST_JSON_OBJECT));
    }
  }
}

TRITONSERVER_Error* host_model_config_normalize(host_json* config, const char* model_name) {
  if (config == NULL || config->kind != HOST_JSON_OBJECT) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "a model configuration must be an object");
  }
  if (host_json_member_string(config, "name", "")[0] == '\0') {
    host_json_set(config, "name", host_json_new_string(model_name));
  }
  host_config_defaults(config);
  const char* name = host_json_member_string(config, "name", model_name);
  host_json* groups = host_json_member(config, "instance_group");
  if (host_json_length(groups) == 0) {
    host_json* list = host_json_new(HOST_JSON_ARRAY);
    host_json_push(list, host_new_instance_group(name));
    host_json_set(config, "instance_group", list);
    return NULL;
  }
  for (uint32_t i = 0; i < groups->count; i++) {
    host_json* group = groups->items[i];
    if (group->kind != HOST_JSON_OBJECT) {
      return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                            "instance group %u of model '%s' is not an object", i, name);
    }
    if (host_json_member_string(group, "name", "")[0] == '\0') {
      host_text group_name = {0};
      host_text_printf(&group_name, "%s_%u", name, i);
      host_json_set(group, "name", host_json_new_string(group_name.data));
      host_text_free(&group_name);
    }
    const char* kind = host_json_member_string(group, "kind", "KIND_AUTO");
    int64_t kind_number = -1;
    if (host_json_int(host_json_member(group, "kind"), &kind_number)) {
      kind = kind_number == 1 ? "KIND_GPU" : "KIND_CPU";
    }
    if (strcmp(kind, "KIND_GPU") == 0) {
      return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                            "instance group %s of model %s has kind KIND_GPU but the stand-in "
                            "core has no GPUs",
                            host_json_member_string(group, "name", ""), name);
    }
    if (strcmp(kind, "KIND_AUTO") == 0 || kind_number >= 0) {
      host_json_set(group, "kind", host_json_new_string("KIND_CPU"));
    }
    if (host_json_member_int(group, "count", 0) < 1) {
      host_json_set(group, "count", host_json_new_int(1));
    }
  }
  return NULL;
}

/* ---- Versions. ---- */

static bool host_version_listed(const host_json* list, uint64_t version) {
  for (uint32_t i = 0; i < host_json_length(list); i++) {
    int64_t listed = 0;
    if (host_json_int(host_json_item(list, i), &listed) && listed >= 0 &&
        (uint64_t)listed == version) {
      return true;
    }
  }
  return false;
}

uint32_t host_model_config_versions(const host_json* config, const uint64_t* available,
                                    uint32_t available_count, uint64_t** selected) {
  *selected = host_alloc(sizeof **selected * (available_count + 1u));
  const host_json* policy = host_json_member(config, "version_policy");
  uint32_t count = 0;
  if (host_json_member(policy, "all") != NULL) {
    for (uint32_t i = 0; i < available_count; i++) (*selected)[count++] = available[i];
    return count;
  }
  const host_json* specific = host_json_member(policy, "specific");
  if (specific != NULL) {
    const host_json* versions = host_json_member(specific, "versions");
    for (uint32_t i = 0; i < available_count; i++) {
      if (host_version_listed(versions, available[i])) (*selected)[count++] = available[i];
    }
    return count;
  }
  int64_t latest = host_json_member_int(host_json_member(policy, "latest"), "num_versions", 1);
  if (latest < 1) latest = 1;
  uint32_t first = available_count > (uint64_t)latest ? available_count - (uint32_t)latest : 0;
  for (uint32_t i = first; i < available_count; i++) (*selected)[count++] = available[i];
  return count;
}
