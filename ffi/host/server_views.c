/*
 * server_views.c: the stand-in server's JSON views, shaped as Triton's:
 * TRITONSERVER_ServerModelMetadata, ServerModelConfig,
 * ServerModelStatistics and ServerModelIndex. Each returns a new
 * TRITONSERVER_Message the caller deletes. Versions are strings, as Triton
 * writes them ("1"); errors use Triton's codes and wording.
 */
#include <stdlib.h>
#include <string.h>

#include "host_core.h"

static TRITONSERVER_Error* host_view_server(TRITONSERVER_Server* server, const char* api,
                                            void* out) {
  if (!host_server_check(server, api) || out == NULL) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid server handle or out-pointer");
  }
  if (!host_server_running()) {
    return host_error_new(TRITONSERVER_ERROR_UNAVAILABLE,
                          "no server: TRITONSERVER_ServerNew made none (or it was deleted)");
  }
  return NULL;
}

static TRITONSERVER_Error* host_view_message(host_text* text, TRITONSERVER_Message** message) {
  TRITONSERVER_Error* error = host_message_new(message, text->data, text->length, true);
  host_text_free(text);
  return error;
}

/* ---- Metadata. ---- */

static void host_tensor_metadata(host_text* out, const host_config_tensor* tensors,
                                 uint32_t count, bool batching) {
  host_text_printf(out, "[");
  for (uint32_t i = 0; i < count; i++) {
    const host_config_tensor* tensor = &tensors[i];
    host_text_printf(out, "%s{\"name\":", i > 0 ? "," : "");
    host_text_json_string(out, tensor->name);
    host_text_printf(out, ",\"datatype\":\"%s\",\"shape\":[%s",
                     TRITONSERVER_DataTypeString(tensor->datatype), batching ? "-1" : "");
    for (uint32_t d = 0; d < tensor->rank; d++) {
      host_text_printf(out, "%s%lld", batching || d > 0 ? "," : "", (long long)tensor->dims[d]);
    }
    host_text_printf(out, "]}");
  }
  host_text_printf(out, "]");
}

TRITONSERVER_Error* TRITONSERVER_ServerModelMetadata(TRITONSERVER_Server* server,
                                                     const char* model_name,
                                                     const int64_t model_version,
                                                     TRITONSERVER_Message** model_metadata) {
  TRITONSERVER_Error* error = host_view_server(server, "ServerModelMetadata", model_metadata);
  if (error != NULL) return error;
  if (model_name == NULL) return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "NULL model name");
  host_text text = {0};
  host_served_model* table = host_server_table_lock();
  host_served_version* found = host_server_find_ready(table, model_name, model_version, &error);
  if (found != NULL) {
    const host_model_config* config = &found->model->runtime->config;
    host_text_printf(&text, "{\"name\":");
    host_text_json_string(&text, model_name);
    host_text_printf(&text, ",\"versions\":[");
    host_served_model* record = table;
    while (strcmp(record->name, model_name) != 0) record = record->next;
    bool first = true;
    for (uint32_t i = 0; i < record->version_count; i++) {
      if (record->versions[i].state != HOST_VERSION_READY) continue;
      host_text_printf(&text, "%s\"%llu\"", first ? "" : ",",
                       (unsigned long long)record->versions[i].version);
      first = false;
    }
    host_text_printf(&text, "],\"platform\":");
    host_text_json_string(&text, config->platform[0] != '\0' ? config->platform : config->backend);
    host_text_printf(&text, ",\"inputs\":");
    host_tensor_metadata(&text, config->inputs, config->input_count, config->max_batch_size > 0);
    host_text_printf(&text, ",\"outputs\":");
    host_tensor_metadata(&text, config->outputs, config->output_count,
                         config->max_batch_size > 0);
    host_text_printf(&text, "}");
  }
  host_server_table_unlock();
  if (error != NULL) return error;
  return host_view_message(&text, model_metadata);
}

/* ---- Configuration. ---- */

/* The configuration the model serves with: the registered one,
 * normalized, or what the backend made of it (TRITONBACKEND_ModelSetConfig). */
TRITONSERVER_Error* TRITONSERVER_ServerModelConfig(TRITONSERVER_Server* server,
                                                   const char* model_name,
                                                   const int64_t model_version,
                                                   const uint32_t config_version,
                                                   TRITONSERVER_Message** model_config) {
  TRITONSERVER_Error* error = host_view_server(server, "ServerModelConfig", model_config);
  if (error != NULL) return error;
  if (model_name == NULL) return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "NULL model name");
  if (config_version != 1) {
    return host_error_new(TRITONSERVER_ERROR_UNSUPPORTED,
                          "model configuration version %u not supported, supported versions "
                          "are: 1",
                          config_version);
  }
  host_text text = {0};
  host_served_model* table = host_server_table_lock();
  host_served_version* found = host_server_find_ready(table, model_name, model_version, &error);
  if (found != NULL) {
    TRITONBACKEND_Model* model = found->model;
    pthread_mutex_lock(&model->config_lock);
    host_text_append(&text, model->config->json, model->config->byte_size);
    pthread_mutex_unlock(&model->config_lock);
  }
  host_server_table_unlock();
  if (error != NULL) return error;
  return host_view_message(&text, model_config);
}

/* ---- Statistics. ---- */

