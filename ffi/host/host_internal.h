/*
 * host_internal.h: helpers shared by the test host's source files. Nothing
 * here is exported from libtriton_host.so.
 */
#ifndef HOST_INTERNAL_H
#define HOST_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "host_types.h"

/* ---- Clock: the same monotonic clock backends use for statistics. ---- */

static inline uint64_t host_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- Strings and error text (util.c). ---- */

/* strdup that treats NULL as "" and aborts on out-of-memory: the host is
 * test scaffolding, and a half-built object would only hide the real bug. */
char* host_strdup(const char* text);
void* host_alloc(size_t bytes); /* zeroed; aborts on out-of-memory */
void* host_grow(void* old, size_t bytes);
/* Formats into a caller's out-buffer (always NUL-terminated when cap > 0). */
void host_write_text(char* out, uint32_t cap, const char* format, ...)
    __attribute__((format(printf, 3, 4)));
/* A new error object with a formatted message. */
TRITONSERVER_Error* host_error_new(TRITONSERVER_Error_Code code, const char* format, ...)
    __attribute__((format(printf, 2, 3)));
/* Copies an error's text into the out-buffer, then deletes the error. */
void host_error_take(TRITONSERVER_Error* error, char* out, uint32_t cap);
/* CLOCK_REALTIME `ms` from now: the deadline pthread_cond_timedwait takes. */
struct timespec host_deadline_in(uint32_t ms);

/* ---- Violations of Triton's rules by the backend (violations.c). ---- */

typedef enum host_violation {
  HOST_VIOLATION_BAD_HANDLE = 0,
  HOST_VIOLATION_REQUEST_RELEASED_TWICE,
  HOST_VIOLATION_REQUEST_USED_AFTER_RELEASE,
  HOST_VIOLATION_REQUEST_NEVER_RELEASED,
  HOST_VIOLATION_REQUEST_WITHOUT_FINAL_RESPONSE,
  HOST_VIOLATION_REQUEST_FREED_WITH_LIVE_RESPONSES,
  HOST_VIOLATION_RESPONSE_AFTER_FINAL,
  HOST_VIOLATION_STATS_AFTER_RELEASE,
  HOST_VIOLATION_STATS_REPORTED_TWICE,
  HOST_VIOLATION_STATS_WRONG_INSTANCE,
  HOST_VIOLATION_STATS_TIMESTAMPS_OUT_OF_ORDER,
  HOST_VIOLATION_OUTPUT_BUFFER_TWICE,
  HOST_VIOLATION_EXECUTE_ERROR_AFTER_RELEASE,
  /* The server objects of in-process inference and metrics. */
  HOST_VIOLATION_DELETED_TWICE,
  HOST_VIOLATION_INFER_REQUEST_DELETED_IN_FLIGHT,
  HOST_VIOLATION_INFER_REQUEST_SUBMITTED_TWICE,
  HOST_VIOLATION_RESPONSE_ERROR_DELETED,
  HOST_VIOLATION_ALLOCATOR_DELETED_IN_USE,
  HOST_VIOLATION_METRIC_FAMILY_DELETED_WITH_METRICS,
  HOST_VIOLATION_INFER_REQUEST_ABANDONED,
  HOST_VIOLATION_COUNT
} host_violation;

/* Counts one violation and writes a line naming it to the host log. */
void host_violation_record(host_violation kind, const char* format, ...)
    __attribute__((format(printf, 2, 3)));
uint64_t host_violation_count(host_violation kind);
const char* host_violation_name(host_violation kind);
void host_violations_clear(void);

/* ---- Live object counts, to find leaks (violations.c). ---- */

typedef enum host_live_kind {
  HOST_LIVE_ERRORS = 0,
  HOST_LIVE_MESSAGES,
  HOST_LIVE_RESPONSES,
  HOST_LIVE_FACTORIES,
  HOST_LIVE_REQUESTS,
  HOST_LIVE_INFER_REQUESTS,
  HOST_LIVE_INFER_RESPONSES,
  HOST_LIVE_ALLOCATORS,
  HOST_LIVE_PARAMETERS,
  HOST_LIVE_METRIC_FAMILIES,
  HOST_LIVE_METRICS,
  HOST_LIVE_METRIC_ARGS,
  HOST_LIVE_COUNT
} host_live_kind;

