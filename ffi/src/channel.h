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

typedef struct tdn_channel {
  tdn_ring* to_stub;
  tdn_ring* to_parent;
  uint32_t published; /* records we have put on to_stub */
  uint32_t consumed;  /* records we have taken from to_parent */
} tdn_channel;

/* Attaches to a freshly written (all-zero rings) control page. */
void tdn_channel_init(tdn_channel* channel, tdn_control* control);

/* Publishes one record to the stub and wakes it if it sleeps. Fails only
 * if the stub has stopped consuming (ring full) or corrupted its head. */
bool tdn_channel_send(tdn_channel* channel, const tdn_record* record, tdn_diag* diag);

typedef enum tdn_receive_status {
  TDN_RECEIVED, /* *record holds the next record */
  TDN_NOTHING,  /* the wait elapsed with the ring empty */
  TDN_BROKEN,   /* the stub's tail is impossible; diag says how */
} tdn_receive_status;

/* Takes the next record from the stub. Spins for up to spin_ns watching the
 * tail, then sleeps on the futex for at most wait_ns in total. */
tdn_receive_status tdn_channel_receive(
    tdn_channel* channel, tdn_record* record, uint64_t spin_ns, uint64_t wait_ns, tdn_diag* diag);

#endif /* TDN_CHANNEL_H */
