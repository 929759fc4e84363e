/*
 * metrics_batch.h: reading one METRICS payload (ffi/WIRE_FORMAT.md, "Metric
 * batches"; written by runtime/wire/metrics_codec.ts): a tdn_metrics_header,
 * then the new families, the new metrics, the updates and the deleted ids,
 * each item a fixed part and its strings (or buckets).
 *
 * The batch comes from the stub, which is untrusted. Its framing (counts,
 * lengths, that it ends where its last item does) is checked at once and a
 * batch that does not frame is refused whole; each item is checked as it is
 * applied (ids, names, kinds, operations, values), so one bad item is
 * refused alone. Nothing here calls Triton.
 */
#ifndef TDN_METRICS_BATCH_H
#define TDN_METRICS_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "tdn_wire.h"
#include "triton_api.h"

/* Bounds, the same as the model API's (runtime/api/metrics.ts) where it has one. */
#define TDN_METRICS_MAX_BATCH_BYTES (16u * 1024u * 1024u)
#define TDN_METRICS_MAX_LABELS 64u
#define TDN_METRICS_MAX_BUCKETS 1024u
#define TDN_METRICS_MAX_TEXT (64u * 1024u) /* name, description, label name or value, bytes */
#define TDN_METRICS_MAX_ITEMS 65536u       /* of each kind of item in one batch */
/* Ids are JavaScript safe integers from 1 up. */
#define TDN_METRICS_MAX_ID 9007199254740991ull

/* A string of the batch, NUL-terminated; `length` is what the stub sent, so
 * a NUL inside shows as strlen(text) != length. */
typedef struct tdn_metric_text {
  const char* text;
  uint32_t length;
} tdn_metric_text;

typedef struct tdn_metric_label {
  tdn_metric_text name;
  tdn_metric_text value;
} tdn_metric_label;

/* The items as the stub sent them, unchecked. */
typedef struct tdn_metric_family_item {
  uint64_t id;
  uint32_t kind; /* TRITONSERVER_MetricKind */
  tdn_metric_text name;
  tdn_metric_text description;
} tdn_metric_family_item;

typedef struct tdn_metric_item {
  uint64_t id;
  uint64_t family;
  uint32_t label_count;
  const tdn_metric_label* labels;
  uint32_t bucket_count; /* TDN_METRICS_NO_BUCKETS: none */
  const double* buckets;
} tdn_metric_item;

typedef struct tdn_metric_update_item {
  uint64_t id;
  uint32_t op; /* TDN_METRIC_OP_* */
  double value;
} tdn_metric_update_item;

typedef struct tdn_metrics_batch {
  void* storage; /* everything below points into it */
  uint32_t family_count, metric_count, update_count, deleted_metric_count, deleted_family_count;
  tdn_metric_family_item* families;
  tdn_metric_item* metrics;
  tdn_metric_update_item* updates;
  uint64_t* deleted_metrics;
  uint64_t* deleted_families;
} tdn_metrics_batch;

/* Reads the batch's framing; false with a message otherwise. */
bool tdn_metrics_batch_parse(
    const uint8_t* data, size_t length, tdn_metrics_batch* batch, tdn_diag* why);

void tdn_metrics_batch_free(tdn_metrics_batch* batch);

/* The checked forms. */
typedef struct tdn_metric_family_spec {
  uint64_t id;
  const char* name; /* into the batch */
  const char* description;
  TRITONSERVER_MetricKind kind;
} tdn_metric_family_spec;

typedef struct tdn_metric_spec {
  uint64_t id;
  uint64_t family;
  uint32_t label_count;
  const tdn_metric_label* labels; /* valid names, texts without NUL */
  bool has_buckets;
  uint32_t bucket_count;
  const double* buckets; /* finite, strictly increasing */
} tdn_metric_spec;

typedef enum tdn_metric_op {
  TDN_METRIC_INC = TDN_METRIC_OP_INC,
  TDN_METRIC_SET = TDN_METRIC_OP_SET,
  TDN_METRIC_OBSERVE = TDN_METRIC_OP_OBSERVE,
} tdn_metric_op;

typedef struct tdn_metric_update {
  uint64_t id;
  tdn_metric_op op;
  double value; /* finite */
} tdn_metric_update;

/* An id: a whole number from 1 to TDN_METRICS_MAX_ID. */
bool tdn_metrics_check_id(uint64_t id, tdn_diag* why);

/* One new family. */
bool tdn_metric_family_read(
    const tdn_metric_family_item* item, tdn_metric_family_spec* spec, tdn_diag* why);

/* One new metric, checked as far as it can be without its family. */
bool tdn_metric_read(const tdn_metric_item* item, tdn_metric_spec* spec, tdn_diag* why);

/* The checks that need the family's kind: buckets for histograms (only),
 * no "le" label on a histogram. */
bool tdn_metric_check_kind(
    const tdn_metric_spec* spec, TRITONSERVER_MetricKind kind, tdn_diag* why);

/* One update. */
bool tdn_metric_update_read(
    const tdn_metric_update_item* item, tdn_metric_update* update, tdn_diag* why);

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