TRITONSERVER_Error* TRITONSERVER_ServerModelStatistics(TRITONSERVER_Server* server,
                                                       const char* model_name,
                                                       const int64_t model_version,
                                                       TRITONSERVER_Message** model_stats) {
  TRITONSERVER_Error* error = host_view_server(server, "ServerModelStatistics", model_stats);
  if (error != NULL) return error;
  const char* name = model_name == NULL ? "" : model_name;
  bool all_models = name[0] == '\0';
  host_text text = {0};
  host_text_printf(&text, "{\"model_stats\":[");
  uint32_t written = 0;
  bool model_seen = false;
  host_served_model* table = host_server_table_lock();
  for (host_served_model* record = table; record != NULL; record = record->next) {
    if (!all_models && strcmp(record->name, name) != 0) continue;
    for (uint32_t i = 0; i < record->version_count; i++) {
      host_served_version* entry = &record->versions[i];
      if (entry->state != HOST_VERSION_READY) continue;
      model_seen = true;
      if (!all_models && model_version >= 0 && entry->version != (uint64_t)model_version) continue;
      if (written++ > 0) host_text_printf(&text, ",");
      host_model_stats_json(&text, &entry->model->runtime->stats, record->name, entry->version);
    }
  }
  host_server_table_unlock();
  host_text_printf(&text, "]}");
  if (!all_models && !model_seen) {
    host_text_free(&text);
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "requested model '%s' is not available",
                          name);
  }
  if (!all_models && written == 0) {
    host_text_free(&text);
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                          "requested model version is not available for model '%s'", name);
  }
  return host_view_message(&text, model_stats);
}

/* ---- Repository index. ---- */

static int host_string_order(const void* left, const void* right) {
  return strcmp(*(char* const*)left, *(char* const*)right);
}

/* Every model name of the repositories and of the server's table, sorted
 * and unique (with the table locked). */
static uint32_t host_index_names(const host_served_model* table, char* const* repositories,
                                 uint32_t repository_count, char*** out) {
  char** names = NULL;
  uint32_t count = 0;
  for (uint32_t r = 0; r < repository_count; r++) {
    char** found = NULL;
    uint32_t found_count = host_repository_models(repositories[r], &found);
    names = host_grow(names, sizeof *names * (count + found_count + 1u));
    for (uint32_t i = 0; i < found_count; i++) names[count++] = found[i];
    free(found);
  }
  for (const host_served_model* record = table; record != NULL; record = record->next) {
    names = host_grow(names, sizeof *names * (count + 1u));
    names[count++] = host_strdup(record->name);
  }
  if (count > 1) qsort(names, count, sizeof *names, host_string_order);
  uint32_t unique = 0;
  for (uint32_t i = 0; i < count; i++) {
    if (unique > 0 && strcmp(names[unique - 1], names[i]) == 0) {
      free(names[i]);
    } else {
      names[unique++] = names[i];
    }
  }
  *out = names;
  return unique;
}

static void host_index_entry(host_text* out, bool* first, const char* name,
                             const host_served_version* entry, const char* model_reason) {
  host_text_printf(out, "%s{\"name\":", *first ? "" : ",");
  *first = false;
  host_text_json_string(out, name);
  if (entry != NULL) {
    host_text_printf(out, ",\"version\":\"%llu\",\"state\":\"%s\"",
                     (unsigned long long)entry->version, host_version_state_name(entry->state));
    if (entry->reason != NULL && entry->reason[0] != '\0') {
      host_text_printf(out, ",\"reason\":");
      host_text_json_string(out, entry->reason);
    }
  } else if (model_reason != NULL) {
    host_text_printf(out, ",\"state\":\"UNAVAILABLE\",\"reason\":");
    host_text_json_string(out, model_reason);
  }
  host_text_printf(out, "}");
}

/* Triton's index: every model of the repository, sorted by name; a model
 * the server tried to load has one entry per version with its state (and
 * why it is not ready), one it never tried only its name. */
TRITONSERVER_Error* TRITONSERVER_ServerModelIndex(TRITONSERVER_Server* server, uint32_t flags,
                                                  TRITONSERVER_Message** model_index) {
  TRITONSERVER_Error* error = host_view_server(server, "ServerModelIndex", model_index);
  if (error != NULL) return error;
  bool ready_only = (flags & TRITONSERVER_INDEX_FLAG_READY) != 0;
  TRITONSERVER_ServerOptions* options = host_server_options_snapshot();
  host_text text = {0};
  host_text_printf(&text, "[");
  bool first = true;
  host_served_model* table = host_server_table_lock();
  char** names = NULL;
  uint32_t count = host_index_names(table, options == NULL ? NULL : options->repositories,
                                    options == NULL ? 0 : options->repository_count, &names);
  for (uint32_t n = 0; n < count; n++) {
    const host_served_model* record = table;
    while (record != NULL && strcmp(record->name, names[n]) != 0) record = record->next;
    if (record == NULL || (record->version_count == 0 && record->reason == NULL)) {
      if (!ready_only) host_index_entry(&text, &first, names[n], NULL, NULL);
    } else if (record->version_count == 0) {
      if (!ready_only) host_index_entry(&text, &first, names[n], NULL, record->reason);
    } else {
      for (uint32_t i = 0; i < record->version_count; i++) {
        const host_served_version* entry = &record->versions[i];
        if (ready_only && entry->state != HOST_VERSION_READY) continue;
        host_index_entry(&text, &first, names[n], entry, NULL);
      }
    }
    free(names[n]);
  }
  host_server_table_unlock();
  free(names);
  host_server_options_free(options);
  host_text_printf(&text, "]");
  return host_view_message(&text, model_index);
}
