/*
 * stub_log.h: LOG records (ffi/WIRE_FORMAT.md, "LOG"): one line a stub
 * wants in Triton's log: what its model logged or printed, a permission it
 * was denied, a limit it hit. The text is the model's to forge, so it is bounded, made
 * printable (no line breaks to fake other log lines), prefixed with the
 * model and instance it came from, and rate-limited per instance with a
 * token bucket, so that a model cannot flood the log; what the bucket drops
 * is counted and reported with the next line that passes.
 */
#ifndef TDN_STUB_LOG_H
#define TDN_STUB_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "tdn_wire.h"
#include "triton_api.h"

/* Lines a stub may log in a burst, and how fast the allowance comes back. */
#define TDN_STUB_LOG_BURST 20u
#define TDN_STUB_LOG_REFILL_NS (200ull * 1000ull * 1000ull) /* 5 lines per second */
/* The "rate limit reached" warning is said at most this often per stub: a
 * flood that lets a line through now and then would otherwise warn each
 * time; the lines that pass carry the count of those dropped. */
#define TDN_STUB_LOG_WARN_INTERVAL_NS (60ull * 1000ull * 1000ull * 1000ull)

typedef struct tdn_stub_log {
  uint32_t tokens;
  uint64_t refilled_at_ns;
  uint64_t suppressed; /* dropped since the last line that passed */
  uint64_t logged;     /* lines written, for tests and statistics */
  uint64_t warned_at_ns; /* the last "rate limit reached" warning; 0: none yet */
} tdn_stub_log;

/* A full bucket. */
void tdn_stub_log_init(tdn_stub_log* log);

/* Copies the text `record` points at out of the arena (checked against it
 * and TDN_MAX_LOG_LENGTH) and writes the line to Triton's log if the bucket
 * allows. Never fails: a malformed record is itself logged (rate-limited). */
void tdn_stub_log_relay(
    tdn_stub_log* log, const uint8_t* arena, uint64_t arena_size, const tdn_record* record,
    const char* model_name, const char* instance_name, uint64_t now_ns);

/* Writes one line of a stub's text (`length` bytes, not NUL-terminated; cut at
 * TDN_MAX_LOG_LENGTH) to Triton's log at `level` after `label`, made
 * printable and prefixed like a LOG record's, if the bucket allows. The text
 * is copied before it is read for printing. */
void tdn_stub_log_line(
    tdn_stub_log* log, TRITONSERVER_LogLevel level, const char* label, const char* text,
    size_t length, const char* model_name, const char* instance_name, uint64_t now_ns);

#endif /* TDN_STUB_LOG_H */
