/*
 * metrics.c: custom metrics (TRITONSERVER_MetricFamily, _Metric,
 * _MetricArgs) with the rules of Triton and of the Prometheus client it
 * uses (prometheus-cpp):
 *   - a family name is registered once, with its kind; asking again with
 *     the same kind returns the same family (the first description stays),
 *     with another kind fails; names are never unregistered;
 *   - metrics of one family with the same labels share one series;
 *   - a series disappears when its last metric is deleted, and a family
 *     with no series is not shown;
 *   - counters only grow, only gauges are set, only histograms observe,
 *     and a histogram needs bucket boundaries, in order.
 * The text exposition is in metrics_text.c.
 */
#include <stdlib.h>
#include <string.h>

#include "host_api.h"
#include "host_metrics.h"

pthread_mutex_t host_metrics_lock = PTHREAD_MUTEX_INITIALIZER;
host_family* host_families;

static const char* host_kind_name(TRITONSERVER_MetricKind kind) {
  switch (kind) {
    case TRITONSERVER_METRIC_KIND_COUNTER: return "TRITONSERVER_METRIC_KIND_COUNTER";
    case TRITONSERVER_METRIC_KIND_GAUGE: return "TRITONSERVER_METRIC_KIND_GAUGE";
    case TRITONSERVER_METRIC_KIND_HISTOGRAM: return "TRITONSERVER_METRIC_KIND_HISTOGRAM";
  }
  return "unknown";
}

/* Prometheus' rules for names: [a-zA-Z_:][a-zA-Z0-9_:]*, labels without
 * ':'; names starting with "__" are reserved. */
static bool host_metric_name_valid(const char* name, bool label) {
  if (name == NULL || name[0] == '\0' || (name[0] >= '0' && name[0] <= '9')) return false;
  if (name[0] == '_' && name[1] == '_') return false;
  for (const char* c = name; *c != '\0'; c++) {
    bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '_' || (*c == ':' && !label);
    if (!ok) return false;
  }
  return true;
}

/* ---- Families. ---- */

TRITONSERVER_Error* TRITONSERVER_MetricFamilyNew(TRITONSERVER_MetricFamily** family,
                                                 const TRITONSERVER_MetricKind kind,
                                                 const char* name, const char* description) {
  if (family == NULL || name == NULL) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "NULL family out-pointer or name");
  }
  *family = NULL;
  if (kind != TRITONSERVER_METRIC_KIND_COUNTER && kind != TRITONSERVER_METRIC_KIND_GAUGE &&
      kind != TRITONSERVER_METRIC_KIND_HISTOGRAM) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                          "Unsupported kind passed to MetricFamily constructor.");
  }
  pthread_mutex_lock(&host_metrics_lock);
  host_family* registered = host_families;
  host_family** tail = &host_families;
  while (registered != NULL && strcmp(registered->name, name) != 0) {
    tail = &registered->next;
    registered = registered->next;
  }
  if (registered != NULL && registered->kind != kind) {
    pthread_mutex_unlock(&host_metrics_lock);
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                          "Family name already exists with different type");
  }
  if (registered == NULL) {
    if (!host_metric_name_valid(name, false)) {
      pthread_mutex_unlock(&host_metrics_lock);
      return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "Invalid metric name");
    }
    registered = host_alloc(sizeof *registered);
    registered->name = host_strdup(name);
    registered->help = host_strdup(description);
    registered->kind = kind;
    *tail = registered;
  }
  registered->handles++;
  pthread_mutex_unlock(&host_metrics_lock);
  TRITONSERVER_MetricFamily* created = host_alloc(sizeof *created);
  created->family = registered;
  host_handle_add(HOST_HANDLE_METRIC_FAMILY, created);
  *family = created;
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_MetricFamilyDelete(TRITONSERVER_MetricFamily* family) {
  if (!host_handle_check(HOST_HANDLE_METRIC_FAMILY, family, "MetricFamilyDelete")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid metric family");
  }
  pthread_mutex_lock(&host_metrics_lock);
  uint32_t metrics = family->metrics;
  pthread_mutex_unlock(&host_metrics_lock);
  if (metrics > 0) {
    host_violation_record(HOST_VIOLATION_METRIC_FAMILY_DELETED_WITH_METRICS,
                          "family '%s' still has %u metric(s)", family->family->name, metrics);
    return host_error_new(TRITONSERVER_ERROR_INTERNAL,
                          "Must call MetricDelete on all dependent metrics before calling "
                          "MetricFamilyDelete.");
  }
  if (!host_handle_remove(HOST_HANDLE_METRIC_FAMILY, family, "MetricFamilyDelete")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid metric family");
  }
  pthread_mutex_lock(&host_metrics_lock);
  family->family->handles--;
  pthread_mutex_unlock(&host_metrics_lock);
  free(family);
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_GetMetricFamilyKind(TRITONSERVER_MetricFamily* family,
                                                     TRITONSERVER_MetricKind* kind) {
  if (!host_handle_check(HOST_HANDLE_METRIC_FAMILY, family, "GetMetricFamilyKind") ||
      kind == NULL) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid metric family or out-pointer");
  }
  *kind = family->family->kind;
  return NULL;
}

