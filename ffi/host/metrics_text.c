/*
 * metrics_text.c: the custom metrics in Prometheus' text exposition
 * format, as Triton's /metrics endpoint shows them (prometheus-cpp's
 * serializer): counters, then gauges, then histograms, each family in
 * registration order with its HELP and TYPE lines; families without a
 * series are left out. Values have 16 significant digits; a histogram
 * gives _count, _sum and cumulative _bucket lines ending with le="+Inf".
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "host_api.h"
#include "host_core.h"
#include "host_metrics.h"

static void host_exposition_value(host_text* text, double value) {
  if (isnan(value)) {
    host_text_append(text, "Nan", 3);
  } else if (isinf(value)) {
    host_text_printf(text, "%s", value < 0 ? "-Inf" : "+Inf");
  } else {
    host_text_printf(text, "%.16g", value);
  }
}

/* HELP text escapes backslash and newline. */
static void host_exposition_help(host_text* text, const char* help) {
  for (const char* c = help; *c != '\0'; c++) {
    if (*c == '\\') {
      host_text_append(text, "\\\\", 2);
    } else if (*c == '\n') {
      host_text_append(text, "\\n", 2);
    } else {
      host_text_append(text, c, 1);
    }
  }
}

/* name{labels[,extra]}, without braces when both are empty. */
static void host_exposition_series(host_text* text, const char* name, const char* suffix,
                                   const char* labels, const char* extra) {
  host_text_printf(text, "%s%s", name, suffix);
  bool has_labels = labels[0] != '\0';
  if (!has_labels && extra == NULL) {
    host_text_append(text, " ", 1);
    return;
  }
  host_text_printf(text, "{%s%s%s} ", labels, has_labels && extra != NULL ? "," : "",
                   extra == NULL ? "" : extra);
}

static int host_series_order(const void* left, const void* right) {
  const host_series* a = *(const host_series* const*)left;
  const host_series* b = *(const host_series* const*)right;
  return strcmp(a->labels, b->labels);
}

static void host_exposition_family(host_text* text, const host_family* family) {
  uint32_t count = 0;
  for (const host_series* series = family->series; series != NULL; series = series->next) count++;
  if (count == 0) return;
  const host_series** sorted = host_alloc(sizeof *sorted * count);
  count = 0;
  for (const host_series* series = family->series; series != NULL; series = series->next) {
    sorted[count++] = series;
  }
  qsort(sorted, count, sizeof *sorted, host_series_order);

  static const char* const type_names[] = {"counter", "gauge", "histogram"};
  host_text_printf(text, "# HELP %s ", family->name);
  host_exposition_help(text, family->help);
  host_text_printf(text, "\n# TYPE %s %s\n", family->name, type_names[family->kind]);
  for (uint32_t i = 0; i < count; i++) {
    const host_series* series = sorted[i];
    if (family->kind != TRITONSERVER_METRIC_KIND_HISTOGRAM) {
      host_exposition_series(text, family->name, "", series->labels, NULL);
      host_exposition_value(text, series->value);
      host_text_append(text, "\n", 1);
      continue;
    }
    host_exposition_series(text, family->name, "_count", series->labels, NULL);
    host_text_printf(text, "%llu\n", (unsigned long long)series->observations);
    host_exposition_series(text, family->name, "_sum", series->labels, NULL);
    host_exposition_value(text, series->sum);
    host_text_append(text, "\n", 1);
    uint64_t cumulative = 0;
    for (uint32_t b = 0; b <= series->bucket_count; b++) {
      cumulative += series->counts[b];
      host_text le = {0};
      host_text_append(&le, "le=\"", 4);
      if (b < series->bucket_count) {
        host_exposition_value(&le, series->bounds[b]);
      } else {
        host_text_append(&le, "+Inf", 4);
      }
      host_text_append(&le, "\"", 1);
      host_exposition_series(text, family->name, "_bucket", series->labels, le.data);
      host_text_printf(text, "%llu\n", (unsigned long long)cumulative);
      host_text_free(&le);
    }
  }
  free(sorted);
}

void host_metrics_text_append(host_text* text) {
  static const TRITONSERVER_MetricKind order[] = {TRITONSERVER_METRIC_KIND_COUNTER,
                                                  TRITONSERVER_METRIC_KIND_GAUGE,
                                                  TRITONSERVER_METRIC_KIND_HISTOGRAM};
  host_text_append(text, "", 0);
  pthread_mutex_lock(&host_metrics_lock);
  for (size_t k = 0; k < sizeof order / sizeof order[0]; k++) {
    for (const host_family* family = host_families; family != NULL; family = family->next) {
      if (family->kind == order[k]) host_exposition_family(text, family);
    }
  }
  pthread_mutex_unlock(&host_metrics_lock);
}

uint64_t host_metrics_text(char* out, uint64_t cap) {
  host_text text = {0};
  host_metrics_text_append(&text);
  uint64_t length = host_text_export(&text, out, cap);
  host_text_free(&text);
  return length;
}
