/*
 * model_stats.c: the statistics the stand-in server keeps per served
 * model version, from what the backend reports, counted as Triton's
 * statistics aggregator counts them:
 *
 *   - per request (TRITONBACKEND_ModelInstanceReportStatistics): success
 *     or fail with the time from submission to the report; for successes
 *     inference_count (the request's batch size), queue (queued to the
 *     execute's start), compute_input (execute start to compute start),
 *     compute_infer and compute_output (compute end to execute end);
 *     last_inference;
 *   - per batch (ReportBatchStatistics): execution_count and batch_stats by
 *     batch size.
 *
 * Triton's cache_hit/cache_miss, response_stats and memory_usage are
 * always empty here: the stand-in has no response cache.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host_core.h"

void host_model_stats_init(host_model_stats* stats) {
  memset(stats, 0, sizeof *stats);
  pthread_mutex_init(&stats->lock, NULL);
}

void host_model_stats_destroy(host_model_stats* stats) {
  pthread_mutex_destroy(&stats->lock);
  free(stats->batches);
  stats->batches = NULL;
}

static uint64_t host_span(uint64_t from, uint64_t to) { return to > from ? to - from : 0; }

static void host_add(host_duration* duration, uint64_t ns) {
  duration->count++;
  duration->ns += ns;
}

static uint64_t host_wall_ms(void) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  return (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
}

void host_model_stats_request(host_model_stats* stats, uint64_t queued_ns, uint64_t batch_size,
                              bool success, uint64_t exec_start_ns, uint64_t compute_start_ns,
                              uint64_t compute_end_ns, uint64_t exec_end_ns) {
  uint64_t now = host_now_ns();
  uint64_t wall = host_wall_ms();
  pthread_mutex_lock(&stats->lock);
  stats->last_inference_ms = wall > stats->last_inference_ms ? wall : stats->last_inference_ms;
  if (success) {
    stats->inference_count += batch_size;
    host_add(&stats->success, host_span(queued_ns, now));
    host_add(&stats->queue, host_span(queued_ns, exec_start_ns));
    host_add(&stats->compute_input, host_span(exec_start_ns, compute_start_ns));
    host_add(&stats->compute_infer, host_span(compute_start_ns, compute_end_ns));
    host_add(&stats->compute_output, host_span(compute_end_ns, exec_end_ns));
  } else {
    host_add(&stats->fail, host_span(queued_ns, now));
  }
  pthread_mutex_unlock(&stats->lock);
}

void host_model_stats_batch(host_model_stats* stats, uint64_t batch_size, uint64_t exec_start_ns,
                            uint64_t compute_start_ns, uint64_t compute_end_ns,
                            uint64_t exec_end_ns) {
  pthread_mutex_lock(&stats->lock);
  stats->execution_count++;
  uint32_t at = 0;
  while (at < stats->batch_count && stats->batches[at].batch_size < batch_size) at++;
  if (at == stats->batch_count || stats->batches[at].batch_size != batch_size) {
    stats->batches =
        host_grow(stats->batches, sizeof *stats->batches * (stats->batch_count + 1u));
    memmove(&stats->batches[at + 1], &stats->batches[at],
            sizeof *stats->batches * (stats->batch_count - at));
    memset(&stats->batches[at], 0, sizeof stats->batches[at]);
    stats->batches[at].batch_size = batch_size;
    stats->batch_count++;
  }
  host_batch_stats* batch = &stats->batches[at];
  host_add(&batch->compute_input, host_span(exec_start_ns, compute_start_ns));
  host_add(&batch->compute_infer, host_span(compute_start_ns, compute_end_ns));
  host_add(&batch->compute_output, host_span(compute_end_ns, exec_end_ns));
  pthread_mutex_unlock(&stats->lock);
}

void host_model_stats_pending(host_model_stats* stats, int64_t delta) {
  pthread_mutex_lock(&stats->lock);
  stats->pending = (uint64_t)((int64_t)stats->pending + delta);
  pthread_mutex_unlock(&stats->lock);
}

static void host_duration_json(host_text* out, const char* name, const host_duration* duration,
                               bool comma) {
  host_text_printf(out, "%s\"%s\":{\"count\":%llu,\"ns\":%llu}", comma ? "," : "", name,
                   (unsigned long long)duration->count, (unsigned long long)duration->ns);
}

void host_model_stats_json(host_text* out, host_model_stats* stats, const char* name,
                           uint64_t version) {
  static const host_duration none = {0, 0};
  pthread_mutex_lock(&stats->lock);
  host_text_printf(out, "{\"name\":");
  host_text_json_string(out, name);
  host_text_printf(out,
                   ",\"version\":\"%llu\",\"last_inference\":%llu,\"inference_count\":%llu,"
                   "\"execution_count\":%llu,\"inference_stats\":{",
                   (unsigned long long)version, (unsigned long long)stats->last_inference_ms,
                   (unsigned long long)stats->inference_count,
                   (unsigned long long)stats->execution_count);
  host_duration_json(out, "success", &stats->success, false);
  host_duration_json(out, "fail", &stats->fail, true);
  host_duration_json(out, "queue", &stats->queue, true);
  host_duration_json(out, "compute_input", &stats->compute_input, true);
  host_duration_json(out, "compute_infer", &stats->compute_infer, true);
  host_duration_json(out, "compute_output", &stats->compute_output, true);
  host_duration_json(out, "cache_hit", &none, true);
  host_duration_json(out, "cache_miss", &none, true);
  host_text_printf(out, "},\"response_stats\":{},\"batch_stats\":[");
  for (uint32_t i = 0; i < stats->batch_count; i++) {
    const host_batch_stats* batch = &stats->batches[i];
    host_text_printf(out, "%s{\"batch_size\":%llu", i > 0 ? "," : "",
                     (unsigned long long)batch->batch_size);
    host_duration_json(out, "compute_input", &batch->compute_input, true);
    host_duration_json(out, "compute_infer", &batch->compute_infer, true);
    host_duration_json(out, "compute_output", &batch->compute_output, true);
    host_text_printf(out, "}");
  }
  host_text_printf(out, "],\"memory_usage\":[]}");
  pthread_mutex_unlock(&stats->lock);
}
