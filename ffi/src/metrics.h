/*
 * metrics.h: custom metrics from a model's stubs, applied through Triton's
 * metrics API. A model's stubs send METRICS batches (metrics_batch.h) that
 * name families and metrics by ids of their own; here those ids become
 * TRITONSERVER_MetricFamily and TRITONSERVER_Metric handles.
 *
 *   - Families belong to the model: every instance that declares a family
 *     name shares one TRITONSERVER_MetricFamily (deleted when the last
 *     instance lets go of it). Declaring a name again with another kind is
 *     refused; the first description stays, as in Triton.
 *   - Metrics belong to one stub: each id is its own TRITONSERVER_Metric.
 *     Two instances with the same labels share the series in Triton.
 *   - A restarted stub numbers from 1 again: its predecessor's metrics are
 *     deleted and its families let go of first.
 *   - Everything the stub sends is checked (it is untrusted). A refused
 *     operation is skipped with a warning naming the model and instance
 *     (rate-limited per instance); requests never fail because of it.
 *   - At most TDN_METRICS_MAX_FAMILIES families and TDN_METRICS_MAX_METRICS
 *     metrics per model.
 *
 * One lock per model guards its families and every stub's maps, since the
 * instances of a model run on their own threads.
 */
#ifndef TDN_METRICS_H
#define TDN_METRICS_H

#include <stddef.h>
#include <stdint.h>

#define TDN_METRICS_MAX_FAMILIES 1024u
#define TDN_METRICS_MAX_METRICS 16384u

/* Warnings an instance may log in a burst, and how fast the allowance
 * returns (as for the stub's LOG lines, stub_log.h). */
#define TDN_METRICS_WARN_BURST 20u
#define TDN_METRICS_WARN_REFILL_NS (200ull * 1000ull * 1000ull) /* 5 per second */

typedef struct tdn_metrics_model tdn_metrics_model;
typedef struct tdn_metrics_stub tdn_metrics_stub;

/* A model's registry; NULL when out of memory. The name is copied. */
tdn_metrics_model* tdn_metrics_model_new(const char* model_name);

/* At model finalize, after every instance's tdn_metrics_stub_free: deletes
 * whatever is left. NULL is allowed. */
void tdn_metrics_model_free(tdn_metrics_model* model);

/* One instance's view; NULL when out of memory. The name is copied. */
tdn_metrics_stub* tdn_metrics_stub_new(tdn_metrics_model* model, const char* instance_name);

/* At instance finalize: deletes the stub's metrics and lets go of its
 * families. NULL is allowed. */
void tdn_metrics_stub_free(tdn_metrics_stub* stub);

/* The stub process is gone: the same as free, but the view stays for the
 * next stub. */
void tdn_metrics_stub_reset(tdn_metrics_stub* stub);

/* Applies one METRICS batch from the stub process `stub_pid`. A pid other
 * than the last batch's means a new stub: the old one's state is reset
 * first. Never fails; what it refuses it logs. */
void tdn_metrics_apply(
    tdn_metrics_stub* stub, int64_t stub_pid, const uint8_t* data, size_t length);

/* Logs a warning about the stub's metrics (rate-limited like the rest). */
void tdn_metrics_warn(tdn_metrics_stub* stub, const char* format, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* TDN_METRICS_H */
