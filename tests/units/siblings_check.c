/*
 * siblings_check: unit tests of the early wake-up of a model's next
 * instance (ffi/src/siblings.c): while batches come back to back, an answer
 * wakes the idle sibling whose last batch ended longest ago (never itself,
 * never one in a batch), and only when no other batch is in flight;
 * sporadic traffic, a lone instance, or too few gaps seen wake nobody; a
 * member woken for a batch that began elsewhere is called off, and the
 * member at the front of Triton's queue that such a batch passed over goes
 * to its back; guesses that keep missing stop, and a later trial starts
 * them again once they would hit; a member that left is never woken. Exit
 * status: the failure count.
 */
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "siblings.h"

#define US 1000ull

static int members[4];
static const void* woken;
static int wake_count;
static const void* called_off;

static void note_wake(void* member)
{
  woken = member;
  wake_count++;
}

static void note_call_off(void* member)
{
  called_off = member;
}

/* The index of `member` in `members`, -1 for none. */
static int index_of(const void* member)
{
  for (int i = 0; i < 4; ++i) {
    if (member == &members[i]) {
      return i;
    }
  }
  return -1;
}

/* Which member was woken (index into `members`), -1 for none; resets. */
static int take_woken(void)
{
  const int index = index_of(woken);
  woken = NULL;
  return index;
}

/* One batch on `member` from `*now` lasting 50 us, then a gap of `gap`. */
static int batch(tdn_siblings* siblings, int member, uint64_t* now, uint64_t gap)
{
  tdn_siblings_begin(siblings, &members[member], *now);
  *now += 50 * US;
  woken = NULL;
  tdn_siblings_answered(siblings, &members[member], *now);
  const int index = take_woken();
  tdn_siblings_end(siblings, &members[member], *now);
  *now += gap;
  return index;
}

/* `batches` batches of members 0 to count - 1 in turn, 10 us apart: the
 * back-to-back traffic that lets the guesses begin. */
static void round_robin(tdn_siblings* siblings, int count, uint64_t* now, int batches)
{
  for (int i = 0; i < batches; ++i) {
    batch(siblings, i % count, now, 10 * US);
  }
}

static void join(tdn_siblings* siblings, int count)
{
  tdn_siblings_init(siblings, note_wake, note_call_off);
  for (int i = 0; i < count; ++i) {
    CHECK(tdn_siblings_join(siblings, &members[i]), "member %d joins", i);
  }
  wake_count = 0;
  called_off = NULL;
}

static void test_round_robin_back_to_back(void)
{
  tdn_siblings siblings;
  join(&siblings, 3);
  uint64_t now = 1000 * US;
  /* The first gaps teach it; until then nobody is woken early. */
  for (int i = 0; i < TDN_SIBLINGS_HISTORY; ++i) {
    CHECK(batch(&siblings, i % 3, &now, 20 * US) == -1, "batch %d: too few gaps seen", i);
  }
  /* Next in Triton's order: the member whose batch ended longest ago. */
  const int next = TDN_SIBLINGS_HISTORY % 3;
  for (int i = 0; i < 9; ++i) {
    const int member = (next + i) % 3;
    const int woke = batch(&siblings, member, &now, 20 * US);
    CHECK(woke == (member + 1) % 3, "member %d's answer woke %d, not %d", member, woke, (member + 1) % 3);
  }
  tdn_siblings_destroy(&siblings);
}

static void test_sporadic_wakes_nobody(void)
{
  tdn_siblings siblings;
  join(&siblings, 2);
  uint64_t now = 1000 * US;
  for (int i = 0; i < 3 * TDN_SIBLINGS_HISTORY; ++i) {
    batch(&siblings, i % 2, &now, 2 * TDN_SIBLINGS_GAP_NS);
  }
  CHECK(wake_count == 0, "gaps longer than %llu ns woke %d", TDN_SIBLINGS_GAP_NS, wake_count);
  /* Back to back again: once half the recent gaps are short, it wakes. */
  int first = -1;
  for (int i = 0; i < TDN_SIBLINGS_HISTORY && first < 0; ++i) {
    if (batch(&siblings, i % 2, &now, 10 * US) >= 0) {
      first = i;
    }
  }
  CHECK(first == TDN_SIBLINGS_HISTORY / 2, "woke first after %d short gaps", first);
  tdn_siblings_destroy(&siblings);
}

static void test_busy_self_and_alone(void)
{
  tdn_siblings siblings;
  join(&siblings, 2);
  uint64_t now = 1000 * US;
  round_robin(&siblings, 2, &now, TDN_SIBLINGS_HISTORY);
  /* Member 1 in a batch of its own: member 0's answer wakes nobody. */
  tdn_siblings_begin(&siblings, &members[1], now);
  tdn_siblings_begin(&siblings, &members[0], now);
  tdn_siblings_answered(&siblings, &members[0], now);
  CHECK(take_woken() == -1, "a sibling in a batch is not woken");
  tdn_siblings_end(&siblings, &members[0], now);
  tdn_siblings_end(&siblings, &members[1], now);
  /* Alone: nobody to wake, never itself. */
  tdn_siblings_leave(&siblings, &members[1]);
  for (int i = 0; i < 2 * TDN_SIBLINGS_HISTORY; ++i) {
    CHECK(batch(&siblings, 0, &now, 10 * US) == -1, "a lone instance woke someone");
  }
  tdn_siblings_destroy(&siblings);
}

