/*
 * server_metrics.c: TRITONSERVER_ServerMetrics, MetricsFormatted and
 * MetricsDelete: the stand-in server's metrics in Prometheus' text format,
 * as Triton's /metrics shows them: Triton's per-model inference families
 * (nv_inference_request_success, _failure, nv_inference_count, the
 * cumulative durations, the pending requests, the load time), from the
 * statistics model_stats.c keeps, then the backends' custom metrics
 * (metrics_text.c). Triton's GPU, CPU and pinned memory families are left
 * out: the stand-in measures none of them.
 */
#include <stdlib.h>
#include <string.h>

#include "host_core.h"

struct TRITONSERVER_Metrics {
  char* text;
  size_t length;
};

typedef enum host_metric_field {
  HOST_METRIC_SUCCESS = 0,
  HOST_METRIC_FAILURE,
  HOST_METRIC_INFERENCES,
  HOST_METRIC_EXECUTIONS,
  HOST_METRIC_REQUEST_US,
  HOST_METRIC_QUEUE_US,
  HOST_METRIC_INPUT_US,
  HOST_METRIC_INFER_US,
  HOST_METRIC_OUTPUT_US,
  HOST_METRIC_PENDING,
  HOST_METRIC_LOAD_SECONDS,
  HOST_METRIC_FIELD_COUNT
} host_metric_field;

static const struct {
  const char* name;
  const char* type;
  const char* help;
} host_metric_families[HOST_METRIC_FIELD_COUNT] = {
    {"nv_inference_request_success", "counter",
     "Number of successful inference requests, all batch sizes"},
    {"nv_inference_request_failure", "counter",
     "Number of failed inference requests, all batch sizes"},
    {"nv_inference_count", "counter",
     "Number of inferences performed (does not include cached requests)"},
    {"nv_inference_exec_count", "counter",
     "Number of model executions performed (does not include cached requests)"},
    {"nv_inference_request_duration_us", "counter",
     "Cumulative inference request duration in microseconds (includes cached requests)"},
    {"nv_inference_queue_duration_us", "counter",
     "Cumulative inference queuing duration in microseconds (includes cached requests)"},
    {"nv_inference_compute_input_duration_us", "counter",
     "Cumulative compute input duration in microseconds (does not include cached requests)"},
    {"nv_inference_compute_infer_duration_us", "counter",
     "Cumulative compute inference duration in microseconds (does not include cached requests)"},
    {"nv_inference_compute_output_duration_us", "counter",
     "Cumulative inference compute output duration in microseconds (does not include cached "
     "requests)"},
    {"nv_inference_pending_request_count", "gauge",
     "Instantaneous number of pending requests awaiting execution per-model."},
    {"nv_model_load_duration_secs", "gauge", "Model load time in seconds"},
};

/* Triton's failure reasons; the stand-in's failures are all the backend's. */
static const char* const host_failure_reasons[] = {"REJECTED", "CANCELED", "BACKEND", "OTHER"};

