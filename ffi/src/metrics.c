/*
 * metrics.c: see metrics.h. A batch is applied in the order its writer
 * (runtime/api/metrics.ts) defines: deleted metrics, deleted families, new
 * families, new metrics, then the updates in array order, each item on its
 * own: a refused item is logged and skipped, the rest still applies.
 */
#include "metrics.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "histogram_api.h"
#include "id_map.h"
#include "log.h"
#include "metrics_batch.h"
#include "triton_api.h"

/* A family name of the model: one Triton handle, shared by its instances. */
typedef struct model_family {
  struct model_family* next;
  char* name;
  TRITONSERVER_MetricKind kind;
  TRITONSERVER_MetricFamily* handle;
  uint32_t bindings; /* stub family ids naming it, over all instances */
  uint32_t metrics;  /* live metrics made on the handle */
} model_family;

struct tdn_metrics_model {
  pthread_mutex_t lock;
  char* name;
  model_family* families;
  uint32_t family_count;
  uint32_t metric_count; /* over all instances */
};

/* A stub's family id. */
typedef struct stub_family {
  model_family* family;
  uint32_t metrics; /* this stub's metrics in it */
} stub_family;

/* A stub's metric id. */
typedef struct stub_metric {
  TRITONSERVER_Metric* handle;
  stub_family* family;
} stub_metric;

struct tdn_metrics_stub {
  tdn_metrics_model* model;
  char* instance_name;
  int64_t pid;         /* of the stub the maps belong to; 0: none yet */
  tdn_id_map families; /* id -> stub_family */
  tdn_id_map metrics;  /* id -> stub_metric */
  /* The warning rate limit: a token bucket. */
  uint32_t tokens;
  uint64_t refilled_at_ns;
  uint64_t suppressed;
};

/* ---- Family names across models ---------------------------------------- */

/* Triton's registry is one per server: two models that name the same
 * family would write into each other's series. A name belongs to the
 * model that made it first, until that model's family of that name is
 * gone; names Triton uses for its own metrics belong to no model. */
typedef struct owned_name {
  struct owned_name* next;
  char* name;
  const tdn_metrics_model* owner;
} owned_name;

static pthread_mutex_t owned_lock = PTHREAD_MUTEX_INITIALIZER;
static owned_name* owned_names;

/* Triton's own metrics are all named nv_*. */
static bool reserved_name(const char* name)
{
  return strncmp(name, "nv_", 3) == 0;
}

/* Claims `name` for `model`; false if another model holds it. */
static bool claim_name(const tdn_metrics_model* model, const char* name, bool* out_of_memory)
{
  *out_of_memory = false;
  pthread_mutex_lock(&owned_lock);
  for (owned_name* owned = owned_names; owned != NULL; owned = owned->next) {
    if (strcmp(owned->name, name) == 0) {
      const bool ours = owned->owner == model;
      pthread_mutex_unlock(&owned_lock);
      return ours;
    }
  }
  owned_name* owned = calloc(1, sizeof(*owned));
  if (owned == NULL || (owned->name = strdup(name)) == NULL) {
    free(owned);
    *out_of_memory = true;
  } else {
    owned->owner = model;
    owned->next = owned_names;
    owned_names = owned;
  }
  pthread_mutex_unlock(&owned_lock);
  return !*out_of_memory;
}

static void release_name(const tdn_metrics_model* model, const char* name)
{
  pthread_mutex_lock(&owned_lock);
  for (owned_name** link = &owned_names; *link != NULL; link = &(*link)->next) {
    owned_name* owned = *link;
    if (owned->owner == model && strcmp(owned->name, name) == 0) {
      *link = owned->next;
      free(owned->name);
      free(owned);
      break;
    }
  }
  pthread_mutex_unlock(&owned_lock);
}

/* ---- Warnings ---------------------------------------------------------- */

