/*
 * channel_check: unit tests of the parent's spin budget (ffi/src/channel.c):
 * how long it spins for an answer, from the recent answers of stubs that
 * were awake when the batch was sent.
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

static void test_answers_of_woken_stubs_are_not_noted(void)
{
  tdn_channel channel;
  tdn_channel_init(&channel, &control);
  note(&channel, false, 30 * US, 16);
  note(&channel, true, 400 * US, 16);
  CHECK(budget(&channel, false) == 60 * US,
        "a woken stub's answer is mostly its wake-up, not its work: %llu",
        (unsigned long long)budget(&channel, false));
}

int main(void)
{
  test_nothing_known_spins_the_minimum();
  test_awake_answers();
  test_answers_of_woken_stubs_are_not_noted();
  if (check_failures == 0) {
    printf("channel_check: all checks passed\n");
  }
  return check_failures;
}
