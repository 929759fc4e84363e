/*
 * trace.h: per-hop timestamps for finding where a request's time goes (a
 * BLS call crosses two stubs, two parents and Triton's scheduler). Off
 * unless Triton's process has TDN_TRACE_FILE set when the backend
 * initializes: then every mark below is kept in memory, with the stubs'
 * own marks (TRACE records, ffi/WIRE_FORMAT.md), and appended to that file
 * as text when an instance finalizes (one line per mark:
 * `<realtime ns> <event> <instance> <id> <aux>`). tests/bench/bls_trace.ts
 * reads it. Off, a mark costs one predictable branch.
 *
 * Clock: CLOCK_REALTIME, the clock a stub's Worker can read
 * (performance.timeOrigin + performance.now()), so that both sides' marks
 * line up within a microsecond or two.
 */
#ifndef TDN_TRACE_H
#define TDN_TRACE_H

#include <stdbool.h>
#include <stdint.h>

/* The parent's events. The stubs' events are TDN_TRACE_* of tdn_wire.h
 * (below 100). */
typedef enum tdn_trace_event {
  TDN_TRACE_P_EXECUTE_ENTER = 100, /* ModelInstanceExecute entered */
  TDN_TRACE_P_SENT = 101,          /* id: record id; aux: kind | flags << 16; stamped just
                                      before the record went on to_stub */
  TDN_TRACE_P_TAKEN = 102,         /* id: record id; aux: kind; taken from to_parent */
  TDN_TRACE_P_BLS_SUBMITTED = 103, /* id: call id; TRITONSERVER_ServerInferAsync returned */
  TDN_TRACE_P_BLS_ALLOC = 104,     /* id: call id; the response allocator was asked */
  TDN_TRACE_P_BLS_RESPONSE = 105,  /* id: call id; aux: flags; the response callback */
  TDN_TRACE_P_BLS_RELEASED = 106,  /* id: call id; the release callback */
  TDN_TRACE_P_EXECUTE_LEAVE = 108, /* ModelInstanceExecute returns */
} tdn_trace_event;

/* Reads TDN_TRACE_FILE: tracing is on from now on while it names a file
 * (called at each backend initialization). */
void tdn_trace_init(void);

/* Set at backend initialization only; read with relaxed loads. */
extern bool tdn_trace_on;

static inline bool tdn_tracing(void)
{
  return __atomic_load_n(&tdn_trace_on, __ATOMIC_RELAXED);
}

/* CLOCK_REALTIME now, or 0 when tracing is off: for a mark kept only if
 * what follows succeeds (tdn_trace_mark_at ignores 0). */
uint64_t tdn_trace_now(void);

/* Keeps a mark stamped now. */
void tdn_trace_mark_now(uint32_t event, const char* instance, uint64_t id, uint32_t aux);

/* Keeps a mark stamped at `ns` (CLOCK_REALTIME; by the parent or a stub). */
void tdn_trace_mark_at(
    uint64_t ns, uint32_t event, const char* instance, uint64_t id, uint32_t aux);

/* Appends the marks kept so far to the file and forgets them. */
void tdn_trace_flush(void);

#define TDN_TRACE(event, instance, id, aux)                 \
  do {                                                      \
    if (__builtin_expect(tdn_tracing(), 0)) {               \
      tdn_trace_mark_now((event), (instance), (id), (aux)); \
    }                                                       \
  } while (0)

#endif /* TDN_TRACE_H */