/* With the model's lock held. */
static void warn_text(tdn_metrics_stub* stub, const char* text)
{
  const uint64_t now = tdn_now_ns();
  const uint64_t earned = (now - stub->refilled_at_ns) / TDN_METRICS_WARN_REFILL_NS;
  if (stub->tokens + earned >= TDN_METRICS_WARN_BURST) {
    stub->tokens = TDN_METRICS_WARN_BURST;
    stub->refilled_at_ns = now; /* a full bucket saves nothing up */
  } else {
    stub->tokens += (uint32_t)earned;
    stub->refilled_at_ns += earned * TDN_METRICS_WARN_REFILL_NS;
  }
  if (stub->tokens == 0) {
    stub->suppressed++;
    return;
  }
  stub->tokens--;
  char dropped[128] = "";
  if (stub->suppressed > 0) {
    snprintf(
        dropped, sizeof(dropped), " [%llu earlier warning(s) about its metrics suppressed]",
        (unsigned long long)stub->suppressed);
    stub->suppressed = 0;
  }
  TDN_LOG_WARN(
      "model '%s', instance '%s': %s%s", stub->model->name, stub->instance_name, text, dropped);
}

/* An operation is skipped: says which and why (model's lock held). */
static __attribute__((format(printf, 2, 3))) void refuse(
    tdn_metrics_stub* stub, const char* format, ...)
{
  char text[TDN_DIAG_CAPACITY + 64];
  int used = snprintf(text, sizeof(text), "custom metric operation refused: ");
  va_list args;
  va_start(args, format);
  vsnprintf(text + used, sizeof(text) - (size_t)used, format, args);
  va_end(args);
  warn_text(stub, text);
}

void tdn_metrics_warn(tdn_metrics_stub* stub, const char* format, ...)
{
  char text[TDN_DIAG_CAPACITY];
  va_list args;
  va_start(args, format);
  vsnprintf(text, sizeof(text), format, args);
  va_end(args);
  pthread_mutex_lock(&stub->model->lock);
  warn_text(stub, text);
  pthread_mutex_unlock(&stub->model->lock);
}

/* ---- Lifetimes --------------------------------------------------------- */

tdn_metrics_model* tdn_metrics_model_new(const char* model_name)
{
  tdn_metrics_model* model = calloc(1, sizeof(*model));
  if (model == NULL || (model->name = strdup(model_name)) == NULL) {
    free(model);
    return NULL;
  }
  pthread_mutex_init(&model->lock, NULL);
  return model;
}

/* Deletes a family's Triton handle (it has no metrics left). */
static void drop_model_family(tdn_metrics_model* model, model_family* family)
{
  model_family** link = &model->families;
  while (*link != family) {
    link = &(*link)->next;
  }
  *link = family->next;
  model->family_count--;
  TDN_LOG_IF_ERROR(
      TRITONSERVER_MetricFamilyDelete(family->handle), "cannot delete a custom metric family");
  release_name(model, family->name);
  free(family->name);
  free(family);
}

void tdn_metrics_model_free(tdn_metrics_model* model)
{
  if (model == NULL) {
    return;
  }
  /* Every instance let go of its families before the model finalizes, so
   * this finds nothing unless an instance leaked. */
  while (model->families != NULL) {
    drop_model_family(model, model->families);
  }
  pthread_mutex_destroy(&model->lock);
  free(model->name);
  free(model);
}

tdn_metrics_stub* tdn_metrics_stub_new(tdn_metrics_model* model, const char* instance_name)
{
  tdn_metrics_stub* stub = calloc(1, sizeof(*stub));
  if (stub == NULL || (stub->instance_name = strdup(instance_name)) == NULL) {
    free(stub);
    return NULL;
  }
  stub->model = model;
  tdn_id_map_init(&stub->families);
  tdn_id_map_init(&stub->metrics);
  stub->tokens = TDN_METRICS_WARN_BURST;
  stub->refilled_at_ns = tdn_now_ns();
  return stub;
}

static void delete_metric(tdn_metrics_stub* stub, stub_metric* metric)
{
  TDN_LOG_IF_ERROR(TRITONSERVER_MetricDelete(metric->handle), "cannot delete a custom metric");
  metric->family->metrics--;
  metric->family->family->metrics--;
  stub->model->metric_count--;
  free(metric);
}

