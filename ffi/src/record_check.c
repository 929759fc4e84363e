/*
 * record_check.c: see record_check.h.
 */
#include "record_check.h"

bool tdn_check_ready(const tdn_record* record, tdn_diag* why)
{
  if ((record->aux & ~TDN_READY_HAS_IS_READY) != 0) {
    return tdn_diag_set(why, "sent READY with unknown aux bits %u", record->aux);
  }
  return true;
}

bool tdn_check_readiness(const tdn_record* record, tdn_diag* why)
{
  if (record->id == 0 || record->aux > 1) {
    return tdn_diag_set(
        why, "sent READINESS with probe id %llu and aux %u (expected a probe id and 0 or 1)",
        (unsigned long long)record->id, record->aux);
  }
  if (record->length > TDN_MAX_LOG_LENGTH) {
    return tdn_diag_set(
        why, "sent READINESS with a reason of %llu bytes, at most %u allowed",
        (unsigned long long)record->length, TDN_MAX_LOG_LENGTH);
  }
  return true;
}

bool tdn_check_response_flags(const tdn_record* record, tdn_diag* why)
{
  const bool final = (record->flags & TDN_FLAG_FINAL) != 0;
  const bool reschedule = (record->flags & TDN_FLAG_RESCHEDULE) != 0;
  const bool known = (record->flags & ~(TDN_FLAG_FINAL | TDN_FLAG_RESCHEDULE)) == 0;
  const bool empty = record->length == 0 && !final && !reschedule;
  if (!known || empty || (reschedule && (final || record->length != 0))) {
    return tdn_diag_set(
        why, "sent a RESPONSE with flags %u and %llu bytes", record->flags,
        (unsigned long long)record->length);
  }
  return true;
}
