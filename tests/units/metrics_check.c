/*
 * metrics_check: unit tests of the custom metrics registry
 * (ffi/src/metrics.c, metrics_batch.c, id_map.c) against fake_triton.c, a
 * Triton without the histogram functions of API 1.34: histograms are
 * refused with a warning, counters and gauges work. Also: families shared
 * by two stubs of a model, a new stub pid resetting the old one's ids, a
 * family deleted before its metrics, and the per-model limits. Exit
 * status: the failure count.
 */
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "fake_triton.h"
#include "histogram_api.h"
#include "id_map.h"
#include "json_reader.h"
#include "metrics.h"
#include "metrics_batch.h"
#include "tdn_wire.h"

/* ---- A METRICS encoder for the tests: the cases below are written as
 * JSON for reading, and sent the way the stub sends them (binary). ---- */

typedef struct out {
  uint8_t* data;
  size_t length, capacity;
} out;

static void put(out* o, const void* bytes, size_t length)
{
  if (o->length + length > o->capacity) {
    o->capacity = (o->length + length) * 2 + 64;
    o->data = realloc(o->data, o->capacity);
  }
  memcpy(o->data + o->length, bytes, length);
  o->length += length;
}

static void put_u32(out* o, uint32_t value) { put(o, &value, 4); }
static void put_u64(out* o, uint64_t value) { put(o, &value, 8); }
static void put_f64(out* o, double value) { put(o, &value, 8); }

static const tdn_json_value* member(const tdn_json_value* object, const char* key)
{
  return tdn_json_member_value(object, key);
}

static uint32_t code_of(const char* name, const char* const* names)
{
  for (uint32_t i = 0; names[i] != NULL; ++i) {
    if (strcmp(names[i], name) == 0) {
      return i;
    }
  }
  return 99;
}

/* {"families":[{id,name,description,kind}], "metrics":[{id,family,labels,buckets?}],
 *  "updates":[[id,"inc"|"set"|"observe",value]], "deletes":{"metrics":[],"families":[]}} */
static out encode(const char* json)
{
  tdn_diag why;
  tdn_json_value* root = tdn_json_parse(json, strlen(json), 8, &why);
  CHECK(root != NULL, "test batch: %s", why.text);
  const tdn_json_value* families = member(root, "families");
  const tdn_json_value* metrics = member(root, "metrics");
  const tdn_json_value* updates = member(root, "updates");
  const tdn_json_value* deletes = member(root, "deletes");
  const tdn_json_value* deleted[2] = {member(deletes, "metrics"), member(deletes, "families")};
  out o = {0};
  put_u32(&o, (uint32_t)families->element_count);
  put_u32(&o, (uint32_t)metrics->element_count);
  put_u32(&o, (uint32_t)updates->element_count);
  put_u32(&o, (uint32_t)deleted[0]->element_count);
  put_u32(&o, (uint32_t)deleted[1]->element_count);
  put_u32(&o, 0);
  static const char* const kinds[] = {"counter", "gauge", "histogram", NULL};
  for (size_t i = 0; i < families->element_count; ++i) {
    const tdn_json_value* family = families->elements[i];
    const char* name = member(family, "name")->string;
    const char* description = member(family, "description")->string;
    put_u64(&o, (uint64_t)member(family, "id")->number);
    put_u32(&o, code_of(member(family, "kind")->string, kinds));
    put_u32(&o, (uint32_t)strlen(name));
    put_u32(&o, (uint32_t)strlen(description));
    put(&o, name, strlen(name));
    put(&o, description, strlen(description));
  }
  for (size_t i = 0; i < metrics->element_count; ++i) {
    const tdn_json_value* metric = metrics->elements[i];
    const tdn_json_value* labels = member(metric, "labels");
    const tdn_json_value* buckets = member(metric, "buckets");
    put_u64(&o, (uint64_t)member(metric, "id")->number);
    put_u64(&o, (uint64_t)member(metric, "family")->number);
    put_u32(&o, (uint32_t)labels->member_count);
    put_u32(&o, buckets == NULL ? TDN_METRICS_NO_BUCKETS : (uint32_t)buckets->element_count);
    for (size_t l = 0; l < labels->member_count; ++l) {
      const char* key = labels->members[l].key;
      const char* value = labels->members[l].value->string;
      put_u32(&o, (uint32_t)strlen(key));
      put_u32(&o, (uint32_t)strlen(value));
      put(&o, key, strlen(key));
      put(&o, value, strlen(value));
    }
    for (size_t b = 0; buckets != NULL && b < buckets->element_count; ++b) {
      put_f64(&o, buckets->elements[b]->number);
    }
  }
  static const char* const ops[] = {"", "inc", "set", "observe", NULL};
  for (size_t i = 0; i < updates->element_count; ++i) {
    const tdn_json_value* update = updates->elements[i];
    put_u64(&o, (uint64_t)update->elements[0]->number);
    put_u32(&o, code_of(update->elements[1]->string, ops));
    put_u32(&o, 0);
    put_f64(&o, update->elements[2]->number);
  }
  for (int d = 0; d < 2; ++d) {
    for (size_t i = 0; i < deleted[d]->element_count; ++i) {
      put_u64(&o, (uint64_t)deleted[d]->elements[i]->number);
    }
  }
  tdn_json_free(root);
  return o;
}

