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
   * sleeps on from_stub. */
  int ring_stub_fd;
  int from_stub_fd;
  uint32_t published; /* records we have put on to_stub */
  uint32_t consumed;  /* records we have taken from to_parent */
  bool woke_stub;     /* the last send found the stub asleep and woke it */
  /* Recent answer times (rings of TDN_ANSWER_HISTORY), kept apart for
   * sends that found the stub awake and sends that had to wake it. */
  uint32_t awake_answers;
  uint64_t awake_answer_ns[TDN_ANSWER_HISTORY];
  uint32_t woken_answers;
  uint64_t woken_answer_ns[TDN_ANSWER_HISTORY];
} tdn_channel;

/* Attaches to a freshly written (all-zero rings) control page; no
 * doorbells yet (the parent sleeps on a futex until they are set). */
void tdn_channel_init(tdn_channel* channel, tdn_control* control);

/* Uses the doorbells of the stub just started (not owned: the supervisor
 * closes them). */
void tdn_channel_set_doorbells(tdn_channel* channel, int ring_stub_fd, int from_stub_fd);

/* Publishes one record to the stub and wakes it if it sleeps. Fails only
 * if the stub has stopped consuming (ring full) or corrupted its head. */
bool tdn_channel_send(tdn_channel* channel, const tdn_record* record, tdn_diag* diag);

/* Records on to_stub the stub has not taken yet (as it reports; a value
 * it cannot have is TDN_RING_CAPACITY: no room). */
uint32_t tdn_channel_unread(const tdn_channel* channel);

/* The stub's to_stub.done: records it has finished with (untrusted). */
uint32_t tdn_channel_stub_done(const tdn_channel* channel);

typedef enum tdn_receive_status {
  TDN_RECEIVED, /* *record holds the next record */
  TDN_NOTHING,  /* the wait elapsed with the ring empty */
  TDN_BROKEN,   /* the stub's tail is impossible; diag says how */
} tdn_receive_status;

/* Takes the next record from the stub. Spins for up to spin_ns watching the
 * tail, then sleeps on its doorbell (a futex before there is one) for at
 * most wait_ns in total. */
tdn_receive_status tdn_channel_receive(
    tdn_channel* channel, tdn_record* record, uint64_t spin_ns, uint64_t wait_ns, tdn_diag* diag);

/* Publishes to_parent.done: every record taken so far has been handled,
 * so the stub may reuse the space of their payloads. */
void tdn_channel_mark_done(tdn_channel* channel);

/* Notes how long the stub took to answer a batch (send to reply), in the
 * history of the kind of send it was: to a stub that was awake, or to one
 * that the send had to wake. */
void tdn_channel_note_answer(tdn_channel* channel, uint64_t answer_ns);

/* How long to spin for the stub's answer to the last send before sleeping
 * on the doorbell: twice the median of the last TDN_ANSWER_HISTORY answers
 * of the same kind (stub awake, or woken by the send), within
 * [TDN_SPIN_MIN_NS, its maximum].
 *
 * Spinning saves our own wake-up, which costs 25-100 us on a VM. A stub
 * that was awake answers in microseconds; one that we had to wake needs
 * its own wake-up first, and sleeping through that would add ours to it:
 * the common case when instances outnumber busy clients (Triton hands
 * each request to the instance that has waited longest, so its Worker
 * slept). But on few cores a spinning parent takes CPU from the stub that
 * computes or wakes, so the spin follows what answers of that kind usually
 * take and is capped: a median above TDN_SPIN_GIVE_UP_NS (clearly
 * computing) for awake answers spins only TDN_SPIN_MIN_NS; one above
 * TDN_SPIN_WOKEN_MAX_NS for woken ones (the stubs queue for cores: a spin
 * would mostly miss, and a woken stub never answers within the minimum)
 * does not spin at all. Answers we slept through count as measured (with our
 * own wake-up), so a budget below the stub's usual time grows to it
 * instead of never seeing it. */
uint64_t tdn_channel_spin_budget(const tdn_channel* channel);

#define TDN_SPIN_MIN_NS (20 * 1000ull)
#define TDN_SPIN_MAX_NS (100 * 1000ull)
#define TDN_SPIN_GIVE_UP_NS (1000 * 1000ull)
#define TDN_SPIN_WOKEN_MAX_NS (150 * 1000ull)

#endif /* TDN_CHANNEL_H */
