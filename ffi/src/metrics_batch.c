/*
 * metrics_batch.c: see metrics_batch.h. Messages name the item ("family
 * 'x' (id 3)") and what is wrong with it; the caller adds the model and
 * instance.
 */
#include "metrics_batch.h"

#include <stdio.h>
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

/* An array member of `object`, or false naming it. */
static bool array_member(
    const tdn_json_value* object, const char* key, const char* where,
    const tdn_json_value** array, tdn_diag* why)
{
  const tdn_json_value* value = tdn_json_member_value(object, key);
  if (value == NULL || value->kind != TDN_JSON_ARRAY) {
    return tdn_diag_set(
        why, "%s must have \"%s\", an array; it has %s", where, key,
        value == NULL ? "none" : tdn_json_kind_name(value->kind));
  }
  *array = value;
  return true;
}

/* True when `object` has no member outside `known` (NULL-terminated). */
static bool only_members(
    const tdn_json_value* object, const char* const* known, const char* where, tdn_diag* why)
{
  for (size_t i = 0; i < object->member_count; ++i) {
    bool found = false;
    for (const char* const* key = known; *key != NULL && !found; ++key) {
      found = strcmp(object->members[i].key, *key) == 0;
    }
    if (!found) {
      char quoted[TDN_METRICS_QUOTE_SIZE];
      return tdn_diag_set(
          why, "%s has an unknown member %s", where,
          tdn_metrics_quote(object->members[i].key, quoted));
    }
  }
  return true;
}

bool tdn_metrics_batch_parse(
    const char* text, size_t length, tdn_metrics_batch* batch, tdn_diag* why)
{
  memset(batch, 0, sizeof(*batch));
  if (length > TDN_METRICS_MAX_BATCH_BYTES) {
    return tdn_diag_set(
        why, "the batch is %zu bytes; at most %u are read", length, TDN_METRICS_MAX_BATCH_BYTES);
  }
  /* Depth 4: batch -> "metrics" -> a metric -> its labels or buckets. */
  const tdn_json_limits limits = {
      .max_depth = 4,
      .max_members = TDN_METRICS_MAX_LABELS,
      .max_elements = TDN_METRICS_MAX_ITEMS,
      .max_values = TDN_METRICS_MAX_VALUES,
  };
  tdn_diag parse_why;
  batch->root = tdn_json_parse_limited(text, length, &limits, &parse_why);
  if (batch->root == NULL) {
    return tdn_diag_set(why, "the batch is not readable: %s", parse_why.text);
  }
  static const char* const top[] = {"families", "metrics", "updates", "deletes", NULL};
  static const char* const deletes_keys[] = {"metrics", "families", NULL};
  const tdn_json_value* root = batch->root;
  const tdn_json_value* deletes = tdn_json_member_value(root, "deletes");
  bool ok = root->kind == TDN_JSON_OBJECT ||
            tdn_diag_set(why, "the batch is %s, not an object", tdn_json_kind_name(root->kind));
  ok = ok && only_members(root, top, "the batch", why) &&
       array_member(root, "families", "the batch", &batch->families, why) &&
       array_member(root, "metrics", "the batch", &batch->metrics, why) &&
       array_member(root, "updates", "the batch", &batch->updates, why);
  if (ok && (deletes == NULL || deletes->kind != TDN_JSON_OBJECT)) {
    ok = tdn_diag_set(
        why, "the batch must have \"deletes\", an object; it has %s",
        deletes == NULL ? "none" : tdn_json_kind_name(deletes->kind));
  }
  ok = ok && only_members(deletes, deletes_keys, "\"deletes\"", why) &&
       array_member(deletes, "metrics", "\"deletes\"", &batch->deleted_metrics, why) &&
       array_member(deletes, "families", "\"deletes\"", &batch->deleted_families, why);
  if (!ok) {
    tdn_metrics_batch_free(batch);
  }
  return ok;
}

void tdn_metrics_batch_free(tdn_metrics_batch* batch)
{
  tdn_json_free(batch->root);
  memset(batch, 0, sizeof(*batch));
}

bool tdn_metrics_read_id(const tdn_json_value* value, uint64_t* id, tdn_diag* why)
{
  if (value == NULL || value->kind != TDN_JSON_NUMBER) {
    return tdn_diag_set(
        why, "an id must be a number, got %s",
        value == NULL ? "nothing" : tdn_json_kind_name(value->kind));
  }
  /* The text, not the double: "1.0", "1e0" and "-0" are not ids. */
  const char* text = value->string;
  uint64_t parsed = 0;
  size_t digits = 0;
  for (; text[digits] >= '0' && text[digits] <= '9' && digits < 17; ++digits) {
    parsed = parsed * 10 + (uint64_t)(text[digits] - '0');
  }
  if (text[digits] != '\0' || parsed == 0 || parsed > TDN_METRICS_MAX_ID) {
    return tdn_diag_set(
        why, "id %.64s is not a whole number from 1 to %llu", text,
        (unsigned long long)TDN_METRICS_MAX_ID);
  }
  *id = parsed;
  return true;
}

