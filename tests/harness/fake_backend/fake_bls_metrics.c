/*
 * fake_bls_metrics.c: the "metrics" role of the BLS test backend. The
 * request id names a scenario:
 *
 *   "create"  a counter, a gauge and a histogram family with labelled
 *             metrics, updated to known values (kept in the instance);
 *   "errors"  each rule Triton enforces, reported as <name>_code/_message;
 *   "delete"  deletes what "create" made (metrics, then families).
 *
 * What is left is deleted when the instance finalizes.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "fake_bls.h"

typedef struct fake_metrics {
  TRITONSERVER_MetricFamily* counter_family;
  TRITONSERVER_MetricFamily* counter_family_again; /* same name, other description */
  TRITONSERVER_MetricFamily* gauge_family;
  TRITONSERVER_MetricFamily* histogram_family;
  TRITONSERVER_Metric* counter;
  TRITONSERVER_Metric* counter_same_labels;
  TRITONSERVER_Metric* counter_other_labels;
  TRITONSERVER_Metric* gauge;
  TRITONSERVER_Metric* histogram;
} fake_metrics;

static fake_metrics* fake_metrics_state(TRITONBACKEND_ModelInstance* instance) {
  void* state = NULL;
  fake_failed(TRITONBACKEND_ModelInstanceState(instance, &state));
  if (state == NULL) {
    state = calloc(1, sizeof(fake_metrics));
    fake_failed(TRITONBACKEND_ModelInstanceSetState(instance, state));
  }
  return state;
}

/* A metric with labels given as name, value, name, value, ..., NULL. */
static TRITONSERVER_Error* fake_metric(TRITONSERVER_Metric** metric,
                                       TRITONSERVER_MetricFamily* family,
                                       const TRITONSERVER_MetricArgs* args, const char* first,
                                       ...) {
  const TRITONSERVER_Parameter* labels[8];
  uint64_t count = 0;
  va_list rest;
  va_start(rest, first);
  for (const char* name = first; name != NULL && count < 8; name = va_arg(rest, const char*)) {
    const char* value = va_arg(rest, const char*);
    labels[count++] = TRITONSERVER_ParameterNew(name, TRITONSERVER_PARAMETER_STRING, value);
  }
  va_end(rest);
  TRITONSERVER_Error* error = TRITONSERVER_MetricNewWithArgs(metric, family, labels, count, args);
  /* The caller owns the labels and may delete them at once. */
  for (uint64_t i = 0; i < count; i++) {
    TRITONSERVER_ParameterDelete((TRITONSERVER_Parameter*)labels[i]);
  }
  return error;
}

