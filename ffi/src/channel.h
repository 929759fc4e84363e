/*
 * channel.h: the parent's ends of the two rings in the control page
 * (ffi/WIRE_FORMAT.md, "Rings and records"). The parent produces on
 * to_stub and consumes from to_parent.
 *
 * The parent keeps its own counters (tail it published, head it consumed)
 * and never reads them back from shared memory: the stub can scribble on
 * the whole control page, so only the stub's counters are read there, and
 * they are checked before use.
 */
#ifndef TDN_CHANNEL_H
#define TDN_CHANNEL_H

#include <stdbool.h>
#include <stdint.h>

#include "diag.h"
#include "tdn_wire.h"

/* Answer times remembered for the spin budget. */
#define TDN_ANSWER_HISTORY 16u

typedef struct tdn_channel {
  tdn_ring* to_stub;
  tdn_ring* to_parent;
  /* The doorbells' parent ends (stub_process.h), -1 until the stub runs:
   * ring_stub wakes a stub that sleeps with TDN_SLEEP_DOORBELL; the parent
   * sleeps on from_stub, and on stub_exit beside it (-1 without one). */
  int ring_stub_fd;
  int from_stub_fd;
  int stub_exit_fd;
  uint32_t published; /* records we have put on to_stub */
  uint32_t consumed;  /* records we have taken from to_parent */
  bool woke_stub;     /* the last send found the stub asleep and woke it */
  uint32_t soon;      /* what we last stored in to_stub->soon (never read back from the stub) */
  /* Bytes our own threads wrote on the parent's doorbell and no sleep has
   * drained yet (atomic: any thread adds, the waiter takes), and bytes from
   * the stub that no record explains (the waiter's alone): see
   * TDN_DOORBELL_EXCESS_MAX. */
  uint32_t own_rings;
  uint32_t bell_excess;
  uint32_t answers;   /* answer times noted so far */
  uint64_t answer_ns[TDN_ANSWER_HISTORY]; /* recent answer times, a ring */
} tdn_channel;

/* Attaches to a freshly written (all-zero rings) control page; no
 * doorbells yet (the parent sleeps on a futex until they are set). */
void tdn_channel_init(tdn_channel* channel, tdn_control* control);

/* Uses the doorbells of the stub just started (not owned: the supervisor
 * closes them); stub_exit_fd (-1: none) ends a sleep when the stub exits. */
void tdn_channel_set_doorbells(
    tdn_channel* channel, int ring_stub_fd, int from_stub_fd, int stub_exit_fd);

/* The stub rings the parent's doorbell once for a record it publishes
 * while the parent sleeps, so each record taken forgives
 * TDN_DOORBELL_FORGIVEN bytes there (a ring that crossed a wake-up leaves
 * its byte for the next sleep). Bytes beyond that are not the runtime's:
 * the model can write to the doorbell (descriptor 1 of the stub, reachable
 * through node:fs), and every byte ends a sleep of one of Triton's threads
 * for nothing: a flood would keep that thread spinning, on CPU that none of
 * the stub's limits bounds. More than TDN_DOORBELL_EXCESS_MAX unexplained
 * bytes break the protocol: the stub is killed and restarted. */
#define TDN_DOORBELL_FORGIVEN 8u
#define TDN_DOORBELL_EXCESS_MAX 4096u

/* Notes one byte that one of our threads wrote on the parent's doorbell
 * (to end a waiter's sleep), so that it is not counted as the stub's. */
void tdn_channel_count_own_ring(tdn_channel* channel);

/* Publishes one record to the stub and wakes it if it sleeps. Fails only
 * if the stub has stopped consuming (ring full) or corrupted its head. */
bool tdn_channel_send(tdn_channel* channel, const tdn_record* record, tdn_diag* diag);

/* Wakes a stub asleep on its doorbell with TDN_DOORBELL_COMING before the
 * next record is written, so that its wake-up (25-50 us on a VM) overlaps
 * the writing of a large record; the stub then spins for the record. Does
 * nothing (false) to a stub that is awake or sleeps on a futex: the send
 * wakes those. The send still rings if the stub sleeps again by then. */
bool tdn_channel_announce(const tdn_channel* channel);

/* Wakes a stub asleep on its doorbell with TDN_DOORBELL_SOON: a record is
 * likely to come within microseconds (siblings.h), so it spins for one a
 * while before sleeping again, as long as to_stub.soon stays odd (this
 * sets it so). Does not ring (false) a stub that is awake or sleeps on a
 * futex. With the supervisor's lock held, as for the call-off below. */
bool tdn_channel_wake_soon(tdn_channel* channel);

/* Calls off a SOON wake-up that still stands (the batch went to another
 * instance): to_stub.soon turns even, and a Worker spinning for the batch
 * sleeps again at once instead of spinning out TDN_SOON_SPIN_US. */
void tdn_channel_call_off_soon(tdn_channel* channel);

/* Records on to_stub the stub has not taken yet (as it reports; a value
 * it cannot have is TDN_RING_CAPACITY: no room). */
uint32_t tdn_channel_unread(const tdn_channel* channel);

/* The stub's to_stub.done: records it has finished with (untrusted). */
uint32_t tdn_channel_stub_done(const tdn_channel* channel);

typedef enum tdn_receive_status {
  TDN_RECEIVED, /* *record holds the next record */
  TDN_NOTHING,  /* the wait elapsed, or a sleep ended early, with the ring empty */
  TDN_BROKEN,   /* the stub's tail is impossible, or it flooded our doorbell; diag says how */
} tdn_receive_status;

/* Takes the next record from the stub. Spins for up to spin_ns watching the
 * tail, then sleeps on its doorbell (a futex before there is one) for at
 * most wait_ns in total. A sleep on the doorbell that ends without a record
 * (another thread rang it, or the stub exited) ends the call, so that the
 * caller can see why. */
tdn_receive_status tdn_channel_receive(
    tdn_channel* channel, tdn_record* record, uint64_t spin_ns, uint64_t wait_ns, tdn_diag* diag);

/* Publishes to_parent.done: every record taken so far has been handled,
 * so the stub may reuse the space of their payloads. */
void tdn_channel_mark_done(tdn_channel* channel);

/* Notes how long the stub took to answer a batch (send to reply). Not kept
 * when that send had to wake the stub: then the time is mostly its
 * wake-up, not its work. */
void tdn_channel_note_answer(tdn_channel* channel, uint64_t answer_ns);

/* How long to spin for the stub's answer before sleeping: twice the median
 * of the last TDN_ANSWER_HISTORY answers, within [TDN_SPIN_MIN_NS,
 * TDN_SPIN_MAX_NS]. Spinning saves a wake-up, which costs 25-100 us on a VM
 * (the Worker rings our doorbell, one thread hop); but on few cores a
 * spinning parent takes CPU
 * from the stub that computes the answer (or wakes up), so the spin follows
 * what the stub usually needs and is capped: a stub that computes for
 * longer costs up to TDN_SPIN_MAX_NS of spinning per batch, and one whose
 * median is above TDN_SPIN_GIVE_UP_NS (clearly computing, not waking up)
 * only TDN_SPIN_MIN_NS. Answers we slept through count as measured (with
 * our wake-up): so a budget below the stub's usual time grows to it
 * instead of never seeing it. */
uint64_t tdn_channel_spin_budget(const tdn_channel* channel);

#define TDN_SPIN_MIN_NS (20 * 1000ull)
#define TDN_SPIN_MAX_NS (100 * 1000ull)
#define TDN_SPIN_GIVE_UP_NS (1000 * 1000ull)

#endif /* TDN_CHANNEL_H */
