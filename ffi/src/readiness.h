/*
 * readiness.h: what an instance knows of its model's isReady() hook
 * (ffi/WIRE_FORMAT.md, "Readiness"). The parent sends IS_READY with a new
 * probe id when Triton asks whether the instance is ready and the last
 * answer is older than TDN_READY_INTERVAL_NS; READINESS answers arrive
 * wherever the parent reads the stub's ring (the readiness check itself,
 * the decoupled response thread, a batch) and land here. Guarded by its own
 * lock, so any thread may record an answer and any may wait for one.
 */
#ifndef TDN_READINESS_H
#define TDN_READINESS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "tdn_wire.h"

/* At most one probe per interval: a readiness check within it gets the last answer. */
#define TDN_READY_INTERVAL_NS (1000 * TDN_NS_PER_MS)
/* How long a probe may take; past it the instance is not ready. */
#define TDN_READY_TIMEOUT_NS (5000 * TDN_NS_PER_MS)

typedef struct tdn_readiness {
  pthread_mutex_t lock;
  pthread_cond_t answered; /* broadcast when an answer is recorded */
  uint64_t last_probe;     /* id of the last IS_READY sent (0: none) */
  uint64_t probe_sent_ns;
  uint64_t last_answer;    /* probe id of the last READINESS recorded (0: none) */
  uint64_t answer_ns;      /* when it was recorded */
  bool ready;
  char reason[TDN_MAX_LOG_LENGTH + 1]; /* the model's reason when not ready, printable */
} tdn_readiness;

void tdn_readiness_init(tdn_readiness* readiness);
void tdn_readiness_destroy(tdn_readiness* readiness);

/* A new stub: nothing is known of its model's readiness yet. */
void tdn_readiness_forget(tdn_readiness* readiness);

/* Records a READINESS answer (the record already checked) and wakes the
 * waiters. `reason` (not NUL-terminated, at most TDN_MAX_LOG_LENGTH bytes)
 * is copied and made printable. An answer older than the last one
 * recorded is ignored. */
void tdn_readiness_record(
    tdn_readiness* readiness, uint64_t probe, bool ready, const char* reason,
    size_t reason_length);

#endif /* TDN_READINESS_H */
