/*
 * fake_triton.h: what the fake Triton of the C unit tests records
 * (fake_triton.c).
 */
#ifndef TDN_UNITS_FAKE_TRITON_H
#define TDN_UNITS_FAKE_TRITON_H

#include <stddef.h>

#include "triton_api.h"

typedef struct fake_counts {
  long families;      /* live TRITONSERVER_MetricFamily handles */
  long families_made; /* MetricFamilyNew calls that succeeded */
  long metrics;       /* live TRITONSERVER_Metric handles */
  long parameters;    /* live TRITONSERVER_Parameter objects */
  TRITONSERVER_Metric* last_metric;
} fake_counts;

extern fake_counts fake;

/* Every TRITONSERVER_LogMessage, one line each. */
extern char fake_log[1 << 20];
/* What TRITONSERVER_LogIsEnabled says for TRITONSERVER_LOG_INFO (the others: enabled). */
extern bool fake_log_info_enabled;

void fake_log_clear(void);
size_t fake_log_lines(void);

double fake_metric_value(const TRITONSERVER_Metric* metric);

#endif /* TDN_UNITS_FAKE_TRITON_H */
