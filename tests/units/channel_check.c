/*
 * channel_check: unit tests of the parent's spin budget (ffi/src/channel.c):
 * how long it spins for an answer, from the recent answers of the same kind
 * of send (to a stub that was awake, or to one the send had to wake).
 * Exit status: the failure count.
 */
#include <stdlib.h>

#include "channel.h"
#include "check.h"

#define US 1000ull

static tdn_control control; /* large: not on the stack */

static void note(tdn_channel* channel, bool woken, uint64_t answer_ns, int times)
{
  for (int i = 0; i < times; ++i) {
    channel->woke_stub = woken;
    tdn_channel_note_answer(channel, answer_ns);
  }
}

static uint64_t budget(tdn_channel* channel, bool woken)
{
  channel->woke_stub = woken;
  return tdn_channel_spin_budget(channel);
}

static void test_nothing_known_spins_the_minimum(void)
{
  tdn_channel channel;
  tdn_channel_init(&channel, &control);
  CHECK(budget(&channel, false) == TDN_SPIN_MIN_NS, "awake, no history");
  CHECK(budget(&channel, true) == TDN_SPIN_MIN_NS, "woken, no history");
}

static void test_awake_answers(void)
{
  tdn_channel channel;
  tdn_channel_init(&channel, &control);
  note(&channel, false, 3 * US, 16);
  CHECK(budget(&channel, false) == TDN_SPIN_MIN_NS, "fast answers: the minimum, %llu",
        (unsigned long long)budget(&channel, false));
  note(&channel, false, 30 * US, 16);
  CHECK(budget(&channel, false) == 60 * US, "twice the median: %llu",
        (unsigned long long)budget(&channel, false));
  note(&channel, false, 400 * US, 16);
  CHECK(budget(&channel, false) == TDN_SPIN_MAX_NS, "capped");
  note(&channel, false, 5000 * US, 16);
  CHECK(budget(&channel, false) == TDN_SPIN_MIN_NS, "a stub that computes: the minimum");
}

static void test_woken_answers_are_kept_apart(void)
{
  tdn_channel channel;
  tdn_channel_init(&channel, &control);
  note(&channel, false, 3 * US, 16);
  note(&channel, true, 45 * US, 16);
  CHECK(budget(&channel, true) == 90 * US, "a woken stub's answer is waited for: %llu",
        (unsigned long long)budget(&channel, true));
  CHECK(budget(&channel, false) == TDN_SPIN_MIN_NS, "awake answers keep their own budget");
  note(&channel, true, 100 * US, 16);
  CHECK(budget(&channel, true) == TDN_SPIN_WOKEN_MAX_NS, "capped: %llu",
        (unsigned long long)budget(&channel, true));
  note(&channel, true, 400 * US, 16);
  CHECK(budget(&channel, true) == 0, "stubs that queue for cores: sleep at once");
  /* The median follows: half the history fast again spins again. */
  note(&channel, true, 40 * US, 9);
  CHECK(budget(&channel, true) == 80 * US, "back to spinning: %llu",
        (unsigned long long)budget(&channel, true));
}

int main(void)
{
  test_nothing_known_spins_the_minimum();
  test_awake_answers();
  test_woken_answers_are_kept_apart();
  if (check_failures == 0) {
    printf("channel_check: all checks passed\n");
  }
  return check_failures;
}