static void host_metric_sample(host_text* out, host_metric_field field, const char* model,
                               uint64_t version, host_model_stats* stats) {
  const char* name = host_metric_families[field].name;
  pthread_mutex_lock(&stats->lock);
  switch (field) {
    case HOST_METRIC_FAILURE:
      for (size_t r = 0; r < sizeof host_failure_reasons / sizeof host_failure_reasons[0]; r++) {
        bool backend = strcmp(host_failure_reasons[r], "BACKEND") == 0;
        host_text_printf(out, "%s{model=\"%s\",reason=\"%s\",version=\"%llu\"} %llu\n", name,
                         model, host_failure_reasons[r], (unsigned long long)version,
                         (unsigned long long)(backend ? stats->fail.count : 0));
      }
      break;
    case HOST_METRIC_LOAD_SECONDS:
      host_text_printf(out, "%s{model=\"%s\",version=\"%llu\"} %.16g\n", name, model,
                       (unsigned long long)version, stats->load_seconds);
      break;
    default: {
      uint64_t value = 0;
      switch (field) {
        case HOST_METRIC_SUCCESS: value = stats->success.count; break;
        case HOST_METRIC_INFERENCES: value = stats->inference_count; break;
        case HOST_METRIC_EXECUTIONS: value = stats->execution_count; break;
        case HOST_METRIC_REQUEST_US: value = stats->success.ns / 1000u; break;
        case HOST_METRIC_QUEUE_US: value = stats->queue.ns / 1000u; break;
        case HOST_METRIC_INPUT_US: value = stats->compute_input.ns / 1000u; break;
        case HOST_METRIC_INFER_US: value = stats->compute_infer.ns / 1000u; break;
        case HOST_METRIC_OUTPUT_US: value = stats->compute_output.ns / 1000u; break;
        case HOST_METRIC_PENDING: value = stats->pending; break;
        default: break;
      }
      host_text_printf(out, "%s{model=\"%s\",version=\"%llu\"} %llu\n", name, model,
                       (unsigned long long)version, (unsigned long long)value);
      break;
    }
  }
  pthread_mutex_unlock(&stats->lock);
}

static void host_server_metrics_text(host_text* out) {
  host_served_model* table = host_server_table_lock();
  for (int field = 0; field < HOST_METRIC_FIELD_COUNT; field++) {
    bool any = false;
    for (host_served_model* record = table; record != NULL && !any; record = record->next) {
      for (uint32_t i = 0; i < record->version_count; i++) {
        any = any || record->versions[i].state == HOST_VERSION_READY;
      }
    }
    if (!any) break;
    host_text_printf(out, "# HELP %s %s\n# TYPE %s %s\n", host_metric_families[field].name,
                     host_metric_families[field].help, host_metric_families[field].name,
                     host_metric_families[field].type);
    for (host_served_model* record = table; record != NULL; record = record->next) {
      for (uint32_t i = 0; i < record->version_count; i++) {
        host_served_version* entry = &record->versions[i];
        if (entry->state != HOST_VERSION_READY) continue;
        host_metric_sample(out, (host_metric_field)field, record->name, entry->version,
                           &entry->model->runtime->stats);
      }
    }
  }
  host_server_table_unlock();
}

TRITONSERVER_Error* TRITONSERVER_ServerMetrics(TRITONSERVER_Server* server,
                                               TRITONSERVER_Metrics** metrics) {
  if (!host_server_check(server, "ServerMetrics") || metrics == NULL) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid server handle or out-pointer");
  }
  *metrics = NULL;
  if (!host_server_running()) {
    return host_error_new(TRITONSERVER_ERROR_UNAVAILABLE,
                          "no server: TRITONSERVER_ServerNew made none (or it was deleted)");
  }
  if (!host_server_metrics_enabled()) {
    return host_error_new(TRITONSERVER_ERROR_UNSUPPORTED, "metrics not supported");
  }
  host_text text = {0};
  host_text_append(&text, "", 0);
  host_server_metrics_text(&text);
  host_metrics_text_append(&text);
  TRITONSERVER_Metrics* created = host_alloc(sizeof *created);
  created->text = text.data;
  created->length = text.length;
  *metrics = created;
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_MetricsFormatted(TRITONSERVER_Metrics* metrics,
                                                  TRITONSERVER_MetricFormat format,
                                                  const char** base, size_t* byte_size) {
  if (metrics == NULL || base == NULL || byte_size == NULL) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "NULL metrics or out-pointer");
  }
  if (format != TRITONSERVER_METRIC_PROMETHEUS) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "unknown metrics format %d",
                          (int)format);
  }
  *base = metrics->text;
  *byte_size = metrics->length;
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_MetricsDelete(TRITONSERVER_Metrics* metrics) {
  if (metrics == NULL) return NULL;
  free(metrics->text);
  free(metrics);
  return NULL;
}