static void release_family(tdn_metrics_stub* stub, stub_family* family)
{
  model_family* shared = family->family;
  free(family);
  if (--shared->bindings == 0) {
    drop_model_family(stub->model, shared);
  }
}

/* Drops every metric, then every family, of the stub (lock held). */
static void reset_locked(tdn_metrics_stub* stub)
{
  for (size_t i = 0; i < stub->metrics.capacity; ++i) {
    if (stub->metrics.slots[i].id != 0) {
      delete_metric(stub, stub->metrics.slots[i].value);
    }
  }
  for (size_t i = 0; i < stub->families.capacity; ++i) {
    if (stub->families.slots[i].id != 0) {
      release_family(stub, stub->families.slots[i].value);
    }
  }
  tdn_id_map_destroy(&stub->metrics);
  tdn_id_map_destroy(&stub->families);
  tdn_id_map_init(&stub->metrics);
  tdn_id_map_init(&stub->families);
  stub->pid = 0;
}

void tdn_metrics_stub_reset(tdn_metrics_stub* stub)
{
  if (stub == NULL) {
    return;
  }
  pthread_mutex_lock(&stub->model->lock);
  reset_locked(stub);
  pthread_mutex_unlock(&stub->model->lock);
}

void tdn_metrics_stub_free(tdn_metrics_stub* stub)
{
  if (stub == NULL) {
    return;
  }
  tdn_metrics_stub_reset(stub);
  tdn_id_map_destroy(&stub->metrics);
  tdn_id_map_destroy(&stub->families);
  free(stub->instance_name);
  free(stub);
}

/* ---- Operations (the model's lock held) -------------------------------- */

static bool id_in_use(const tdn_metrics_stub* stub, uint64_t id)
{
  return tdn_id_map_get(&stub->families, id) != NULL || tdn_id_map_get(&stub->metrics, id) != NULL;
}

static void apply_metric_delete(tdn_metrics_stub* stub, uint64_t id)
{
  tdn_diag why;
  if (!tdn_metrics_check_id(id, &why)) {
    refuse(stub, "deleting a metric: %s", why.text);
    return;
  }
  stub_metric* metric = tdn_id_map_remove(&stub->metrics, id);
  if (metric == NULL) {
    refuse(stub, "deleting metric id %llu: no metric has this id", (unsigned long long)id);
    return;
  }
  delete_metric(stub, metric);
}

static void apply_family_delete(tdn_metrics_stub* stub, uint64_t id)
{
  tdn_diag why;
  if (!tdn_metrics_check_id(id, &why)) {
    refuse(stub, "deleting a family: %s", why.text);
    return;
  }
  stub_family* family = tdn_id_map_remove(&stub->families, id);
  if (family == NULL) {
    refuse(stub, "deleting family id %llu: no family has this id", (unsigned long long)id);
    return;
  }
  if (family->metrics > 0) {
    /* The model API deletes a family's metrics first; a stub that did not
     * still loses them, or the family could never be deleted. */
    refuse(
        stub, "deleting family '%s' (id %llu): %u of its metrics were not deleted first; they "
        "are deleted with it",
        family->family->name, (unsigned long long)id, family->metrics);
    uint64_t* doomed = calloc(family->metrics, sizeof(uint64_t));
    size_t count = 0;
    for (size_t i = 0; doomed != NULL && i < stub->metrics.capacity; ++i) {
      const tdn_id_map_slot* slot = &stub->metrics.slots[i];
      if (slot->id != 0 && ((stub_metric*)slot->value)->family == family) {
        doomed[count++] = slot->id;
      }
    }
    for (size_t i = 0; i < count; ++i) {
      delete_metric(stub, tdn_id_map_remove(&stub->metrics, doomed[i]));
    }
    free(doomed);
    if (family->metrics > 0) {
      /* Out of memory: keep the family rather than orphan its metrics. */
      tdn_id_map_put(&stub->families, id, family);
      return;
    }
  }
  release_family(stub, family);
}

/* The model's family of this name, created in Triton if new; NULL after
 * refusing. */