static void fake_metrics_create(fake_metrics* state, TRITONBACKEND_Response* response) {
  TRITONSERVER_Error* error = TRITONSERVER_MetricFamilyNew(
      &state->counter_family, TRITONSERVER_METRIC_KIND_COUNTER, "fake_requests_total",
      "Requests seen, by \"path\"\nand model \\ all");
  if (error == NULL) {
    error =
        TRITONSERVER_MetricFamilyNew(&state->counter_family_again, TRITONSERVER_METRIC_KIND_COUNTER,
                                     "fake_requests_total", "another description");
  }
  if (error == NULL) {
    error = TRITONSERVER_MetricFamilyNew(&state->gauge_family, TRITONSERVER_METRIC_KIND_GAUGE,
                                         "fake_queue_depth", "Queued requests");
  }
  if (error == NULL) {
    error =
        TRITONSERVER_MetricFamilyNew(&state->histogram_family, TRITONSERVER_METRIC_KIND_HISTOGRAM,
                                     "fake_latency_seconds", "Latency");
  }
  /* Labels in any order: a series is identified by the sorted set. */
  if (error == NULL) {
    error = fake_metric(&state->counter, state->counter_family, NULL, "path", "a\"b\\c", "model",
                        "m", NULL);
  }
  if (error == NULL) {
    error = fake_metric(&state->counter_same_labels, state->counter_family_again, NULL, "model",
                        "m", "path", "a\"b\\c", NULL);
  }
  if (error == NULL) {
    error =
        fake_metric(&state->counter_other_labels, state->counter_family, NULL, "model", "m", NULL);
  }
  if (error == NULL) error = fake_metric(&state->gauge, state->gauge_family, NULL, NULL);
  TRITONSERVER_MetricArgs* args = NULL;
  if (error == NULL) error = TRITONSERVER_MetricArgsNew(&args);
  const double buckets[3] = {0.1, 0.5, 1};
  if (error == NULL) error = TRITONSERVER_MetricArgsSetHistogram(args, buckets, 3);
  if (error == NULL)
    error = fake_metric(&state->histogram, state->histogram_family, args, "model", "m", NULL);
  if (args != NULL) fake_failed(TRITONSERVER_MetricArgsDelete(args));
  if (error == NULL) error = TRITONSERVER_MetricIncrement(state->counter, 1);
  if (error == NULL) error = TRITONSERVER_MetricIncrement(state->counter, 2.5);
  if (error == NULL) error = TRITONSERVER_MetricIncrement(state->counter_same_labels, 1);
  if (error == NULL) error = TRITONSERVER_MetricIncrement(state->counter_other_labels, 0);
  if (error == NULL) error = TRITONSERVER_MetricSet(state->gauge, 7);
  if (error == NULL) error = TRITONSERVER_MetricIncrement(state->gauge, -2);
  const double observations[4] = {0.05, 0.3, 0.7, 5};
  for (int i = 0; error == NULL && i < 4; i++) {
    error = TRITONSERVER_MetricObserve(state->histogram, observations[i]);
  }
  double value = -1, gauge = -1;
  if (error == NULL) error = TRITONSERVER_MetricValue(state->counter, &value);
  if (error == NULL) error = TRITONSERVER_MetricValue(state->gauge, &gauge);
  TRITONSERVER_MetricKind kind = TRITONSERVER_METRIC_KIND_COUNTER;
  if (error == NULL) error = TRITONSERVER_GetMetricKind(state->histogram, &kind);
  fake_failed(TRITONBACKEND_ResponseSetDoubleParameter(response, "counter_value", value));
  fake_failed(TRITONBACKEND_ResponseSetDoubleParameter(response, "gauge_value", gauge));
  fake_failed(TRITONBACKEND_ResponseSetIntParameter(response, "histogram_kind", kind));
  fake_report_error(response, "create", error);
}

