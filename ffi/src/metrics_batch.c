/*
 * metrics_batch.c: see metrics_batch.h. Messages name the item ("family
 * 'x' (id 3)") and what is wrong with it; the caller adds the model and
 * instance.
 */
#include "metrics_batch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char* tdn_metrics_quote(const char* text, char out[TDN_METRICS_QUOTE_SIZE])
{
  size_t at = 0;
  out[at++] = '\'';
  size_t i = 0;
  for (; text[i] != '\0' && i < 64; ++i) {
    const unsigned char c = (unsigned char)text[i];
    out[at++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
  }
  if (text[i] != '\0') {
    memcpy(out + at, "...", 3);
    at += 3;
  }
  out[at++] = '\'';
  out[at] = '\0';
  return out;
}

const char* tdn_metric_kind_name(TRITONSERVER_MetricKind kind)
{
  switch (kind) {
    case TRITONSERVER_METRIC_KIND_COUNTER:
      return "counter";
    case TRITONSERVER_METRIC_KIND_GAUGE:
      return "gauge";
    case TRITONSERVER_METRIC_KIND_HISTOGRAM:
      return "histogram";
  }
  return "unknown kind";
}

const char* tdn_metric_op_name(tdn_metric_op op)
{
  switch (op) {
    case TDN_METRIC_INC:
      return "inc";
    case TDN_METRIC_SET:
      return "set";
    case TDN_METRIC_OBSERVE:
      return "observe";
  }
  return "unknown operation";
}

bool tdn_metric_name_valid(const char* name, bool label)
{
  if (name[0] == '\0' || (name[0] >= '0' && name[0] <= '9') ||
      (name[0] == '_' && name[1] == '_')) {
    return false;
  }
  for (const char* c = name; *c != '\0'; ++c) {
    const bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                    (*c >= '0' && *c <= '9') || *c == '_' || (*c == ':' && !label);
    if (!ok) {
      return false;
    }
  }
  return true;
}

/* ---- Framing ----------------------------------------------------------- */

typedef struct reader {
  const uint8_t* data;
  size_t length;
  size_t at;
  char* pool; /* NUL-terminated copies of the strings, labels, buckets */
  size_t pool_used, pool_size;
  tdn_diag* why;
  const char* where;
} reader;

static bool short_batch(reader* r, const char* what)
{
  return tdn_diag_set(
      r->why, "the batch ends inside %s of %s (at byte %zu of %zu)", what, r->where, r->at,
      r->length);
}

static bool take(reader* r, void* out, size_t bytes, const char* what)
{
  if (r->length - r->at < bytes) {
    return short_batch(r, what);
  }
  memcpy(out, r->data + r->at, bytes);
  r->at += bytes;
  return true;
}

/* `bytes` of the pool, 8-byte aligned for structs and doubles (`align`)
 * or not (strings); NULL past its end, which a pool sized as in
 * tdn_metrics_batch_parse never reaches. */
static void* pool_take(reader* r, size_t bytes, bool align)
{
  const size_t at = align ? (r->pool_used + 7u) & ~(size_t)7u : r->pool_used;
  if (at > r->pool_size || bytes > r->pool_size - at) {
    tdn_diag_set(r->why, "the batch does not fit the parent's reading buffer");
    return NULL;
  }
  r->pool_used = at + bytes;
  return r->pool + at;
}

static bool text(reader* r, uint32_t length, tdn_metric_text* out, const char* what)
{
  if (length > TDN_METRICS_MAX_TEXT) {
    return tdn_diag_set(
        r->why, "%s of %s is %u bytes; at most %u", what, r->where, length, TDN_METRICS_MAX_TEXT);
  }
  if (r->length - r->at < length) {
    return short_batch(r, what);
  }
  char* copy = pool_take(r, (size_t)length + 1, false);
  if (copy == NULL) {
    return false;
  }
  memcpy(copy, r->data + r->at, length);
  copy[length] = '\0';
  r->at += length;
  out->text = copy;
  out->length = length;
  return true;
}

static bool read_family(reader* r, tdn_metric_family_item* item)
{
  uint32_t name_length = 0, description_length = 0;
  return take(r, &item->id, 8, "the id") && take(r, &item->kind, 4, "the kind") &&
         take(r, &name_length, 4, "the name length") &&
         take(r, &description_length, 4, "the description length") &&
         text(r, name_length, &item->name, "the name") &&
         text(r, description_length, &item->description, "the description");
}

static bool read_metric(reader* r, tdn_metric_item* item)
{
  if (!take(r, &item->id, 8, "the id") || !take(r, &item->family, 8, "the family id") ||
      !take(r, &item->label_count, 4, "the label count") ||
      !take(r, &item->bucket_count, 4, "the bucket count")) {
    return false;
  }
  if (item->label_count > TDN_METRICS_MAX_LABELS) {
    return tdn_diag_set(
        r->why, "metric id %llu has %u labels; at most %u", (unsigned long long)item->id,
        item->label_count, TDN_METRICS_MAX_LABELS);
  }
  const bool buckets = item->bucket_count != TDN_METRICS_NO_BUCKETS;
  if (buckets && item->bucket_count > TDN_METRICS_MAX_BUCKETS) {
    return tdn_diag_set(
        r->why, "metric id %llu has %u buckets; at most %u", (unsigned long long)item->id,
        item->bucket_count, TDN_METRICS_MAX_BUCKETS);
  }
  tdn_metric_label* labels =
      pool_take(r, (size_t)item->label_count * sizeof(tdn_metric_label), true);
  if (labels == NULL) {
    return false;
  }
  item->labels = labels;
  for (uint32_t i = 0; i < item->label_count; ++i) {
    uint32_t name_length = 0, value_length = 0;
    if (!take(r, &name_length, 4, "a label name length") ||
        !take(r, &value_length, 4, "a label value length") ||
        !text(r, name_length, &labels[i].name, "a label name") ||
        !text(r, value_length, &labels[i].value, "a label value")) {
      return false;
    }
  }
  const uint32_t count = buckets ? item->bucket_count : 0;
  if (r->length - r->at < (size_t)count * 8u) {
    return short_batch(r, "the buckets");
  }
  double* bounds = pool_take(r, (size_t)count * sizeof(double), true);
  if (bounds == NULL) {
    return false;
  }
  memcpy(bounds, r->data + r->at, (size_t)count * 8u);
  r->at += (size_t)count * 8u;
  item->buckets = bounds;
  return true;
}

static bool read_update(reader* r, tdn_metric_update_item* item)
{
  uint32_t reserved = 0;
  return take(r, &item->id, 8, "the metric id") && take(r, &item->op, 4, "the operation") &&
         take(r, &reserved, 4, "the reserved word") && take(r, &item->value, 8, "the value");
}

/* Smallest encoded size of each item: what bounds the counts a header may claim. */
enum { MIN_FAMILY = 20, MIN_METRIC = 24, UPDATE_SIZE = 24, ID_SIZE = 8 };

bool tdn_metrics_batch_parse(
    const uint8_t* data, size_t length, tdn_metrics_batch* batch, tdn_diag* why)
{
  memset(batch, 0, sizeof(*batch));
  if (length > TDN_METRICS_MAX_BATCH_BYTES) {
    return tdn_diag_set(
        why, "the batch is %zu bytes; at most %u are read", length, TDN_METRICS_MAX_BATCH_BYTES);
  }
  tdn_metrics_header header;
  if (length < sizeof(header)) {
    return tdn_diag_set(why, "the batch is %zu bytes, shorter than its %zu-byte header", length,
                        sizeof(header));
  }
  memcpy(&header, data, sizeof(header));
  const uint32_t counts[5] = {header.family_count, header.metric_count, header.update_count,
                              header.deleted_metric_count, header.deleted_family_count};
  static const char* const names[5] = {"families", "metrics", "updates", "deleted metrics",
                                       "deleted families"};
  static const size_t smallest[5] = {MIN_FAMILY, MIN_METRIC, UPDATE_SIZE, ID_SIZE, ID_SIZE};
  uint64_t least = sizeof(header);
  for (int i = 0; i < 5; ++i) {
    if (counts[i] > TDN_METRICS_MAX_ITEMS) {
      return tdn_diag_set(
          why, "the batch claims %u %s; at most %u", counts[i], names[i], TDN_METRICS_MAX_ITEMS);
    }
    least += (uint64_t)counts[i] * smallest[i];
  }
  if (header.reserved != 0) {
    return tdn_diag_set(why, "the batch header's reserved word is %u, not 0", header.reserved);
  }
  if (least > length) {
    return tdn_diag_set(
        why, "the batch claims %u families, %u metrics, %u updates and %u + %u deletions, which "
        "need at least %llu bytes; it has %zu",
        counts[0], counts[1], counts[2], counts[3], counts[4], (unsigned long long)least, length);
  }
  /* Item arrays, then a pool for what the items point to: a string takes
   * its bytes and a NUL (it came with a 4-byte length), a label 16 bytes
   * (it came with 8), buckets their own 8 bytes, each metric's label array
   * and buckets up to 7 bytes of alignment (it came with 24): under three
   * times what was sent. */
  const size_t arrays = (size_t)counts[0] * sizeof(tdn_metric_family_item) +
                        (size_t)counts[1] * sizeof(tdn_metric_item) +
                        (size_t)counts[2] * sizeof(tdn_metric_update_item) +
                        ((size_t)counts[3] + counts[4]) * sizeof(uint64_t) + 64;
  const size_t pool_size = 3 * length + 64;
  uint8_t* storage = malloc(arrays + pool_size);
  if (storage == NULL) {
    return tdn_diag_set(why, "out of memory for a %zu-byte batch", length);
  }
  batch->storage = storage;
  batch->families = (tdn_metric_family_item*)storage;
  batch->metrics = (tdn_metric_item*)(batch->families + counts[0]);
  batch->updates = (tdn_metric_update_item*)(batch->metrics + counts[1]);
  batch->deleted_metrics = (uint64_t*)(batch->updates + counts[2]);
  batch->deleted_families = batch->deleted_metrics + counts[3];
  reader r = {.data = data, .length = length, .at = sizeof(header),
              .pool = (char*)storage + arrays, .pool_size = pool_size, .why = why};
  char where[64];
  bool ok = true;
  for (uint32_t i = 0; ok && i < counts[0]; ++i) {
    snprintf(where, sizeof(where), "family %u", i);
    r.where = where;
    ok = read_family(&r, &batch->families[i]);
  }
  for (uint32_t i = 0; ok && i < counts[1]; ++i) {
    snprintf(where, sizeof(where), "metric %u", i);
    r.where = where;
    ok = read_metric(&r, &batch->metrics[i]);
  }
  for (uint32_t i = 0; ok && i < counts[2]; ++i) {
    snprintf(where, sizeof(where), "update %u", i);
    r.where = where;
    ok = read_update(&r, &batch->updates[i]);
  }
  r.where = "the deletions";
  ok = ok && take(&r, batch->deleted_metrics, (size_t)counts[3] * 8u, "the deleted metric ids") &&
       take(&r, batch->deleted_families, (size_t)counts[4] * 8u, "the deleted family ids");
  if (ok && r.at != length) {
    ok = tdn_diag_set(
        why, "the batch has %zu bytes after its last item (it ends at byte %zu of %zu)",
        length - r.at, r.at, length);
  }
  if (!ok) {
    tdn_metrics_batch_free(batch);
    return false;
  }
  batch->family_count = counts[0];
  batch->metric_count = counts[1];
  batch->update_count = counts[2];
  batch->deleted_metric_count = counts[3];
  batch->deleted_family_count = counts[4];
  return true;
}

void tdn_metrics_batch_free(tdn_metrics_batch* batch)
{
  free(batch->storage);
  memset(batch, 0, sizeof(*batch));
}

/* ---- Items --------------------------------------------------------------- */

bool tdn_metrics_check_id(uint64_t id, tdn_diag* why)
{
  if (id == 0 || id > TDN_METRICS_MAX_ID) {
    return tdn_diag_set(
        why, "id %llu is not a whole number from 1 to %llu", (unsigned long long)id,
        (unsigned long long)TDN_METRICS_MAX_ID);
  }
  return true;
}

/* A text without NUL bytes (the name of the field in `what`). */
static bool clean_text(const tdn_metric_text* text, const char* owner, const char* what,
                       tdn_diag* why)
{
  if (strlen(text->text) != text->length) {
    return tdn_diag_set(why, "%s: %s holds a NUL byte", owner, what);
  }
  return true;
}

bool tdn_metric_family_read(
    const tdn_metric_family_item* item, tdn_metric_family_spec* spec, tdn_diag* why)
{
  tdn_diag inner;
  if (!tdn_metrics_check_id(item->id, &inner)) {
    return tdn_diag_set(why, "a family: %s", inner.text);
  }
  spec->id = item->id;
  spec->name = item->name.text;
  spec->description = item->description.text;
  char quoted[TDN_METRICS_QUOTE_SIZE];
  char owner[TDN_METRICS_QUOTE_SIZE + 64];
  snprintf(owner, sizeof(owner), "family %s (id %llu)", tdn_metrics_quote(spec->name, quoted),
           (unsigned long long)spec->id);
  if (!clean_text(&item->name, owner, "the name", why) ||
      !clean_text(&item->description, owner, "the description", why)) {
    return false;
  }
  if (!tdn_metric_name_valid(spec->name, false)) {
    return tdn_diag_set(
        why, "%s: the name must match [a-zA-Z_:][a-zA-Z0-9_:]* and not start with '__'", owner);
  }
  switch (item->kind) {
    case TRITONSERVER_METRIC_KIND_COUNTER:
    case TRITONSERVER_METRIC_KIND_GAUGE:
    case TRITONSERVER_METRIC_KIND_HISTOGRAM:
      spec->kind = (TRITONSERVER_MetricKind)item->kind;
      return true;
  }
  return tdn_diag_set(
      why, "%s: kind %u is not counter (0), gauge (1) or histogram (2)", owner, item->kind);
}

bool tdn_metric_read(const tdn_metric_item* item, tdn_metric_spec* spec, tdn_diag* why)
{
  tdn_diag inner;
  if (!tdn_metrics_check_id(item->id, &inner)) {
    return tdn_diag_set(why, "a metric: %s", inner.text);
  }
  const unsigned long long id = (unsigned long long)item->id;
  if (!tdn_metrics_check_id(item->family, &inner)) {
    return tdn_diag_set(why, "metric id %llu: its family: %s", id, inner.text);
  }
  char owner[64];
  snprintf(owner, sizeof(owner), "metric id %llu", id);
  for (uint32_t i = 0; i < item->label_count; ++i) {
    const tdn_metric_label* label = &item->labels[i];
    char quoted[TDN_METRICS_QUOTE_SIZE];
    if (!clean_text(&label->name, owner, "a label name", why)) {
      return false;
    }
    if (!tdn_metric_name_valid(label->name.text, true)) {
      return tdn_diag_set(
          why, "%s: label name %s must match [a-zA-Z_][a-zA-Z0-9_]* and not start with '__'",
          owner, tdn_metrics_quote(label->name.text, quoted));
    }
    for (uint32_t j = 0; j < i; ++j) {
      if (strcmp(item->labels[j].name.text, label->name.text) == 0) {
        return tdn_diag_set(why, "%s: label '%s' is given twice", owner, label->name.text);
      }
    }
    if (!clean_text(&label->value, owner, "a label value", why)) {
      return false;
    }
  }
  spec->id = item->id;
  spec->family = item->family;
  spec->label_count = item->label_count;
  spec->labels = item->labels;
  spec->has_buckets = item->bucket_count != TDN_METRICS_NO_BUCKETS;
  spec->bucket_count = spec->has_buckets ? item->bucket_count : 0;
  spec->buckets = item->buckets;
  for (uint32_t i = 0; i < spec->bucket_count; ++i) {
    const double bound = spec->buckets[i];
    if (!isfinite(bound)) {
      return tdn_diag_set(why, "%s: bucket %u is %g, not a finite number", owner, i, bound);
    }
    if (i > 0 && !(bound > spec->buckets[i - 1])) {
      return tdn_diag_set(
          why, "%s: buckets must be strictly increasing, but bucket %u (%.17g) follows %.17g",
          owner, i, bound, spec->buckets[i - 1]);
    }
  }
  return true;
}

bool tdn_metric_check_kind(
    const tdn_metric_spec* spec, TRITONSERVER_MetricKind kind, tdn_diag* why)
{
  const unsigned long long id = (unsigned long long)spec->id;
  if (kind != TRITONSERVER_METRIC_KIND_HISTOGRAM) {
    if (spec->has_buckets) {
      return tdn_diag_set(
          why, "metric id %llu: buckets are for histograms, and its family is a %s", id,
          tdn_metric_kind_name(kind));
    }
    return true;
  }
  if (!spec->has_buckets) {
    return tdn_diag_set(why, "metric id %llu: a histogram needs buckets", id);
  }
  for (uint32_t i = 0; i < spec->label_count; ++i) {
    if (strcmp(spec->labels[i].name.text, "le") == 0) {
      return tdn_diag_set(
          why, "metric id %llu: label name 'le' is reserved for histogram buckets", id);
    }
  }
  return true;
}

bool tdn_metric_update_read(
    const tdn_metric_update_item* item, tdn_metric_update* update, tdn_diag* why)
{
  tdn_diag inner;
  if (!tdn_metrics_check_id(item->id, &inner)) {
    return tdn_diag_set(why, "an update: %s", inner.text);
  }
  const unsigned long long id = (unsigned long long)item->id;
  switch (item->op) {
    case TDN_METRIC_OP_INC:
    case TDN_METRIC_OP_SET:
    case TDN_METRIC_OP_OBSERVE:
      break;
    default:
      return tdn_diag_set(
          why, "update of metric id %llu: operation %u is not inc (1), set (2) or observe (3)",
          id, item->op);
  }
  if (!isfinite(item->value)) {
    return tdn_diag_set(
        why, "update of metric id %llu: the value %g is not a finite number", id, item->value);
  }
  update->id = item->id;
  update->op = (tdn_metric_op)item->op;
  update->value = item->value;
  return true;
}