/* ---- Arguments. ---- */

TRITONSERVER_Error* TRITONSERVER_MetricArgsNew(TRITONSERVER_MetricArgs** args) {
  if (args == NULL) return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "NULL out-pointer");
  *args = host_alloc(sizeof **args);
  host_handle_add(HOST_HANDLE_METRIC_ARGS, *args);
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_MetricArgsSetHistogram(TRITONSERVER_MetricArgs* args,
                                                        const double* buckets,
                                                        const uint64_t buckets_count) {
  if (!host_handle_check(HOST_HANDLE_METRIC_ARGS, args, "MetricArgsSetHistogram")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid metric args");
  }
  if (buckets == NULL && buckets_count > 0) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "NULL bucket boundaries");
  }
  double* copy = host_alloc(sizeof *copy * (buckets_count + 1u));
  if (buckets_count > 0) memcpy(copy, buckets, sizeof *copy * buckets_count);
  free(args->buckets);
  args->kind = TRITONSERVER_METRIC_KIND_HISTOGRAM;
  args->has_kind = true;
  args->buckets = copy;
  args->bucket_count = (uint32_t)buckets_count;
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_MetricArgsDelete(TRITONSERVER_MetricArgs* args) {
  if (args == NULL) return NULL; /* Triton deletes NULL as a no-op */
  if (!host_handle_remove(HOST_HANDLE_METRIC_ARGS, args, "MetricArgsDelete")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid metric args");
  }
  free(args->buckets);
  free(args);
  return NULL;
}

/* ---- Metrics. ---- */

static int host_label_order(const void* left, const void* right) {
  const TRITONSERVER_Parameter* a = *(const TRITONSERVER_Parameter* const*)left;
  const TRITONSERVER_Parameter* b = *(const TRITONSERVER_Parameter* const*)right;
  return strcmp(a->name, b->name);
}

/* Escapes a label value as the text exposition wants it. */
static void host_label_value(host_text* text, const char* value) {
  for (const char* c = value; *c != '\0'; c++) {
    if (*c == '\\') {
      host_text_append(text, "\\\\", 2);
    } else if (*c == '"') {
      host_text_append(text, "\\\"", 2);
    } else if (*c == '\n') {
      host_text_append(text, "\\n", 2);
    } else {
      host_text_append(text, c, 1);
    }
  }
}

/* The series key: labels sorted by name (a map in Triton, so a repeated
 * name keeps its last value), rendered as name="value",... */
static TRITONSERVER_Error* host_labels_key(const TRITONSERVER_Parameter** labels, uint64_t count,
                                           host_text* key) {
  const TRITONSERVER_Parameter** sorted = host_alloc(sizeof *sorted * (count + 1u));
  for (uint64_t i = 0; i < count; i++) {
    if (!host_handle_check(HOST_HANDLE_PARAMETER, labels[i], "MetricNew")) {
      free(sorted);
      return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid label parameter %llu",
                            (unsigned long long)i);
    }
    if (labels[i]->type != TRITONSERVER_PARAMETER_STRING) {
      TRITONSERVER_Error* error = host_error_new(
          TRITONSERVER_ERROR_INVALID_ARG,
          "Parameter [%s] must have a type of TRITONSERVER_PARAMETER_STRING to be added as a "
          "label.",
          labels[i]->name);
      free(sorted);
      return error;
    }
    if (!host_metric_name_valid(labels[i]->name, true)) {
      free(sorted);
      return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "Invalid label name");
    }
    sorted[i] = labels[i];
  }
  /* Stable for equal names, so the last of a repeated name wins below. */
  for (uint64_t i = 1; i < count; i++) {
    for (uint64_t j = i; j > 0 && host_label_order(&sorted[j - 1], &sorted[j]) > 0; j--) {
      const TRITONSERVER_Parameter* swap = sorted[j];
      sorted[j] = sorted[j - 1];
      sorted[j - 1] = swap;
    }
  }
  host_text_append(key, "", 0);
  bool first = true;
  for (uint64_t i = 0; i < count; i++) {
    if (i + 1 < count && strcmp(sorted[i]->name, sorted[i + 1]->name) == 0) continue;
    if (!first) host_text_append(key, ",", 1);
    first = false;
    host_text_printf(key, "%s=\"", sorted[i]->name);
    host_label_value(key, sorted[i]->string_value);
    host_text_append(key, "\"", 1);
  }
  free(sorted);
  return NULL;
}