void host_live_add(host_live_kind kind, int64_t delta);
int64_t host_live_count(host_live_kind kind);
const char* host_live_name(host_live_kind kind);

/* ---- Log (log.c). ---- */

void host_log_append(const char* level, const char* file, int line, const char* message);

/* ---- Growable text with JSON escaping (json_out.c). ---- */

typedef struct host_text {
  char* data;
  size_t length;
  size_t capacity;
} host_text;

void host_text_append(host_text* text, const char* bytes, size_t length);
void host_text_printf(host_text* text, const char* format, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends a JSON string literal (quotes included) for the given text. */
void host_text_json_string(host_text* text, const char* value);
/* Copies into a caller's buffer; returns the full length (excluding NUL) so
 * a caller with a small buffer knows how much to allocate. */
uint64_t host_text_export(const host_text* text, char* out, uint64_t cap);
void host_text_free(host_text* text);

/* ---- JSON syntax check (json_value.c, the host's one JSON reader). ---- */

/* Returns NULL if text[0..length) is one well-formed JSON value, else a
 * static description of the first problem. */
const char* host_json_check(const char* text, size_t length);

/* ---- Messages the host itself keeps (message.c): not counted as live. ---- */

TRITONSERVER_Error* host_message_new(TRITONSERVER_Message** message, const char* base,
                                     size_t byte_size, bool counted);
void host_message_free(TRITONSERVER_Message* message);

/* ---- Handle checks: each returns false (and records a violation) for a
 * NULL or foreign pointer. ---- */

bool host_check_magic(const void* object, uint32_t magic, const char* what);

/* What Triton's parameter getters point at for a value: the string itself
 * (STRING, BYTES), or the slot of its type. */
const void* host_typed_value_pointer(const host_typed_value* value);

/* ---- Requests and responses (request.c, response.c). ---- */

/* Counts a use of a request after it was released; returns true if so. */
bool host_request_note_use(TRITONBACKEND_Request* request, const char* api);
/* Records a response that Triton would have delivered to the client.
 * Takes ownership of the outputs array. Called with request->lock held. */
void host_request_record_response(TRITONBACKEND_Request* request, bool flags_only, uint32_t flags,
                                  const TRITONSERVER_Error* error,
                                  TRITONBACKEND_Output** outputs, uint32_t output_count,
                                  host_response_parameter* parameters,
                                  uint32_t parameter_count);
/* Frees an output object and its buffer. */
void host_output_free(TRITONBACKEND_Output* output);
/* Wakes threads waiting for a request's final response or release. */
void host_request_signal(void);
/* Blocks until the request has its final response and is released, or the
 * timeout passes. Returns true when both happened. */
bool host_request_wait_done(TRITONBACKEND_Request* request, uint32_t timeout_ms);
/* A condition on a request, checked under no lock of the caller's. */
typedef bool (*host_request_predicate)(TRITONBACKEND_Request* request, void* context);
/* Blocks until `ready` holds (rechecked whenever a response is sent or a
 * request released) or the timeout passes; returns its last answer. */
bool host_request_wait_until(TRITONBACKEND_Request* request, host_request_predicate ready,
                             void* context, uint32_t timeout_ms);
/* Appends the JSON of one sent response (error, flags, parameters, outputs). */
void host_sent_response_json(host_text* text, const host_sent_response* record);

/* A bench copy of a request: same metadata, inputs sharing its buffers. */
TRITONBACKEND_Request* host_request_clone_shared(TRITONBACKEND_Request* source);

/* Triton's name for an error code ("Invalid argument", ...). */
const char* host_error_code_string(TRITONSERVER_Error_Code code);

/* The datatype's element size in bytes, 0 for BYTES and INVALID. */
uint32_t host_datatype_size(TRITONSERVER_DataType datatype);

#endif /* HOST_INTERNAL_H */