static model_family* model_family_for(tdn_metrics_stub* stub, const tdn_metric_family_spec* spec)
{
  tdn_metrics_model* model = stub->model;
  const unsigned long long id = (unsigned long long)spec->id;
  for (model_family* family = model->families; family != NULL; family = family->next) {
    if (strcmp(family->name, spec->name) == 0) {
      if (family->kind != spec->kind) {
        refuse(
            stub, "family '%s' (id %llu) declared a %s, but the model already has it as a %s",
            spec->name, id, tdn_metric_kind_name(spec->kind), tdn_metric_kind_name(family->kind));
        return NULL;
      }
      return family;
    }
  }
  if (model->family_count >= TDN_METRICS_MAX_FAMILIES) {
    refuse(
        stub, "family '%s' (id %llu): the model already has %u families, the most allowed",
        spec->name, id, TDN_METRICS_MAX_FAMILIES);
    return NULL;
  }
  if (spec->kind == TRITONSERVER_METRIC_KIND_HISTOGRAM && tdn_histogram_api_get() == NULL) {
    refuse(
        stub, "family '%s' (id %llu): histograms need Triton's TRITONSERVER API 1.34 or later, "
        "and this Triton lacks %s; use a counter or a gauge, or a newer Triton",
        spec->name, id, tdn_histogram_api_missing());
    return NULL;
  }
  if (reserved_name(spec->name)) {
    refuse(
        stub, "family '%s' (id %llu): names that start with nv_ are Triton's own metrics",
        spec->name, id);
    return NULL;
  }
  bool out_of_memory = false;
  if (!claim_name(model, spec->name, &out_of_memory)) {
    if (out_of_memory) {
      refuse(stub, "family '%s' (id %llu): out of memory", spec->name, id);
    } else {
      refuse(
          stub,
          "family '%s' (id %llu) belongs to another model; a model cannot write into another "
          "model's metrics: choose another name",
          spec->name, id);
    }
    return NULL;
  }
  model_family* family = calloc(1, sizeof(*family));
  if (family == NULL || (family->name = strdup(spec->name)) == NULL) {
    free(family);
    release_name(model, spec->name);
    refuse(stub, "family '%s' (id %llu): out of memory", spec->name, id);
    return NULL;
  }
  TRITONSERVER_Error* error =
      TRITONSERVER_MetricFamilyNew(&family->handle, spec->kind, spec->name, spec->description);
  if (error != NULL) {
    release_name(model, spec->name);
    refuse(
        stub, "family '%s' (id %llu): Triton refused it: %s", spec->name, id,
        TRITONSERVER_ErrorMessage(error));
    TRITONSERVER_ErrorDelete(error);
    free(family->name);
    free(family);
    return NULL;
  }
  family->kind = spec->kind;
  family->next = model->families;
  model->families = family;
  model->family_count++;
  return family;
}

static void apply_family(tdn_metrics_stub* stub, const tdn_metric_family_item* item)
{
  tdn_metric_family_spec spec;
  tdn_diag why;
  if (!tdn_metric_family_read(item, &spec, &why)) {
    refuse(stub, "%s", why.text);
    return;
  }
  const unsigned long long id = (unsigned long long)spec.id;
  if (id_in_use(stub, spec.id)) {
    refuse(stub, "family '%s': id %llu is already in use", spec.name, id);
    return;
  }
  if (stub->families.count >= TDN_METRICS_MAX_FAMILIES) {
    refuse(
        stub, "family '%s' (id %llu): the instance already holds %u families, the most allowed",
        spec.name, id, TDN_METRICS_MAX_FAMILIES);
    return;
  }
  model_family* shared = model_family_for(stub, &spec);
  if (shared == NULL) {
    return;
  }
  stub_family* family = calloc(1, sizeof(*family));
  if (family == NULL || !tdn_id_map_put(&stub->families, spec.id, family)) {
    free(family);
    refuse(stub, "family '%s' (id %llu): out of memory", spec.name, id);
    if (shared->bindings == 0) {
      drop_model_family(stub->model, shared);
    }
    return;
  }
  family->family = shared;
  shared->bindings++;
}