static void apply(tdn_metrics_stub* stub, int64_t pid, const char* batch)
{
  out o = encode(batch);
  tdn_metrics_apply(stub, pid, o.data, o.length);
  free(o.data);
}

#define EMPTY_DELETES "\"deletes\":{\"metrics\":[],\"families\":[]}"

static void test_id_map(void)
{
  tdn_id_map map;
  tdn_id_map_init(&map);
  static int values[20000];
  for (uint64_t i = 1; i <= 20000; ++i) {
    /* Spread ids, and runs of neighbours, as a stub might send. */
    const uint64_t id = i % 2 == 0 ? i : i * 1000003ull;
    CHECK(tdn_id_map_put(&map, id, &values[i - 1]), "put %llu", (unsigned long long)id);
  }
  CHECK(map.count == 20000, "count %zu", map.count);
  for (uint64_t i = 1; i <= 20000; i += 3) {
    const uint64_t id = i % 2 == 0 ? i : i * 1000003ull;
    CHECK(tdn_id_map_remove(&map, id) == &values[i - 1], "remove %llu", (unsigned long long)id);
  }
  for (uint64_t i = 1; i <= 20000; ++i) {
    const uint64_t id = i % 2 == 0 ? i : i * 1000003ull;
    void* expected = (i - 1) % 3 == 0 ? NULL : &values[i - 1];
    CHECK(tdn_id_map_get(&map, id) == expected, "get %llu after removals", (unsigned long long)id);
  }
  CHECK(tdn_id_map_get(&map, 0) == NULL && tdn_id_map_remove(&map, 424242) == NULL, "absent");
  tdn_id_map_destroy(&map);
}

