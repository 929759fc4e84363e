/*
 * stub_log.c: see stub_log.h.
 */
#include "stub_log.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "utf8.h"

void tdn_stub_log_init(tdn_stub_log* log)
{
  memset(log, 0, sizeof(*log));
  log->tokens = TDN_STUB_LOG_BURST;
}

static bool take_token(tdn_stub_log* log, uint64_t now_ns)
{
  if (log->refilled_at_ns == 0) {
    log->refilled_at_ns = now_ns;
  }
  const uint64_t earned = (now_ns - log->refilled_at_ns) / TDN_STUB_LOG_REFILL_NS;
  if (earned > 0) {
    log->tokens = earned >= TDN_STUB_LOG_BURST - log->tokens ? TDN_STUB_LOG_BURST
                                                             : log->tokens + (uint32_t)earned;
    log->refilled_at_ns += earned * TDN_STUB_LOG_REFILL_NS;
  }
  if (log->tokens == 0) {
    return false;
  }
  log->tokens--;
  return true;
}

/* Line breaks and other control characters would let the text pose as
 * further log lines: they become spaces. */
static void make_printable(char* text, size_t length)
{
  tdn_utf8_sanitize(text, length);
  for (size_t i = 0; i < length; ++i) {
    if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f) {
      text[i] = ' ';
    }
  }
}

/* Says once a minute at most that the bucket drops lines; counts the drop. */
static void note_drop(tdn_stub_log* log, const char* model_name, const char* instance_name,
                      uint64_t now_ns)
{
  const bool first_drop = log->suppressed++ == 0;
  if (first_drop &&
      (log->warned_at_ns == 0 || now_ns - log->warned_at_ns >= TDN_STUB_LOG_WARN_INTERVAL_NS)) {
    /* So that a flood is visible even if the stub never logs again; the
     * count follows with the next line that passes. */
    log->warned_at_ns = now_ns == 0 ? 1 : now_ns;
    tdn_log(
        TRITONSERVER_LOG_WARN, __FILE__, __LINE__,
        "model '%s', instance '%s': log rate limit reached (%u lines, then %llu per second); "
        "dropping lines from this stub (said at most once a minute)",
        model_name, instance_name, TDN_STUB_LOG_BURST,
        (unsigned long long)(1000000000ull / TDN_STUB_LOG_REFILL_NS));
  }
}

/* " [N earlier line(s) ... dropped ...]" when the bucket dropped some; resets the count. */
static void take_dropped_note(tdn_stub_log* log, char* note, size_t size)
{
  note[0] = '\0';
  if (log->suppressed > 0) {
    snprintf(
        note, size, " [%llu earlier line(s) from this stub dropped by the rate limit]",
        (unsigned long long)log->suppressed);
    log->suppressed = 0;
  }
}

void tdn_stub_log_line(
    tdn_stub_log* log, TRITONSERVER_LogLevel level, const char* label, const char* text,
    size_t length, const char* model_name, const char* instance_name, uint64_t now_ns)
{
  /* A line Triton would not print (info lines of a server started without
   * info logging, say) costs the model none of its budget, and cannot make
   * the rate limit warn about lines nobody would have seen. */
  if (!TRITONSERVER_LogIsEnabled(level)) {
    return;
  }
  if (!take_token(log, now_ns)) {
    note_drop(log, model_name, instance_name, now_ns);
    return;
  }
  char line[TDN_MAX_LOG_LENGTH + 1];
  if (length > TDN_MAX_LOG_LENGTH) {
    length = TDN_MAX_LOG_LENGTH;
  }
  memcpy(line, text, length);
  line[length] = '\0';
  make_printable(line, length);
  char dropped[96];
  take_dropped_note(log, dropped, sizeof(dropped));
  log->logged++;
  tdn_log(
      level, __FILE__, __LINE__, "model '%s', instance '%s': %s%s%s", model_name, instance_name,
      label, line, dropped);
}

void tdn_stub_log_relay(
    tdn_stub_log* log, const uint8_t* arena, uint64_t arena_size, const tdn_record* record,
    const char* model_name, const char* instance_name, uint64_t now_ns)
{
  const bool fits = record->length <= TDN_MAX_LOG_LENGTH && record->offset <= arena_size &&
                    record->length <= arena_size - record->offset;
  const TRITONSERVER_LogLevel level =
      record->aux <= TRITONSERVER_LOG_VERBOSE ? (TRITONSERVER_LogLevel)record->aux
                                              : TRITONSERVER_LOG_WARN;
  if (fits) {
    /* Copied once (inside tdn_stub_log_line): the stub may rewrite the block at any time. */
    tdn_stub_log_line(
        log, level, "", (const char*)arena + record->offset, (size_t)record->length, model_name,
        instance_name, now_ns);
    return;
  }
  char notice[160];
  const int length = snprintf(
      notice, sizeof(notice),
      "the stub sent a LOG of %llu bytes at %llu (at most %u, inside the arena)",
      (unsigned long long)record->length, (unsigned long long)record->offset, TDN_MAX_LOG_LENGTH);
  tdn_stub_log_line(
      log, TRITONSERVER_LOG_WARN, "", notice,
      length > 0 && (size_t)length < sizeof(notice) ? (size_t)length : 0, model_name,
      instance_name, now_ns);
}