static void test_missed_guesses_stop_and_trials_resume(void)
{
  tdn_siblings siblings;
  join(&siblings, 3);
  uint64_t now = 1000 * US;
  /* Member 0's thread always comes back to Triton's queue first and takes
   * the next request itself: a guess (never itself) always misses. */
  for (int i = 0; i < TDN_SIBLINGS_HISTORY; ++i) {
    batch(&siblings, 0, &now, 10 * US);
  }
  wake_count = 0;
  const int skipped = 2000;
  for (int i = 0; i < skipped; ++i) {
    batch(&siblings, 0, &now, 10 * US);
  }
  /* Each failed trial stops as soon as it cannot pass; trials come ever more rarely. */
  const int misses_per_trial = TDN_SIBLINGS_HISTORY - TDN_SIBLINGS_HITS_NEEDED + 1;
  CHECK(wake_count <= 8 * misses_per_trial, "%d wake-ups for %d batches that never hit", wake_count, skipped);
  CHECK(wake_count >= 3 * misses_per_trial, "only %d wake-ups: no trials", wake_count);
  CHECK(!siblings.guessing, "still guessing");
  /* Round robin over all three: a trial finds the guesses hit, and they go on. */
  int hits = 0;
  for (int i = 0; i < 3 * TDN_SIBLINGS_TRIAL_EVERY_MAX; ++i) {
    const int member = i % 3;
    if (batch(&siblings, member, &now, 10 * US) == (member + 1) % 3) {
      hits++;
    }
  }
  CHECK(siblings.guessing, "a trial of guesses that hit did not start them again");
  CHECK(hits >= TDN_SIBLINGS_TRIAL_EVERY_MAX, "only %d guesses once they hit", hits);
  tdn_siblings_destroy(&siblings);
}

static void test_wrong_guess_called_off_and_front_to_back(void)
{
  tdn_siblings siblings;
  join(&siblings, 3);
  uint64_t now = 1000 * US;
  round_robin(&siblings, 3, &now, 2 * TDN_SIBLINGS_HISTORY);
  /* Round robin so far: the next batch is member 2's, whose answer wakes 0. */
  const int next = (2 * TDN_SIBLINGS_HISTORY) % 3;
  CHECK(next == 2, "the test expects member 2 next, not %d", next);
  CHECK(batch(&siblings, 2, &now, 10 * US) == 0, "member 2's answer did not wake member 0");
  CHECK(called_off == NULL, "a guess was called off before any batch began");
  /* Member 2 came back to Triton's queue first and took the request: the
   * early wake-up of member 0 is called off... */
  CHECK(batch(&siblings, 2, &now, 10 * US) == 1, "the guess did not skip member 0, now at the back");
  CHECK(index_of(called_off) == 0, "member 0's wake-up was not called off");
  /* ...and member 0, woken by Triton for nothing, waits at the back: the
   * answer wakes member 1, and a hit calls nothing off. */
  called_off = NULL;
  CHECK(batch(&siblings, 1, &now, 10 * US) == 0, "after member 1, member 0 is next");
  CHECK(called_off == NULL, "a hit called off member %d", index_of(called_off));
  tdn_siblings_destroy(&siblings);
}

static void test_no_guess_beside_another_batch(void)
{
  tdn_siblings siblings;
  join(&siblings, 3);
  uint64_t now = 1000 * US;
  round_robin(&siblings, 3, &now, 2 * TDN_SIBLINGS_HISTORY);
  /* Member 1 in a batch: member 0's answer wakes nobody, not even idle member 2. */
  tdn_siblings_begin(&siblings, &members[1], now);
  tdn_siblings_begin(&siblings, &members[0], now);
  tdn_siblings_answered(&siblings, &members[0], now + 50 * US);
  CHECK(take_woken() == -1, "an answer beside another batch woke a sibling");
  tdn_siblings_destroy(&siblings);
}

static void test_left_member_never_woken(void)
{
  tdn_siblings siblings;
  join(&siblings, 4);
  uint64_t now = 1000 * US;
  round_robin(&siblings, 4, &now, 2 * TDN_SIBLINGS_HISTORY);
  tdn_siblings_leave(&siblings, &members[2]);
  tdn_siblings_leave(&siblings, &members[2]); /* twice: no-op */
  for (int i = 0; i < 12; ++i) {
    const int member = (int[]){0, 1, 3}[i % 3];
    const int woke = batch(&siblings, member, &now, 10 * US);
    CHECK(woke != 2, "member 2 left but was woken");
    CHECK(woke != member, "member %d woke itself", member);
  }
  /* Leaving in the middle of a batch does not leave the count behind. */
  tdn_siblings_begin(&siblings, &members[3], now);
  tdn_siblings_leave(&siblings, &members[3]);
  CHECK(siblings.executing == 0, "executing %u after a member left in its batch", siblings.executing);
  tdn_siblings_destroy(&siblings);
}

int main(void)
{
  test_round_robin_back_to_back();
  test_sporadic_wakes_nobody();
  test_busy_self_and_alone();
  test_missed_guesses_stop_and_trials_resume();
  test_wrong_guess_called_off_and_front_to_back();
  test_no_guess_beside_another_batch();
  test_left_member_never_woken();
  if (check_failures == 0) {
    printf("siblings_check: all checks passed\n");
  }
  return check_failures;
}