static void test_old_triton_refuses_histograms(void)
{
  CHECK(tdn_histogram_api_get() == NULL, "the fake has no histogram functions");
  CHECK_HAS(tdn_histogram_api_missing(), "TRITONSERVER_MetricArgsNew");
  tdn_metrics_model* model = tdn_metrics_model_new("m");
  tdn_metrics_stub* stub = tdn_metrics_stub_new(model, "m_0");
  fake_log_clear();
  apply(stub, 100,
        "{\"families\":[{\"id\":1,\"name\":\"c\",\"description\":\"\",\"kind\":\"counter\"},"
        "{\"id\":2,\"name\":\"h\",\"description\":\"\",\"kind\":\"histogram\"}],"
        "\"metrics\":[{\"id\":3,\"family\":1,\"labels\":{\"k\":\"v\"}},"
        "{\"id\":4,\"family\":2,\"labels\":{},\"buckets\":[1]}],"
        "\"updates\":[[3,\"inc\",2.5],[4,\"observe\",1]]," EMPTY_DELETES "}");
  CHECK_HAS(fake_log, "model 'm', instance 'm_0': custom metric operation refused: family 'h' "
                      "(id 2): histograms need Triton's TRITONSERVER API 1.34 or later, and this "
                      "Triton lacks TRITONSERVER_MetricArgsNew");
  CHECK_HAS(fake_log, "metric id 4: its family id 2 is unknown");
  CHECK_HAS(fake_log, "observe 1 on metric id 4: no metric has this id");
  CHECK(fake_log_lines() == 3, "%s", fake_log);
  CHECK(fake.families == 1 && fake.metrics == 1 && fake.parameters == 0, "handles");
  CHECK(fake_metric_value(fake.last_metric) == 2.5, "the counter");
  tdn_metrics_stub_free(stub);
  CHECK(fake.families == 0 && fake.metrics == 0, "all deleted at instance finalize");
  tdn_metrics_model_free(model);
}

static void test_shared_families_and_restarts(void)
{
  tdn_metrics_model* model = tdn_metrics_model_new("m");
  tdn_metrics_stub* a = tdn_metrics_stub_new(model, "m_0");
  tdn_metrics_stub* b = tdn_metrics_stub_new(model, "m_1");
  const char* declare =
      "{\"families\":[{\"id\":1,\"name\":\"g\",\"description\":\"d\",\"kind\":\"gauge\"}],"
      "\"metrics\":[{\"id\":2,\"family\":1,\"labels\":{}}],\"updates\":[[2,\"set\",4]],"
      EMPTY_DELETES "}";
  fake_log_clear();
  const long made = fake.families_made;
  apply(a, 10, declare);
  apply(b, 20, declare);
  CHECK(fake.families_made == made + 1, "one Triton family for both instances");
  CHECK(fake.metrics == 2, "one metric each");
  /* Stub a restarted (another pid): ids from 1 again, no refusal. */
  apply(a, 11, declare);
  CHECK(fake.metrics == 2, "the old stub's metric went: %ld", fake.metrics);
  CHECK(fake_log_lines() == 0, "%s", fake_log);
  /* Another kind under the same name is refused. */
  apply(b, 20,
        "{\"families\":[{\"id\":5,\"name\":\"g\",\"description\":\"\",\"kind\":\"counter\"}],"
        "\"metrics\":[],\"updates\":[]," EMPTY_DELETES "}");
  CHECK_HAS(fake_log, "family 'g' (id 5) declared a counter, but the model already has it as a "
                      "gauge");
  /* A family deleted with a metric still in it takes the metric along. */
  fake_log_clear();
  apply(b, 20,
        "{\"families\":[],\"metrics\":[],\"updates\":[],"
        "\"deletes\":{\"metrics\":[],\"families\":[1]}}");
  CHECK_HAS(fake_log, "deleting family 'g' (id 1): 1 of its metrics were not deleted first");
  CHECK(fake.metrics == 1 && fake.families == 1, "b let go; a still holds the family");
  tdn_metrics_stub_reset(a);
  CHECK(fake.metrics == 0 && fake.families == 0, "the last holder let go");
  tdn_metrics_stub_free(a);
  tdn_metrics_stub_free(b);
  tdn_metrics_model_free(model);
}

/* A family name belongs to one model: another model cannot write into it,
 * and Triton's own names (nv_*) belong to none; the name comes free when
 * its model lets go. */