/* Checks the arguments against the family's kind (Triton's MetricFamily::Add). */
static TRITONSERVER_Error* host_metric_args_check(TRITONSERVER_MetricKind kind,
                                                  const TRITONSERVER_MetricArgs* args) {
  if (kind == TRITONSERVER_METRIC_KIND_HISTOGRAM) {
    if (args == NULL) {
      return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                            "Bucket boundaries not found in Metric args.");
    }
    if (!args->has_kind || args->kind != TRITONSERVER_METRIC_KIND_HISTOGRAM) {
      return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                            "Metric args not set to histogram kind.");
    }
    for (uint32_t i = 1; i < args->bucket_count; i++) {
      if (args->buckets[i] < args->buckets[i - 1]) {
        return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                              "Bucket Boundaries must be strictly sorted");
      }
    }
    return NULL;
  }
  if (args != NULL) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                          "Unexpected args found in %s Metric constructor.",
                          kind == TRITONSERVER_METRIC_KIND_COUNTER ? "counter" : "gauge");
  }
  return NULL;
}

/* The family's series for a key, created if new. Called with the lock held. */
static host_series* host_series_for(host_family* family, const char* key,
                                    const TRITONSERVER_MetricArgs* args) {
  for (host_series* series = family->series; series != NULL; series = series->next) {
    /* An existing series keeps its buckets, as prometheus-cpp does. */
    if (strcmp(series->labels, key) == 0) return series;
  }
  host_series* series = host_alloc(sizeof *series);
  series->labels = host_strdup(key);
  if (family->kind == TRITONSERVER_METRIC_KIND_HISTOGRAM) {
    series->bucket_count = args->bucket_count;
    series->bounds = host_alloc(sizeof *series->bounds * (args->bucket_count + 1u));
    if (args->bucket_count > 0) {
      memcpy(series->bounds, args->buckets, sizeof *series->bounds * args->bucket_count);
    }
    series->counts = host_alloc(sizeof *series->counts * (args->bucket_count + 1u));
  }
  host_series** tail = &family->series;
  while (*tail != NULL) tail = &(*tail)->next;
  *tail = series;
  return series;
}

TRITONSERVER_Error* TRITONSERVER_MetricNewWithArgs(TRITONSERVER_Metric** metric,
                                                   TRITONSERVER_MetricFamily* family,
                                                   const TRITONSERVER_Parameter** labels,
                                                   const uint64_t label_count,
                                                   const TRITONSERVER_MetricArgs* args) {
  if (metric == NULL || (labels == NULL && label_count > 0)) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "NULL metric out-pointer or labels");
  }
  *metric = NULL;
  if (!host_handle_check(HOST_HANDLE_METRIC_FAMILY, family, "MetricNew")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid metric family");
  }
  if (args != NULL && !host_handle_check(HOST_HANDLE_METRIC_ARGS, args, "MetricNewWithArgs")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid metric args");
  }
  host_text key = {0};
  TRITONSERVER_Error* error = host_labels_key(labels, label_count, &key);
  if (error == NULL) error = host_metric_args_check(family->family->kind, args);
  if (error != NULL) {
    host_text_free(&key);
    return error;
  }
  TRITONSERVER_Metric* created = host_alloc(sizeof *created);
  created->handle = family;
  created->kind = family->family->kind;
  pthread_mutex_lock(&host_metrics_lock);
  created->series = host_series_for(family->family, key.data, args);
  created->series->refs++;
  family->metrics++;
  pthread_mutex_unlock(&host_metrics_lock);
  host_text_free(&key);
  host_handle_add(HOST_HANDLE_METRIC, created);
  *metric = created;
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_MetricNew(TRITONSERVER_Metric** metric,
                                           TRITONSERVER_MetricFamily* family,
                                           const TRITONSERVER_Parameter** labels,
                                           const uint64_t label_count) {
  return TRITONSERVER_MetricNewWithArgs(metric, family, labels, label_count, NULL);
}

