/*
 * channel_check: unit tests of the parent's side of the rings
 * (ffi/src/channel.c): the spin budget (how long it spins for an answer,
 * from the recent answers of stubs that were awake when the batch was
 * sent), and the bytes it writes on the stub's doorbell.
 * Exit status: the failure count.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

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

/* Everything in the pipe's read end, as a string of bytes (non-blocking). */
static const char* drained(int fd)
{
  static char bytes[16];
  const ssize_t got = read(fd, bytes, sizeof(bytes) - 1);
  bytes[got > 0 ? got : 0] = '\0';
  return bytes;
}

static void test_doorbell_bytes(void)
{
  int stub_bell[2];
  if (pipe2(stub_bell, O_NONBLOCK) != 0) {
    CHECK(0, "no pipe");
    return;
  }
  tdn_channel channel;
  memset(&control, 0, sizeof(control));
  tdn_channel_init(&channel, &control);
  tdn_channel_set_doorbells(&channel, stub_bell[1], -1);
  const tdn_record record = {.kind = TDN_MSG_EXECUTE};
  tdn_diag why;

  /* Awake: neither an announcement nor a send rings. */
  CHECK(!tdn_channel_announce(&channel), "an awake stub is not announced to");
  CHECK(tdn_channel_send(&channel, &record, &why), "send: %s", why.text);
  CHECK(strcmp(drained(stub_bell[0]), "") == 0, "an awake stub is not rung");

  /* Asleep on its doorbell: the announcement says COMING, a send says RECORD. */
  control.to_stub.consumer_sleeping = TDN_SLEEP_DOORBELL;
  CHECK(tdn_channel_announce(&channel), "a sleeping stub is announced to");
  CHECK(strcmp(drained(stub_bell[0]), "c") == 0, "announcement byte");
  CHECK(tdn_channel_send(&channel, &record, &why), "send: %s", why.text);
  CHECK(strcmp(drained(stub_bell[0]), "r") == 0, "record byte");
  CHECK(channel.woke_stub, "the send woke the stub");

  /* Asleep on a futex (before its Worker runs): no byte; the send wakes it. */
  control.to_stub.consumer_sleeping = TDN_SLEEP_FUTEX;
  CHECK(!tdn_channel_announce(&channel), "a stub on a futex is not announced to");
  CHECK(strcmp(drained(stub_bell[0]), "") == 0, "no byte for a futex sleeper");
  close(stub_bell[0]);
  close(stub_bell[1]);
}

int main(void)
{
  test_doorbell_bytes();
  test_nothing_known_spins_the_minimum();
  test_awake_answers();
  test_answers_of_woken_stubs_are_not_noted();
  if (check_failures == 0) {
    printf("channel_check: all checks passed\n");
  }
  return check_failures;
}
