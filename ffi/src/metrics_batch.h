/*
 * metrics_batch.h: reading one METRICS batch (ffi/WIRE_FORMAT.md; written
 * by drainMetricOps in runtime/api/metrics.ts):
 *
 *   {"families":[{"id":1,"name":"n","description":"d","kind":"counter"}],
 *    "metrics":[{"id":2,"family":1,"labels":{"k":"v"},"buckets":[0.1,1]}],
 *    "updates":[[2,"inc",3]],
 *    "deletes":{"metrics":[ids],"families":[ids]}}
 *
 * The batch comes from the stub, which is untrusted, so the document is
 * parsed with bounds and every item is checked before it touches Triton.
 * The shape of the whole batch is checked at once (a batch of another shape
 * is refused whole); each item is checked as it is applied, so one bad item
 * is refused alone. Nothing here calls Triton.
 */
#ifndef TDN_METRICS_BATCH_H
#define TDN_METRICS_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "json_reader.h"
#include "triton_api.h"

/* Bounds, the same as the model API's (runtime/api/metrics.ts) where it has one. */
#define TDN_METRICS_MAX_BATCH_BYTES (16u * 1024u * 1024u)
#define TDN_METRICS_MAX_LABELS 64u
#define TDN_METRICS_MAX_BUCKETS 1024u
#define TDN_METRICS_MAX_TEXT (64u * 1024u) /* name, description, label name or value, bytes */
#define TDN_METRICS_MAX_ITEMS 65536u       /* of each array in one batch */
#define TDN_METRICS_MAX_VALUES (256u * 1024u) /* JSON values in one batch */
/* Ids are JavaScript safe integers from 1 up. */
#define TDN_METRICS_MAX_ID 9007199254740991ull

typedef struct tdn_metrics_batch {
  tdn_json_value* root;
  const tdn_json_value* families; /* arrays, as the comment above shows */
  const tdn_json_value* metrics;
  const tdn_json_value* updates;
  const tdn_json_value* deleted_metrics;
  const tdn_json_value* deleted_families;
} tdn_metrics_batch;

/* Parses and checks the batch's shape; false with a message otherwise. */
bool tdn_metrics_batch_parse(
    const char* text, size_t length, tdn_metrics_batch* batch, tdn_diag* why);

void tdn_metrics_batch_free(tdn_metrics_batch* batch);

typedef struct tdn_metric_family_spec {
  uint64_t id;
  const char* name; /* into the batch */
  const char* description;
  TRITONSERVER_MetricKind kind;
} tdn_metric_family_spec;

typedef struct tdn_metric_spec {
  uint64_t id;
  uint64_t family;
  const tdn_json_value* labels; /* an object of strings with valid names */
  bool has_buckets;
  uint32_t bucket_count;
  double buckets[TDN_METRICS_MAX_BUCKETS]; /* strictly increasing */
} tdn_metric_spec;

typedef enum tdn_metric_op { TDN_METRIC_INC, TDN_METRIC_SET, TDN_METRIC_OBSERVE } tdn_metric_op;

typedef struct tdn_metric_update {
  uint64_t id;
  tdn_metric_op op;
  double value; /* finite */
} tdn_metric_update;

/* An id: a whole number from 1 to TDN_METRICS_MAX_ID. */
bool tdn_metrics_read_id(const tdn_json_value* value, uint64_t* id, tdn_diag* why);

/* One element of "families". */
bool tdn_metric_family_read(
    const tdn_json_value* item, tdn_metric_family_spec* spec, tdn_diag* why);

/* One element of "metrics", checked as far as it can be without its family. */
bool tdn_metric_read(const tdn_json_value* item, tdn_metric_spec* spec, tdn_diag* why);

/* The checks that need the family's kind: buckets for histograms (only),
 * no "le" label on a histogram. */
bool tdn_metric_check_kind(
    const tdn_metric_spec* spec, TRITONSERVER_MetricKind kind, tdn_diag* why);

/* One element of "updates": [id, "inc" | "set" | "observe", value]. */
bool tdn_metric_update_read(const tdn_json_value* item, tdn_metric_update* update, tdn_diag* why);

/* Prometheus' syntax: [a-zA-Z_:][a-zA-Z0-9_:]* for a family (label names
 * without ':'); names starting "__" are reserved. */
bool tdn_metric_name_valid(const char* name, bool label);

/* "counter", "gauge", "histogram". */
const char* tdn_metric_kind_name(TRITONSERVER_MetricKind kind);

const char* tdn_metric_op_name(tdn_metric_op op);

/* Room for a quoted text: quotes, 64 characters, "..." and the NUL. */
#define TDN_METRICS_QUOTE_SIZE 72

/* Writes "text" for a message: at most 64 bytes of it, every byte outside
 * printable ASCII as '?', so a stub's text cannot forge log lines. */
const char* tdn_metrics_quote(const char* text, char out[TDN_METRICS_QUOTE_SIZE]);

#endif /* TDN_METRICS_BATCH_H */
