/*
 * fake_triton.c: the TRITONSERVER_ functions that ffi/src/metrics.c and
 * log.c call, as a Triton older than TRITONSERVER API 1.34 has them: no
 * TRITONSERVER_MetricArgs*, MetricNewWithArgs or MetricObserve. If the
 * backend linked to any of those, metrics_check would not link. Records
 * what it is asked (fake_triton.h).
 */
#include "fake_triton.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct TRITONSERVER_Error {
  TRITONSERVER_Error_Code code;
  char* message;
};

struct TRITONSERVER_Parameter {
  char* name;
  char* value;
};

struct TRITONSERVER_MetricFamily {
  TRITONSERVER_MetricKind kind;
  char* name;
};

struct TRITONSERVER_Metric {
  TRITONSERVER_MetricFamily* family;
  double value;
};

fake_counts fake;
char fake_log[1 << 20];
size_t fake_log_length;

TRITONSERVER_Error* TRITONSERVER_ErrorNew(TRITONSERVER_Error_Code code, const char* msg)
{
  TRITONSERVER_Error* error = calloc(1, sizeof(*error));
  error->code = code;
  error->message = strdup(msg);
  return error;
}

void TRITONSERVER_ErrorDelete(TRITONSERVER_Error* error)
{
  if (error != NULL) {
    free(error->message);
    free(error);
  }
}

TRITONSERVER_Error_Code TRITONSERVER_ErrorCode(TRITONSERVER_Error* error)
{
  return error->code;
}

const char* TRITONSERVER_ErrorMessage(TRITONSERVER_Error* error)
{
  return error->message;
}

bool fake_log_info_enabled = true;

bool TRITONSERVER_LogIsEnabled(TRITONSERVER_LogLevel level)
{
  return level != TRITONSERVER_LOG_INFO || fake_log_info_enabled;
}

TRITONSERVER_Error* TRITONSERVER_LogMessage(
    TRITONSERVER_LogLevel level, const char* filename, const int line, const char* msg)
{
  (void)level, (void)filename, (void)line;
  const int written = snprintf(
      fake_log + fake_log_length, sizeof(fake_log) - fake_log_length, "%s\n", msg);
  if (written > 0 && (size_t)written < sizeof(fake_log) - fake_log_length) {
    fake_log_length += (size_t)written;
  }
  return NULL;
}

void fake_log_clear(void)
{
  fake_log_length = 0;
  fake_log[0] = '\0';
}

size_t fake_log_lines(void)
{
  size_t lines = 0;
  for (size_t i = 0; i < fake_log_length; ++i) {
    lines += fake_log[i] == '\n';
  }
  return lines;
}

TRITONSERVER_Parameter* TRITONSERVER_ParameterNew(
    const char* name, const TRITONSERVER_ParameterType type, const void* value)
{
  if (type != TRITONSERVER_PARAMETER_STRING) {
    return NULL;
  }
  TRITONSERVER_Parameter* parameter = calloc(1, sizeof(*parameter));
  parameter->name = strdup(name);
  parameter->value = strdup(value);
  fake.parameters++;
  return parameter;
}

void TRITONSERVER_ParameterDelete(TRITONSERVER_Parameter* parameter)
{
  free(parameter->name);
  free(parameter->value);
  free(parameter);
  fake.parameters--;
}

TRITONSERVER_Error* TRITONSERVER_MetricFamilyNew(
    TRITONSERVER_MetricFamily** family, const TRITONSERVER_MetricKind kind, const char* name,
    const char* description)
{
  (void)description;
  if (kind == TRITONSERVER_METRIC_KIND_HISTOGRAM) {
    /* An old Triton does not know the kind. */
    return TRITONSERVER_ErrorNew(TRITONSERVER_ERROR_INVALID_ARG, "Unsupported kind");
  }
  *family = calloc(1, sizeof(**family));
  (*family)->kind = kind;
  (*family)->name = strdup(name);
  fake.families++;
  fake.families_made++;
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_MetricFamilyDelete(TRITONSERVER_MetricFamily* family)
{
  free(family->name);
  free(family);
  fake.families--;
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_MetricNew(
    TRITONSERVER_Metric** metric, TRITONSERVER_MetricFamily* family,
    const TRITONSERVER_Parameter** labels, const uint64_t label_count)
{
  (void)labels, (void)label_count;
  *metric = calloc(1, sizeof(**metric));
  (*metric)->family = family;
  fake.metrics++;
  fake.last_metric = *metric;
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_MetricDelete(TRITONSERVER_Metric* metric)
{
  free(metric);
  fake.metrics--;
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_MetricIncrement(TRITONSERVER_Metric* metric, double value)
{
  metric->value += value;
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_MetricSet(TRITONSERVER_Metric* metric, double value)
{
  metric->value = value;
  return NULL;
}

double fake_metric_value(const TRITONSERVER_Metric* metric)
{
  return metric->value;
}