/* A string member of at most TDN_METRICS_MAX_TEXT bytes. */
static bool text_member(
    const tdn_json_value* object, const char* key, const char* where, const char** out,
    tdn_diag* why)
{
  const tdn_json_value* value = tdn_json_member_value(object, key);
  if (value == NULL || value->kind != TDN_JSON_STRING) {
    return tdn_diag_set(
        why, "%s: \"%s\" must be a string, got %s", where, key,
        value == NULL ? "nothing" : tdn_json_kind_name(value->kind));
  }
  if (strlen(value->string) > TDN_METRICS_MAX_TEXT) {
    return tdn_diag_set(
        why, "%s: \"%s\" is longer than %u bytes", where, key, TDN_METRICS_MAX_TEXT);
  }
  *out = value->string;
  return true;
}

static bool id_member(
    const tdn_json_value* object, const char* key, const char* where, uint64_t* id,
    tdn_diag* why)
{
  tdn_diag inner;
  if (!tdn_metrics_read_id(tdn_json_member_value(object, key), id, &inner)) {
    return tdn_diag_set(why, "%s: \"%s\": %s", where, key, inner.text);
  }
  return true;
}

bool tdn_metric_family_read(
    const tdn_json_value* item, tdn_metric_family_spec* spec, tdn_diag* why)
{
  static const char* const keys[] = {"id", "name", "description", "kind", NULL};
  const char* where = "a family";
  if (item->kind != TDN_JSON_OBJECT) {
    return tdn_diag_set(why, "a family must be an object, got %s", tdn_json_kind_name(item->kind));
  }
  const char* kind = NULL;
  if (!only_members(item, keys, where, why) || !id_member(item, "id", where, &spec->id, why) ||
      !text_member(item, "name", where, &spec->name, why) ||
      !text_member(item, "description", where, &spec->description, why) ||
      !text_member(item, "kind", where, &kind, why)) {
    return false;
  }
  char quoted[TDN_METRICS_QUOTE_SIZE];
  if (!tdn_metric_name_valid(spec->name, false)) {
    return tdn_diag_set(
        why, "family %s (id %llu): the name must match [a-zA-Z_:][a-zA-Z0-9_:]* and not start "
        "with '__'",
        tdn_metrics_quote(spec->name, quoted), (unsigned long long)spec->id);
  }
  if (strcmp(kind, "counter") == 0) {
    spec->kind = TRITONSERVER_METRIC_KIND_COUNTER;
  } else if (strcmp(kind, "gauge") == 0) {
    spec->kind = TRITONSERVER_METRIC_KIND_GAUGE;
  } else if (strcmp(kind, "histogram") == 0) {
    spec->kind = TRITONSERVER_METRIC_KIND_HISTOGRAM;
  } else {
    char quoted_kind[TDN_METRICS_QUOTE_SIZE];
    return tdn_diag_set(
        why, "family '%s' (id %llu): kind %s is not counter, gauge or histogram", spec->name,
        (unsigned long long)spec->id, tdn_metrics_quote(kind, quoted_kind));
  }
  return true;
}

/* The labels: an object of at most TDN_METRICS_MAX_LABELS strings with
 * valid names (the reader already refused duplicate names). */
static bool read_labels(const tdn_json_value* labels, uint64_t id, tdn_diag* why)
{
  if (labels == NULL || labels->kind != TDN_JSON_OBJECT) {
    return tdn_diag_set(
        why, "metric id %llu: \"labels\" must be an object, got %s", (unsigned long long)id,
        labels == NULL ? "nothing" : tdn_json_kind_name(labels->kind));
  }
  if (labels->member_count > TDN_METRICS_MAX_LABELS) {
    return tdn_diag_set(
        why, "metric id %llu: %zu labels; at most %u", (unsigned long long)id,
        labels->member_count, TDN_METRICS_MAX_LABELS);
  }
  for (size_t i = 0; i < labels->member_count; ++i) {
    const tdn_json_member* label = &labels->members[i];
    char quoted[TDN_METRICS_QUOTE_SIZE];
    if (strlen(label->key) > TDN_METRICS_MAX_TEXT || !tdn_metric_name_valid(label->key, true)) {
      return tdn_diag_set(
          why, "metric id %llu: label name %s must match [a-zA-Z_][a-zA-Z0-9_]* and not start "
          "with '__'",
          (unsigned long long)id, tdn_metrics_quote(label->key, quoted));
    }
    if (label->value->kind != TDN_JSON_STRING) {
      return tdn_diag_set(
          why, "metric id %llu: label '%s' must be a string, got %s", (unsigned long long)id,
          label->key, tdn_json_kind_name(label->value->kind));
    }
    if (strlen(label->value->string) > TDN_METRICS_MAX_TEXT) {
      return tdn_diag_set(
          why, "metric id %llu: the value of label '%s' is longer than %u bytes",
          (unsigned long long)id, label->key, TDN_METRICS_MAX_TEXT);
    }
  }
  return true;
}

