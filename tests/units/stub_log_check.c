/*
 * stub_log_check.c: the parent's rate limit on a stub's LOG lines
 * (ffi/src/stub_log.c) under a flood, on a made-up clock: the burst and the
 * refill pass, the rest are dropped, the warning is said once a minute at
 * most, and a line that passes tells how many were dropped before it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fake_triton.h"
#include "stub_log.h"

#define NS_PER_MS 1000000ull

static uint8_t arena[4096];

static void relay(tdn_stub_log* log, const char* text, uint64_t now_ns)
{
  tdn_record record;
  memset(&record, 0, sizeof(record));
  record.kind = TDN_MSG_LOG;
  record.aux = TRITONSERVER_LOG_INFO;
  record.offset = 0;
  record.length = strlen(text);
  memcpy(arena, text, record.length);
  tdn_stub_log_relay(&log[0], arena, sizeof(arena), &record, "m", "m_0_0", now_ns);
}

static size_t count(const char* part)
{
  size_t found = 0;
  for (const char* at = strstr(fake_log, part); at != NULL; at = strstr(at + 1, part)) {
    found++;
  }
  return found;
}

int main(void)
{
  tdn_stub_log log;
  tdn_stub_log_init(&log);
  fake_log_clear();
  /* 100 lines a second for 10 s. */
  uint64_t now = 1000 * NS_PER_MS;
  for (int i = 0; i < 1000; ++i, now += 10 * NS_PER_MS) {
    relay(&log, "flood line", now);
  }
  const size_t passed = count("flood line");
  CHECK(passed >= 20 + 45 && passed <= 20 + 55, "%zu lines passed (20, then 5 a second)", passed);
  CHECK(count("log rate limit reached") == 1, "warned %zu times", count("log rate limit reached"));
  CHECK_HAS(fake_log, "earlier line(s) from this stub dropped by the rate limit");

  /* Quiet for a minute, then another flood: warned again, once. */
  now += 61000 * NS_PER_MS;
  for (int i = 0; i < 100; ++i, now += 10 * NS_PER_MS) {
    relay(&log, "second flood", now);
  }
  CHECK(count("log rate limit reached") == 2, "warned %zu times", count("log rate limit reached"));

  /* With info logging off, a flood of info lines is neither printed nor
   * counted: no warning, and a warning line afterwards passes at once. */
  now += 61000 * NS_PER_MS;
  fake_log_clear();
  fake_log_info_enabled = false;
  for (int i = 0; i < 1000; ++i, now += 10 * NS_PER_MS) {
    relay(&log, "unseen line", now);
  }
  fake_log_info_enabled = true;
  CHECK(count("unseen line") == 0, "%zu info lines printed with info logging off",
        count("unseen line"));
  CHECK(count("log rate limit reached") == 0, "warned about lines nobody would see");
  tdn_record warning;
  memset(&warning, 0, sizeof(warning));
  warning.kind = TDN_MSG_LOG;
  warning.aux = TRITONSERVER_LOG_WARN;
  warning.length = strlen("a warning");
  memcpy(arena, "a warning", warning.length);
  tdn_stub_log_relay(&log, arena, sizeof(arena), &warning, "m", "m_0_0", now);
  CHECK_HAS(fake_log, "model 'm', instance 'm_0_0': a warning");

  /* Control characters cannot start a forged line. */
  now += 61000 * NS_PER_MS;
  relay(&log, "a\nE1206 forged", now);
  CHECK(strstr(fake_log, "a\nE1206") == NULL, "a line break passed through");

  /* A LOG record that does not fit is reported, not read. */
  now += 61000 * NS_PER_MS;
  tdn_record oversized;
  memset(&oversized, 0, sizeof(oversized));
  oversized.kind = TDN_MSG_LOG;
  oversized.length = TDN_MAX_LOG_LENGTH + 1;
  tdn_stub_log_relay(&log, arena, sizeof(arena), &oversized, "m", "m_0_0", now);
  char expected[160];
  snprintf(
      expected, sizeof(expected),
      "model 'm', instance 'm_0_0': the stub sent a LOG of %u bytes at 0 (at most %u, inside the "
      "arena)\n",
      TDN_MAX_LOG_LENGTH + 1, TDN_MAX_LOG_LENGTH);
  CHECK_HAS(fake_log, expected);
  if (check_failures == 0) {
    printf("stub_log_check: all checks passed\n");
  }
  return check_failures == 0 ? 0 : 1;
}