static void fake_metrics_errors(fake_metrics* state, TRITONBACKEND_Response* response) {
  TRITONSERVER_MetricFamily* family = NULL;
  fake_report_error(response, "other_kind",
                    TRITONSERVER_MetricFamilyNew(&family, TRITONSERVER_METRIC_KIND_GAUGE,
                                                 "fake_requests_total", "x"));
  fake_report_error(
      response, "bad_name",
      TRITONSERVER_MetricFamilyNew(&family, TRITONSERVER_METRIC_KIND_GAUGE, "9bad", "x"));
  fake_report_error(response, "negative_increment",
                    TRITONSERVER_MetricIncrement(state->counter, -1));
  fake_report_error(response, "counter_set", TRITONSERVER_MetricSet(state->counter, 3));
  fake_report_error(response, "gauge_observe", TRITONSERVER_MetricObserve(state->gauge, 1));
  double value = 0;
  fake_report_error(response, "histogram_value",
                    TRITONSERVER_MetricValue(state->histogram, &value));
  fake_report_error(response, "histogram_increment",
                    TRITONSERVER_MetricIncrement(state->histogram, 1));

  TRITONSERVER_Metric* metric = NULL;
  fake_report_error(response, "histogram_without_buckets",
                    fake_metric(&metric, state->histogram_family, NULL, "model", "x", NULL));
  TRITONSERVER_MetricArgs* args = NULL;
  fake_failed(TRITONSERVER_MetricArgsNew(&args));
  fake_report_error(response, "histogram_args_unset",
                    fake_metric(&metric, state->histogram_family, args, "model", "x", NULL));
  const double unsorted[3] = {1, 0.5, 2};
  fake_failed(TRITONSERVER_MetricArgsSetHistogram(args, unsorted, 3));
  fake_report_error(response, "unsorted_buckets",
                    fake_metric(&metric, state->histogram_family, args, "model", "x", NULL));
  fake_report_error(response, "counter_with_args",
                    fake_metric(&metric, state->counter_family, args, "model", "x", NULL));
  fake_failed(TRITONSERVER_MetricArgsDelete(args));
  fake_report_error(response, "bad_label",
                    fake_metric(&metric, state->counter_family, NULL, "bad-label", "x", NULL));

  const int64_t number = 3;
  TRITONSERVER_Parameter* label =
      TRITONSERVER_ParameterNew("number", TRITONSERVER_PARAMETER_INT, &number);
  const TRITONSERVER_Parameter* labels[1] = {label};
  fake_report_error(response, "int_label",
                    TRITONSERVER_MetricNew(&metric, state->counter_family, labels, 1));
  TRITONSERVER_ParameterDelete(label);
  const char bytes[2] = {1, 2};
  TRITONSERVER_Parameter* bytes_parameter =
      TRITONSERVER_ParameterNew("bytes", TRITONSERVER_PARAMETER_BYTES, bytes);
  fake_failed(TRITONBACKEND_ResponseSetBoolParameter(response, "bytes_parameter_null",
                                                     bytes_parameter == NULL));

  /* Broken on purpose: each counts a violation. */
  fake_report_error(response, "family_with_metrics",
                    TRITONSERVER_MetricFamilyDelete(state->gauge_family));
  TRITONSERVER_Metric* doomed = NULL;
  fake_failed(fake_metric(&doomed, state->gauge_family, NULL, "doomed", "yes", NULL));
  fake_failed(TRITONSERVER_MetricDelete(doomed));
  fake_report_error(response, "metric_twice", TRITONSERVER_MetricDelete(doomed));
}

static void fake_delete_metric(TRITONSERVER_Metric** metric) {
  if (*metric != NULL) fake_failed(TRITONSERVER_MetricDelete(*metric));
  *metric = NULL;
}

static void fake_delete_family(TRITONSERVER_MetricFamily** family) {
  if (*family != NULL) fake_failed(TRITONSERVER_MetricFamilyDelete(*family));
  *family = NULL;
}

static void fake_metrics_delete(fake_metrics* state) {
  fake_delete_metric(&state->counter);
  fake_delete_metric(&state->counter_same_labels);
  fake_delete_metric(&state->counter_other_labels);
  fake_delete_metric(&state->gauge);
  fake_delete_metric(&state->histogram);
  fake_delete_family(&state->counter_family);
  fake_delete_family(&state->counter_family_again);
  fake_delete_family(&state->gauge_family);
  fake_delete_family(&state->histogram_family);
}

void fake_metrics_execute(TRITONBACKEND_ModelInstance* instance, TRITONBACKEND_Request* request,
                          TRITONBACKEND_Response* response) {
  fake_metrics* state = fake_metrics_state(instance);
  const char* id = NULL;
  TRITONBACKEND_RequestId(request, &id);
  if (strcmp(id, "create") == 0) {
    fake_metrics_create(state, response);
  } else if (strcmp(id, "errors") == 0) {
    fake_metrics_errors(state, response);
  } else if (strcmp(id, "delete") == 0) {
    fake_metrics_delete(state);
  }
}

void fake_metrics_finalize(TRITONBACKEND_ModelInstance* instance) {
  void* state = NULL;
  fake_failed(TRITONBACKEND_ModelInstanceState(instance, &state));
  if (state == NULL) return;
  fake_metrics_delete(state);
  free(state);
}