static bool read_buckets(const tdn_json_value* buckets, tdn_metric_spec* spec, tdn_diag* why)
{
  const unsigned long long id = (unsigned long long)spec->id;
  if (buckets->kind != TDN_JSON_ARRAY) {
    return tdn_diag_set(
        why, "metric id %llu: \"buckets\" must be an array, got %s", id,
        tdn_json_kind_name(buckets->kind));
  }
  if (buckets->element_count > TDN_METRICS_MAX_BUCKETS) {
    return tdn_diag_set(
        why, "metric id %llu: %zu buckets; at most %u", id, buckets->element_count,
        TDN_METRICS_MAX_BUCKETS);
  }
  for (size_t i = 0; i < buckets->element_count; ++i) {
    const tdn_json_value* bound = buckets->elements[i];
    if (bound->kind != TDN_JSON_NUMBER) {
      return tdn_diag_set(
          why, "metric id %llu: bucket %zu must be a number, got %s", id, i,
          tdn_json_kind_name(bound->kind));
    }
    if (i > 0 && !(bound->number > spec->buckets[i - 1])) {
      return tdn_diag_set(
          why, "metric id %llu: buckets must be strictly increasing, but bucket %zu (%.17g) "
          "follows %.17g",
          id, i, bound->number, spec->buckets[i - 1]);
    }
    spec->buckets[i] = bound->number;
  }
  spec->has_buckets = true;
  spec->bucket_count = (uint32_t)buckets->element_count;
  return true;
}

bool tdn_metric_read(const tdn_json_value* item, tdn_metric_spec* spec, tdn_diag* why)
{
  static const char* const keys[] = {"id", "family", "labels", "buckets", NULL};
  const char* where = "a metric";
  spec->has_buckets = false;
  spec->bucket_count = 0;
  if (item->kind != TDN_JSON_OBJECT) {
    return tdn_diag_set(why, "a metric must be an object, got %s", tdn_json_kind_name(item->kind));
  }
  if (!only_members(item, keys, where, why) || !id_member(item, "id", where, &spec->id, why)) {
    return false;
  }
  char where_id[64];
  snprintf(where_id, sizeof(where_id), "metric id %llu", (unsigned long long)spec->id);
  if (!id_member(item, "family", where_id, &spec->family, why)) {
    return false;
  }
  spec->labels = tdn_json_member_value(item, "labels");
  if (!read_labels(spec->labels, spec->id, why)) {
    return false;
  }
  const tdn_json_value* buckets = tdn_json_member_value(item, "buckets");
  return buckets == NULL || read_buckets(buckets, spec, why);
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
    return tdn_diag_set(why, "metric id %llu: a histogram needs \"buckets\"", id);
  }
  if (tdn_json_member_value(spec->labels, "le") != NULL) {
    return tdn_diag_set(
        why, "metric id %llu: label name 'le' is reserved for histogram buckets", id);
  }
  return true;
}

bool tdn_metric_update_read(const tdn_json_value* item, tdn_metric_update* update, tdn_diag* why)
{
  if (item->kind != TDN_JSON_ARRAY || item->element_count != 3) {
    return tdn_diag_set(
        why, "an update must be [id, operation, value], got %s%s", tdn_json_kind_name(item->kind),
        item->kind == TDN_JSON_ARRAY ? " of another length" : "");
  }
  tdn_diag inner;
  if (!tdn_metrics_read_id(item->elements[0], &update->id, &inner)) {
    return tdn_diag_set(why, "an update: %s", inner.text);
  }
  const unsigned long long id = (unsigned long long)update->id;
  const tdn_json_value* op = item->elements[1];
  const tdn_json_value* value = item->elements[2];
  if (op->kind != TDN_JSON_STRING) {
    return tdn_diag_set(
        why, "update of metric id %llu: the operation must be a string, got %s", id,
        tdn_json_kind_name(op->kind));
  }
  if (strcmp(op->string, "inc") == 0) {
    update->op = TDN_METRIC_INC;
  } else if (strcmp(op->string, "set") == 0) {
    update->op = TDN_METRIC_SET;
  } else if (strcmp(op->string, "observe") == 0) {
    update->op = TDN_METRIC_OBSERVE;
  } else {
    char quoted[TDN_METRICS_QUOTE_SIZE];
    return tdn_diag_set(
        why, "update of metric id %llu: operation %s is not inc, set or observe", id,
        tdn_metrics_quote(op->string, quoted));
  }
  if (value->kind != TDN_JSON_NUMBER) {
    return tdn_diag_set(
        why, "update of metric id %llu: the value must be a number, got %s", id,
        tdn_json_kind_name(value->kind));
  }
  update->value = value->number; /* finite: the reader refuses others */
  return true;
}