static void host_series_free(host_series* series) {
  free(series->labels);
  free(series->bounds);
  free(series->counts);
  free(series);
}

TRITONSERVER_Error* TRITONSERVER_MetricDelete(TRITONSERVER_Metric* metric) {
  if (!host_handle_remove(HOST_HANDLE_METRIC, metric, "MetricDelete")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid metric");
  }
  host_series* gone = NULL;
  pthread_mutex_lock(&host_metrics_lock);
  metric->handle->metrics--;
  if (--metric->series->refs == 0) {
    /* The last reference: the series leaves the exposition. */
    host_series** link = &metric->handle->family->series;
    while (*link != metric->series) link = &(*link)->next;
    *link = metric->series->next;
    gone = metric->series;
  }
  pthread_mutex_unlock(&host_metrics_lock);
  if (gone != NULL) host_series_free(gone);
  free(metric);
  return NULL;
}

#define HOST_CHECK_METRIC(metric, api)                                         \
  do {                                                                         \
    if (!host_handle_check(HOST_HANDLE_METRIC, (metric), (api))) {             \
      return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid metric"); \
    }                                                                          \
  } while (0)

static TRITONSERVER_Error* host_metric_unsupported(TRITONSERVER_MetricKind kind,
                                                   const char* operation) {
  return host_error_new(TRITONSERVER_ERROR_UNSUPPORTED, "%s does not support %s",
                        host_kind_name(kind), operation);
}

TRITONSERVER_Error* TRITONSERVER_MetricValue(TRITONSERVER_Metric* metric, double* value) {
  HOST_CHECK_METRIC(metric, "MetricValue");
  if (value == NULL) return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "NULL out-pointer");
  if (metric->kind == TRITONSERVER_METRIC_KIND_HISTOGRAM) {
    return host_metric_unsupported(metric->kind, "Value");
  }
  pthread_mutex_lock(&host_metrics_lock);
  *value = metric->series->value;
  pthread_mutex_unlock(&host_metrics_lock);
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_MetricIncrement(TRITONSERVER_Metric* metric, double value) {
  HOST_CHECK_METRIC(metric, "MetricIncrement");
  if (metric->kind == TRITONSERVER_METRIC_KIND_HISTOGRAM) {
    return host_metric_unsupported(metric->kind, "Increment");
  }
  if (metric->kind == TRITONSERVER_METRIC_KIND_COUNTER && value < 0.0) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                          "TRITONSERVER_METRIC_KIND_COUNTER can only be incremented "
                          "monotonically by non-negative values.");
  }
  pthread_mutex_lock(&host_metrics_lock);
  metric->series->value += value;
  pthread_mutex_unlock(&host_metrics_lock);
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_MetricSet(TRITONSERVER_Metric* metric, double value) {
  HOST_CHECK_METRIC(metric, "MetricSet");
  if (metric->kind != TRITONSERVER_METRIC_KIND_GAUGE) {
    return host_metric_unsupported(metric->kind, "Set");
  }
  pthread_mutex_lock(&host_metrics_lock);
  metric->series->value = value;
  pthread_mutex_unlock(&host_metrics_lock);
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_MetricObserve(TRITONSERVER_Metric* metric, double value) {
  HOST_CHECK_METRIC(metric, "MetricObserve");
  if (metric->kind != TRITONSERVER_METRIC_KIND_HISTOGRAM) {
    return host_metric_unsupported(metric->kind, "Observe");
  }
  pthread_mutex_lock(&host_metrics_lock);
  host_series* series = metric->series;
  /* Bucket i counts observations <= bounds[i]; the last is +Inf. */
  uint32_t bucket = 0;
  while (bucket < series->bucket_count && value > series->bounds[bucket]) bucket++;
  series->counts[bucket]++;
  series->sum += value;
  series->observations++;
  pthread_mutex_unlock(&host_metrics_lock);
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_GetMetricKind(TRITONSERVER_Metric* metric,
                                               TRITONSERVER_MetricKind* kind) {
  HOST_CHECK_METRIC(metric, "GetMetricKind");
  if (kind == NULL) return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "NULL out-pointer");
  *kind = metric->kind;
  return NULL;
}

void host_metrics_reset(void) {
  pthread_mutex_lock(&host_metrics_lock);
  host_family** link = &host_families;
  while (*link != NULL) {
    host_family* family = *link;
    if (family->handles == 0 && family->series == NULL) {
      *link = family->next;
      free(family->name);
      free(family->help);
      free(family);
    } else {
      link = &family->next;
    }
  }
  pthread_mutex_unlock(&host_metrics_lock);
}
