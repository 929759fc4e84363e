/*
 * violations.c: counters for every way a backend can break Triton's rules
 * (release twice, never release, respond after FINAL, ...) and for live
 * objects (errors, messages, responses, factories, requests), so tests can
 * assert that none happened and nothing leaked.
 */
#include <stdatomic.h>
#include <stdio.h>

#include "host_api.h"
#include "host_internal.h"

static atomic_uint_fast64_t host_violation_counts[HOST_VIOLATION_COUNT];
static atomic_int_fast64_t host_live_counts[HOST_LIVE_COUNT];

static const char* const host_violation_names[HOST_VIOLATION_COUNT] = {
    [HOST_VIOLATION_BAD_HANDLE] = "bad_handle",
    [HOST_VIOLATION_REQUEST_RELEASED_TWICE] = "request_released_twice",
    [HOST_VIOLATION_REQUEST_USED_AFTER_RELEASE] = "request_used_after_release",
    [HOST_VIOLATION_REQUEST_NEVER_RELEASED] = "request_never_released",
    [HOST_VIOLATION_REQUEST_WITHOUT_FINAL_RESPONSE] = "request_without_final_response",
    [HOST_VIOLATION_REQUEST_FREED_WITH_LIVE_RESPONSES] = "request_freed_with_live_responses",
    [HOST_VIOLATION_RESPONSE_AFTER_FINAL] = "response_after_final",
    [HOST_VIOLATION_STATS_AFTER_RELEASE] = "stats_after_release",
    [HOST_VIOLATION_STATS_REPORTED_TWICE] = "stats_reported_twice",
    [HOST_VIOLATION_STATS_WRONG_INSTANCE] = "stats_wrong_instance",
    [HOST_VIOLATION_STATS_TIMESTAMPS_OUT_OF_ORDER] = "stats_timestamps_out_of_order",
    [HOST_VIOLATION_OUTPUT_BUFFER_TWICE] = "output_buffer_twice",
    [HOST_VIOLATION_EXECUTE_ERROR_AFTER_RELEASE] = "execute_error_after_release",
    [HOST_VIOLATION_DELETED_TWICE] = "deleted_twice",
    [HOST_VIOLATION_INFER_REQUEST_DELETED_IN_FLIGHT] = "infer_request_deleted_in_flight",
    [HOST_VIOLATION_INFER_REQUEST_SUBMITTED_TWICE] = "infer_request_submitted_twice",
    [HOST_VIOLATION_RESPONSE_ERROR_DELETED] = "response_error_deleted",
    [HOST_VIOLATION_ALLOCATOR_DELETED_IN_USE] = "allocator_deleted_in_use",
    [HOST_VIOLATION_METRIC_FAMILY_DELETED_WITH_METRICS] = "metric_family_deleted_with_metrics",
    [HOST_VIOLATION_INFER_REQUEST_ABANDONED] = "infer_request_abandoned",
};

static const char* const host_live_names[HOST_LIVE_COUNT] = {
    [HOST_LIVE_ERRORS] = "errors",
    [HOST_LIVE_MESSAGES] = "messages",
    [HOST_LIVE_RESPONSES] = "responses",
    [HOST_LIVE_FACTORIES] = "response_factories",
    [HOST_LIVE_REQUESTS] = "requests",
    [HOST_LIVE_INFER_REQUESTS] = "infer_requests",
    [HOST_LIVE_INFER_RESPONSES] = "infer_responses",
    [HOST_LIVE_ALLOCATORS] = "response_allocators",
    [HOST_LIVE_PARAMETERS] = "parameters",
    [HOST_LIVE_METRIC_FAMILIES] = "metric_families",
    [HOST_LIVE_METRICS] = "metrics",
    [HOST_LIVE_METRIC_ARGS] = "metric_args",
};

const char* host_violation_name(host_violation kind) {
  return kind < HOST_VIOLATION_COUNT ? host_violation_names[kind] : "unknown";
}

const char* host_live_name(host_live_kind kind) {
  return kind < HOST_LIVE_COUNT ? host_live_names[kind] : "unknown";
}

void host_violation_record(host_violation kind, const char* format, ...) {
  if (kind >= HOST_VIOLATION_COUNT) return;
  atomic_fetch_add(&host_violation_counts[kind], 1);
  char detail[512];
  va_list args;
  va_start(args, format);
  vsnprintf(detail, sizeof detail, format, args);
  va_end(args);
  char line[640];
  snprintf(line, sizeof line, "host violation %s: %s", host_violation_name(kind), detail);
  host_log_append("E", "host", 0, line);
}

uint64_t host_violation_count(host_violation kind) {
  return kind < HOST_VIOLATION_COUNT ? atomic_load(&host_violation_counts[kind]) : 0;
}

void host_violations_clear(void) {
  for (int i = 0; i < HOST_VIOLATION_COUNT; i++) atomic_store(&host_violation_counts[i], 0);
}

void host_live_add(host_live_kind kind, int64_t delta) {
  if (kind < HOST_LIVE_COUNT) atomic_fetch_add(&host_live_counts[kind], delta);
}

int64_t host_live_count(host_live_kind kind) {
  return kind < HOST_LIVE_COUNT ? atomic_load(&host_live_counts[kind]) : 0;
}

uint64_t host_violations_json(char* out, uint64_t cap) {
  host_text text = {0};
  host_text_append(&text, "{\"violations\":{", 15);
  for (int i = 0; i < HOST_VIOLATION_COUNT; i++) {
    host_text_printf(&text, "%s\"%s\":%llu", i == 0 ? "" : ",",
                     host_violation_name((host_violation)i),
                     (unsigned long long)host_violation_count((host_violation)i));
  }
  host_text_append(&text, "},\"live\":{", 10);
  for (int i = 0; i < HOST_LIVE_COUNT; i++) {
    host_text_printf(&text, "%s\"%s\":%lld", i == 0 ? "" : ",",
                     host_live_name((host_live_kind)i),
                     (long long)host_live_count((host_live_kind)i));
  }
  host_text_append(&text, "}}", 2);
  uint64_t length = host_text_export(&text, out, cap);
  host_text_free(&text);
  return length;
}

void host_violations_reset(void) { host_violations_clear(); }
