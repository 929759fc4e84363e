/*
 * record_check.h: the checks on the fields of a stub record that say how a
 * kind is used (not where its payload lies: that is checked against the
 * arena where the payload is read). One place, so that the parent and the
 * wire golden test (tests/wire/golden_c.c) judge records the same way.
 */
#ifndef TDN_RECORD_CHECK_H
#define TDN_RECORD_CHECK_H

#include <stdbool.h>

#include "diag.h"
#include "tdn_wire.h"

/* READY: aux holds only TDN_READY_* bits. */
bool tdn_check_ready(const tdn_record* record, tdn_diag* why);

/* READINESS: a nonzero probe id, aux 0 (ready) or 1 (not), a reason of at
 * most TDN_MAX_LOG_LENGTH bytes. */
bool tdn_check_readiness(const tdn_record* record, tdn_diag* why);

/* RESPONSE's flags: FINAL and/or a payload, or RESCHEDULE alone (no
 * payload, no FINAL). */
bool tdn_check_response_flags(const tdn_record* record, tdn_diag* why);

#endif /* TDN_RECORD_CHECK_H */