/* Makes the Triton metric with the spec's labels (and buckets). */
static TRITONSERVER_Error* new_triton_metric(
    model_family* family, const tdn_metric_spec* spec, TRITONSERVER_Metric** metric)
{
  const TRITONSERVER_Parameter* parameters[TDN_METRICS_MAX_LABELS];
  size_t made = 0;
  TRITONSERVER_Error* error = NULL;
  for (; made < spec->label_count; ++made) {
    parameters[made] = TRITONSERVER_ParameterNew(
        spec->labels[made].name.text, TRITONSERVER_PARAMETER_STRING,
        spec->labels[made].value.text);
    if (parameters[made] == NULL) {
      error = TRITONSERVER_ErrorNew(TRITONSERVER_ERROR_INTERNAL, "out of memory for a label");
      break;
    }
  }
  if (error == NULL && family->kind != TRITONSERVER_METRIC_KIND_HISTOGRAM) {
    error = TRITONSERVER_MetricNew(metric, family->handle, parameters, made);
  } else if (error == NULL) {
    const tdn_histogram_api* api = tdn_histogram_api_get(); /* non-NULL: the family exists */
    TRITONSERVER_MetricArgs* args = NULL;
    error = api->args_new(&args);
    if (error == NULL) {
      error = api->args_set_histogram(args, spec->buckets, spec->bucket_count);
    }
    if (error == NULL) {
      error = api->metric_new_with_args(metric, family->handle, parameters, made, args);
    }
    if (args != NULL) {
      TDN_LOG_IF_ERROR(api->args_delete(args), "cannot delete custom metric arguments");
    }
  }
  for (size_t i = 0; i < made; ++i) {
    TRITONSERVER_ParameterDelete((TRITONSERVER_Parameter*)parameters[i]);
  }
  return error;
}

static void apply_metric(tdn_metrics_stub* stub, const tdn_metric_item* item)
{
  tdn_metric_spec spec;
  tdn_diag why;
  if (!tdn_metric_read(item, &spec, &why)) {
    refuse(stub, "%s", why.text);
    return;
  }
  const unsigned long long id = (unsigned long long)spec.id;
  if (id_in_use(stub, spec.id)) {
    refuse(stub, "metric id %llu: the id is already in use", id);
    return;
  }
  stub_family* family = tdn_id_map_get(&stub->families, spec.family);
  if (family == NULL) {
    refuse(
        stub, "metric id %llu: its family id %llu is unknown (never declared, refused, or "
        "deleted)",
        id, (unsigned long long)spec.family);
    return;
  }
  const char* name = family->family->name;
  if (!tdn_metric_check_kind(&spec, family->family->kind, &why)) {
    refuse(stub, "family '%s': %s", name, why.text);
    return;
  }
  if (stub->model->metric_count >= TDN_METRICS_MAX_METRICS) {
    refuse(
        stub, "metric id %llu of family '%s': the model already has %u metrics, the most "
        "allowed",
        id, name, TDN_METRICS_MAX_METRICS);
    return;
  }
  stub_metric* metric = calloc(1, sizeof(*metric));
  if (metric == NULL) {
    refuse(stub, "metric id %llu of family '%s': out of memory", id, name);
    return;
  }
  TRITONSERVER_Error* error = new_triton_metric(family->family, &spec, &metric->handle);
  if (error != NULL) {
    refuse(
        stub, "metric id %llu of family '%s': Triton refused it: %s", id, name,
        TRITONSERVER_ErrorMessage(error));
    TRITONSERVER_ErrorDelete(error);
    free(metric);
    return;
  }
  if (!tdn_id_map_put(&stub->metrics, spec.id, metric)) {
    TDN_LOG_IF_ERROR(TRITONSERVER_MetricDelete(metric->handle), "cannot delete a custom metric");
    free(metric);
    refuse(stub, "metric id %llu of family '%s': out of memory", id, name);
    return;
  }
  metric->family = family;
  family->metrics++;
  family->family->metrics++;
  stub->model->metric_count++;
}

