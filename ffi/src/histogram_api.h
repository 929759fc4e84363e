/*
 * histogram_api.h: the parts of Triton's metrics API that histograms need
 * and that only Triton's TRITONSERVER API 1.34 and later have
 * (TRITONSERVER_MetricArgs*, MetricNewWithArgs, MetricObserve). The
 * backend never links to them: they are looked up at first use, so the
 * library still loads into an older Triton, where histograms are refused
 * with a warning and counters and gauges work.
 */
#ifndef TDN_HISTOGRAM_API_H
#define TDN_HISTOGRAM_API_H

#include <stdint.h>

#include "triton_api.h"

typedef struct tdn_histogram_api {
  TRITONSERVER_Error* (*args_new)(TRITONSERVER_MetricArgs** args);
  TRITONSERVER_Error* (*args_set_histogram)(
      TRITONSERVER_MetricArgs* args, const double* buckets, const uint64_t buckets_count);
  TRITONSERVER_Error* (*args_delete)(TRITONSERVER_MetricArgs* args);
  TRITONSERVER_Error* (*metric_new_with_args)(
      TRITONSERVER_Metric** metric, TRITONSERVER_MetricFamily* family,
      const TRITONSERVER_Parameter** labels, const uint64_t label_count,
      const TRITONSERVER_MetricArgs* args);
  TRITONSERVER_Error* (*observe)(TRITONSERVER_Metric* metric, double value);
} tdn_histogram_api;

/* The functions, or NULL when this Triton lacks any of them. Looked up
 * once (thread-safe); the answer never changes. */
const tdn_histogram_api* tdn_histogram_api_get(void);

/* For messages: the first function missing, or NULL when all were found. */
const char* tdn_histogram_api_missing(void);

#endif /* TDN_HISTOGRAM_API_H */
