/*
 * host_metrics.h: the objects behind custom metric handles, shared by
 * metrics.c (the API) and metrics_text.c (the Prometheus text).
 */
#ifndef HOST_METRICS_H
#define HOST_METRICS_H

#include "host_server.h"

/* One labelled series of a family. */
typedef struct host_series {
  struct host_series* next;
  char* labels;  /* name="value",... sorted by name: the identity */
  uint32_t refs; /* TRITONSERVER_Metric handles on it */
  double value;  /* counter, gauge */
  uint32_t bucket_count;
  double* bounds;   /* histogram upper bounds */
  uint64_t* counts; /* per bucket (not cumulative), the last for +Inf */
  double sum;
  uint64_t observations;
} host_series;

/* A registered family name. Never unregistered while handles or series
 * exist, as in Triton (see host_metrics_reset). */
typedef struct host_family {
  struct host_family* next; /* registration order */
  char* name;
  char* help;
  TRITONSERVER_MetricKind kind;
  uint32_t handles; /* live TRITONSERVER_MetricFamily handles */
  host_series* series;
} host_family;

struct TRITONSERVER_MetricFamily {
  host_family* family;
  uint32_t metrics; /* live metrics created through this handle */
};

struct TRITONSERVER_Metric {
  TRITONSERVER_MetricFamily* handle;
  host_series* series;
  TRITONSERVER_MetricKind kind;
};

struct TRITONSERVER_MetricArgs {
  bool has_kind;
  TRITONSERVER_MetricKind kind;
  double* buckets;
  uint32_t bucket_count;
};

/* Guards every family, series and handle count. */
extern pthread_mutex_t host_metrics_lock;
extern host_family* host_families;

#endif /* HOST_METRICS_H */