/* The reason `op` does not suit a metric of `kind` with `value`, or NULL. */
static const char* unsuitable(tdn_metric_op op, TRITONSERVER_MetricKind kind, double value)
{
  switch (op) {
    case TDN_METRIC_INC:
      if (kind == TRITONSERVER_METRIC_KIND_HISTOGRAM) {
        return "a histogram is observed, not incremented";
      }
      return kind == TRITONSERVER_METRIC_KIND_COUNTER && value < 0
                 ? "a counter only increases: the value must not be negative"
                 : NULL;
    case TDN_METRIC_SET:
      return kind == TRITONSERVER_METRIC_KIND_GAUGE ? NULL : "only a gauge can be set";
    case TDN_METRIC_OBSERVE:
      return kind == TRITONSERVER_METRIC_KIND_HISTOGRAM ? NULL : "only a histogram observes";
  }
  return "unknown operation";
}

static void apply_update(tdn_metrics_stub* stub, const tdn_metric_update_item* item)
{
  tdn_metric_update update;
  tdn_diag why;
  if (!tdn_metric_update_read(item, &update, &why)) {
    refuse(stub, "%s", why.text);
    return;
  }
  const unsigned long long id = (unsigned long long)update.id;
  const char* op = tdn_metric_op_name(update.op);
  const stub_metric* metric = tdn_id_map_get(&stub->metrics, update.id);
  if (metric == NULL) {
    refuse(
        stub, "%s %.17g on metric id %llu: no metric has this id (never created, refused, or "
        "deleted)",
        op, update.value, id);
    return;
  }
  const model_family* family = metric->family->family;
  const char* problem = unsuitable(update.op, family->kind, update.value);
  if (problem != NULL) {
    refuse(
        stub, "%s %.17g on metric id %llu of %s '%s': %s", op, update.value, id,
        tdn_metric_kind_name(family->kind), family->name, problem);
    return;
  }
  TRITONSERVER_Error* error = NULL;
  switch (update.op) {
    case TDN_METRIC_INC:
      error = TRITONSERVER_MetricIncrement(metric->handle, update.value);
      break;
    case TDN_METRIC_SET:
      error = TRITONSERVER_MetricSet(metric->handle, update.value);
      break;
    case TDN_METRIC_OBSERVE:
      error = tdn_histogram_api_get()->observe(metric->handle, update.value);
      break;
  }
  if (error != NULL) {
    refuse(
        stub, "%s %.17g on metric id %llu of '%s': Triton refused it: %s", op, update.value, id,
        family->name, TRITONSERVER_ErrorMessage(error));
    TRITONSERVER_ErrorDelete(error);
  }
}

/* ---- Batches ----------------------------------------------------------- */

void tdn_metrics_apply(
    tdn_metrics_stub* stub, int64_t stub_pid, const uint8_t* data, size_t length)
{
  tdn_metrics_batch batch;
  tdn_diag why;
  const bool parsed = tdn_metrics_batch_parse(data, length, &batch, &why);
  pthread_mutex_lock(&stub->model->lock);
  if (stub->pid != stub_pid) {
    /* A new stub numbers its ids from 1 again. */
    reset_locked(stub);
    stub->pid = stub_pid;
  }
  if (!parsed) {
    char message[TDN_DIAG_CAPACITY + 64];
    snprintf(message, sizeof(message), "a custom metrics batch was refused whole: %s", why.text);
    warn_text(stub, message);
    pthread_mutex_unlock(&stub->model->lock);
    return;
  }
  for (uint32_t i = 0; i < batch.deleted_metric_count; ++i) {
    apply_metric_delete(stub, batch.deleted_metrics[i]);
  }
  for (uint32_t i = 0; i < batch.deleted_family_count; ++i) {
    apply_family_delete(stub, batch.deleted_families[i]);
  }
  for (uint32_t i = 0; i < batch.family_count; ++i) {
    apply_family(stub, &batch.families[i]);
  }
  for (uint32_t i = 0; i < batch.metric_count; ++i) {
    apply_metric(stub, &batch.metrics[i]);
  }
  for (uint32_t i = 0; i < batch.update_count; ++i) {
    apply_update(stub, &batch.updates[i]);
  }
  pthread_mutex_unlock(&stub->model->lock);
  tdn_metrics_batch_free(&batch);
}