static void test_family_names_are_per_model(void)
{
  tdn_metrics_model* owner = tdn_metrics_model_new("owner");
  tdn_metrics_model* intruder = tdn_metrics_model_new("intruder");
  tdn_metrics_stub* a = tdn_metrics_stub_new(owner, "owner_0");
  tdn_metrics_stub* b = tdn_metrics_stub_new(intruder, "intruder_0");
  const char* declare =
      "{\"families\":[{\"id\":1,\"name\":\"requests_total\",\"description\":\"\",\"kind\":"
      "\"counter\"}],\"metrics\":[{\"id\":2,\"family\":1,\"labels\":{}}],\"updates\":[[2,"
      "\"inc\",1]]," EMPTY_DELETES "}";
  fake_log_clear();
  const long made = fake.families_made;
  apply(a, 10, declare);
  CHECK(fake.families_made == made + 1 && fake_log_lines() == 0, "%s", fake_log);
  apply(b, 20, declare);
  CHECK(fake.families_made == made + 1, "the intruder got no family");
  CHECK(fake.metrics == 1, "the intruder got no metric: %ld", fake.metrics);
  CHECK_HAS(fake_log, "model 'intruder', instance 'intruder_0': custom metric operation refused: "
                      "family 'requests_total' (id 1) belongs to another model");
  fake_log_clear();
  apply(b, 21,
        "{\"families\":[{\"id\":1,\"name\":\"nv_inference_count\",\"description\":\"\","
        "\"kind\":\"counter\"}],\"metrics\":[],\"updates\":[]," EMPTY_DELETES "}");
  CHECK_HAS(fake_log, "family 'nv_inference_count' (id 1): names that start with nv_ are "
                      "Triton's own metrics");
  /* The owner lets go: the name is free for the next model. */
  tdn_metrics_stub_reset(a);
  fake_log_clear();
  apply(b, 22, declare);
  CHECK(fake_log_lines() == 0 && fake.metrics == 1, "%s", fake_log);
  tdn_metrics_stub_free(a);
  tdn_metrics_stub_free(b);
  tdn_metrics_model_free(owner);
  tdn_metrics_model_free(intruder);
}

/* A batch of `count` items made by `item(i, out)`, in the member `key`. */
static char* batch_of(const char* key, unsigned count, int (*item)(unsigned, char*, size_t))
{
  const size_t capacity = (size_t)count * 128 + 256;
  char* text = malloc(capacity);
  size_t at = (size_t)snprintf(text, capacity, "{");
  const char* const keys[] = {"families", "metrics", "updates"};
  for (size_t k = 0; k < 3; ++k) {
    at += (size_t)snprintf(text + at, capacity - at, "\"%s\":[", keys[k]);
    if (strcmp(keys[k], key) == 0) {
      for (unsigned i = 0; i < count; ++i) {
        at += (size_t)item(i, text + at, capacity - at);
        if (i + 1 < count) {
          text[at++] = ',';
        }
      }
    }
    at += (size_t)snprintf(text + at, capacity - at, "],");
  }
  snprintf(text + at, capacity - at, EMPTY_DELETES "}");
  return text;
}

/* Family names f<first + i>. */
static unsigned first_family = 0;

static int family_item(unsigned i, char* out, size_t capacity)
{
  return snprintf(
      out, capacity, "{\"id\":%u,\"name\":\"f%u\",\"description\":\"\",\"kind\":\"gauge\"}",
      i + 1, first_family + i);
}

static int metric_item(unsigned i, char* out, size_t capacity)
{
  return snprintf(out, capacity, "{\"id\":%u,\"family\":1,\"labels\":{\"i\":\"%u\"}}", i + 2, i);
}

