/*
 * siblings.h: a model's instances, as candidates for its next batch, so
 * that one instance's answer can wake the stub that will most likely serve
 * the next request before that request arrives.
 *
 * Why: when requests are spread over more instances than are busy (a
 * client at concurrency 1 and a model with 2 or 4 instances), every batch
 * finds its stub asleep, and waking a sleeping thread costs 25-50 us on a
 * VM, as much as the rest of the batch. Triton's instance threads wait for
 * a model's requests on one condition variable and are served first come,
 * first served, so the next request goes to the instance whose last batch
 * ended longest ago. While a model's batches come back to back (most recent
 * gaps between one batch's end and the next one's start, with none running,
 * are under TDN_SIBLINGS_GAP_NS), an instance that has its answer wakes
 * that sibling ahead of time (a SOON byte on its stub's doorbell:
 * ffi/WIRE_FORMAT.md, "Sleeping and waking"). The stub's wake-up then
 * overlaps Triton's completion, the client's next request and Triton's
 * scheduling instead of following them. Sporadic traffic wakes nobody
 * early.
 *
 * The guess is not always right: an instance thread that returns to
 * Triton's queue before the thread woken for the next request has run takes
 * that request itself (in Triton's core on 2 vCPUs, 12-25% of requests at
 * concurrency 1), and the woken thread, finding nothing, waits again at the
 * back of the queue. The guess follows that: when a batch begins on an
 * instance other than the one at the front, the front one moves to the
 * back (with 4 instances, 85% of next instances guessed right against 65%
 * without, replaying a trace). A sibling woken for a batch that then
 * begins elsewhere is called off at once (to_stub.soon turns even), so a
 * wrong guess costs a spin until then rather than all of
 * TDN_SOON_SPIN_US. Guesses are made only when the answering instance is
 * the model's only one in a batch, and they are judged: an early wake-up
 * hits when the sibling's batch begins within that spin. While at least 4
 * of the last 16 hit, every such answer wakes its guess; below that it
 * stops, and tries again with a trial of 16 guesses judged together, after
 * 16 answers at first and after twice as many for each trial that failed
 * (at most 1024). At concurrency 1 in Triton's core 60-90% hit; with
 * batches overlapping (concurrency 4) about 10%, and there they stop.
 *
 * Thread safety: one lock; every call may come from any instance's thread.
 * `wake` and `call_off` are called with the lock held, so a member cannot
 * leave during them; they must not block (supervisor.c's
 * tdn_supervisor_prewake and tdn_supervisor_call_off_prewake only try their
 * stub's lock).
 */
#ifndef TDN_SIBLINGS_H
#define TDN_SIBLINGS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A gap this short between batches counts as back to back. */
#define TDN_SIBLINGS_GAP_NS (150 * 1000ull)
/* How many recent gaps, and how many recent guesses, decide. */
#define TDN_SIBLINGS_HISTORY 16
/* Of the last TDN_SIBLINGS_HISTORY guesses, this many must have hit. */
#define TDN_SIBLINGS_HITS_NEEDED 4
/* Answers without guessing before the first trial, and at most between two. */
#define TDN_SIBLINGS_TRIAL_EVERY 16
#define TDN_SIBLINGS_TRIAL_EVERY_MAX 1024

typedef void (*tdn_sibling_wake)(void* member);

typedef struct tdn_sibling {
  void* member;         /* the instance's own (its supervisor) */
  bool executing;
  uint64_t last_end_ns; /* when its last batch ended (0: none yet) */
} tdn_sibling;

/* The last TDN_SIBLINGS_HISTORY yes-or-no outcomes, newest in bit 0, and
 * how many are known (at most TDN_SIBLINGS_HISTORY). */
typedef struct tdn_outcomes {
  uint32_t bits;
  uint32_t noted;
} tdn_outcomes;

typedef struct tdn_siblings {
  pthread_mutex_t lock;
  tdn_sibling_wake wake;
  tdn_sibling_wake call_off;
  tdn_sibling* members;
  size_t count, capacity;
  uint32_t executing;   /* members in a batch now */
  uint64_t last_end_ns; /* the model's last batch end (0: none yet) */
  tdn_outcomes short_gaps; /* whether each recent gap was back to back */
  /* The guess in flight: whom an answer woke, and when (NULL: none). */
  const void* guessed;
  uint64_t guessed_ns;
  tdn_outcomes hits; /* whether each recent guess hit, since guessing last (re)started */
  bool guessing;        /* the last TDN_SIBLINGS_HISTORY guesses mostly hit */
  uint32_t trial_left;  /* guesses left in a trial (0: none running) */
  uint32_t since_trial; /* answers without guessing */
  uint32_t trial_every;
  uint64_t woken_total, hits_total; /* for the log at unload */
} tdn_siblings;

/* `wake` wakes a member's stub ahead of a batch; `call_off` tells it that
 * the batch went elsewhere. */
void tdn_siblings_init(tdn_siblings* siblings, tdn_sibling_wake wake, tdn_sibling_wake call_off);
void tdn_siblings_destroy(tdn_siblings* siblings);

/* Adds a member; false when out of memory (the member is then never woken
 * early, which costs only speed). */
bool tdn_siblings_join(tdn_siblings* siblings, void* member);
/* Removes a member (no-op if absent); after it returns, `wake` is never
 * called with it again. */
void tdn_siblings_leave(tdn_siblings* siblings, const void* member);

/* A member's batch begins at `now_ns`. */
void tdn_siblings_begin(tdn_siblings* siblings, const void* member, uint64_t now_ns);
/* A member has its batch's answer at `now_ns`: while batches come back to
 * back and the guesses hit, wakes the idle sibling whose last batch ended
 * longest ago. */
void tdn_siblings_answered(tdn_siblings* siblings, const void* member, uint64_t now_ns);
/* A member's batch ended at `now_ns`. */
void tdn_siblings_end(tdn_siblings* siblings, const void* member, uint64_t now_ns);

#endif /* TDN_SIBLINGS_H */