static void test_limits(void)
{
  tdn_metrics_model* model = tdn_metrics_model_new("m");
  tdn_metrics_stub* stub = tdn_metrics_stub_new(model, "m_0");
  fake_log_clear();
  /* One instance holds at most the limit... */
  char* families = batch_of("families", TDN_METRICS_MAX_FAMILIES + 1, family_item);
  apply(stub, 1, families);
  free(families);
  CHECK(fake.families == TDN_METRICS_MAX_FAMILIES, "families: %ld", fake.families);
  CHECK_HAS(fake_log, "family 'f1024' (id 1025): the instance already holds 1024 families");
  /* ...and so does the model, over its instances. */
  tdn_metrics_stub* other = tdn_metrics_stub_new(model, "m_1");
  first_family = 1000;
  families = batch_of("families", 30, family_item);
  apply(other, 2, families);
  free(families);
  /* f1000..f1023 are shared; f1024..f1029 would be new. */
  CHECK(fake.families == TDN_METRICS_MAX_FAMILIES, "families: %ld", fake.families);
  CHECK_HAS(fake_log, "model 'm', instance 'm_1': custom metric operation refused: family 'f1024' "
                      "(id 25): the model already has 1024 families, the most allowed");
  tdn_metrics_stub_free(other);
  tdn_metrics_stub_reset(stub);

  fake_log_clear();
  apply(stub, 1,
        "{\"families\":[{\"id\":1,\"name\":\"g\",\"description\":\"\",\"kind\":\"gauge\"}],"
        "\"metrics\":[],\"updates\":[]," EMPTY_DELETES "}");
  char* metrics = batch_of("metrics", TDN_METRICS_MAX_METRICS + 1, metric_item);
  apply(stub, 1, metrics);
  free(metrics);
  CHECK(fake.metrics == TDN_METRICS_MAX_METRICS, "metrics: %ld", fake.metrics);
  CHECK_HAS(fake_log, "the model already has 16384 metrics, the most allowed");
  tdn_metrics_stub_free(stub);
  CHECK(fake.metrics == 0 && fake.families == 0, "all deleted");
  tdn_metrics_model_free(model);
}

/* A batch that does not frame is refused whole, and logged as such. */
static void test_refused_whole(void)
{
  tdn_metrics_model* model = tdn_metrics_model_new("m");
  tdn_metrics_stub* stub = tdn_metrics_stub_new(model, "m_0");
  fake_log_clear();
  out o = encode("{\"families\":[{\"id\":1,\"name\":\"g\",\"description\":\"\",\"kind\":"
                 "\"gauge\"}],\"metrics\":[],\"updates\":[]," EMPTY_DELETES "}");
  tdn_metrics_apply(stub, 1, o.data, o.length - 1);
  CHECK_HAS(fake_log, "model 'm', instance 'm_0': a custom metrics batch was refused whole: the "
                      "batch ends inside the name of family 0");
  CHECK(fake.families == 0, "nothing applied");
  free(o.data);
  tdn_metrics_stub_free(stub);
  tdn_metrics_model_free(model);
}

/* The checks that need the family's kind. */
static void test_kind_checks(void)
{
  const double buckets[1] = {1};
  const tdn_metric_label le = {{"le", 2}, {"1", 1}};
  tdn_metric_spec spec = {.id = 7, .family = 1, .label_count = 0, .labels = NULL};
  tdn_diag why;
  CHECK(!tdn_metric_check_kind(&spec, TRITONSERVER_METRIC_KIND_HISTOGRAM, &why), "no buckets");
  CHECK_HAS(why.text, "metric id 7: a histogram needs buckets");
  spec.has_buckets = true;
  spec.bucket_count = 1;
  spec.buckets = buckets;
  CHECK(!tdn_metric_check_kind(&spec, TRITONSERVER_METRIC_KIND_GAUGE, &why), "gauge buckets");
  CHECK_HAS(why.text, "buckets are for histograms, and its family is a gauge");
  spec.label_count = 1;
  spec.labels = &le;
  CHECK(!tdn_metric_check_kind(&spec, TRITONSERVER_METRIC_KIND_HISTOGRAM, &why), "le");
  CHECK_HAS(why.text, "label name 'le' is reserved for histogram buckets");
  spec.labels = NULL;
  spec.label_count = 0;
  CHECK(tdn_metric_check_kind(&spec, TRITONSERVER_METRIC_KIND_HISTOGRAM, &why), "%s", why.text);
}

int main(void)
{
  test_id_map();
  test_old_triton_refuses_histograms();
  test_shared_families_and_restarts();
  test_family_names_are_per_model();
  test_limits();
  test_refused_whole();
  test_kind_checks();
  if (check_failures == 0) {
    printf("metrics_check: all checks passed\n");
  }
  return check_failures;
}
