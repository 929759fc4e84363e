/*
 * channel_check: unit tests of the parent's side of the rings
 * (ffi/src/channel.c): the spin budget (how long it spins for an answer,
 * from the recent answers of stubs that were awake when the batch was
 * sent), the bytes it writes on the stub's doorbell, what ends the
 * parent's sleep on its own doorbell, and that bytes there which no record
 * explains (a model writing to it) break the protocol.
 * Exit status: the failure count.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
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
  tdn_channel_set_doorbells(&channel, stub_bell[1], -1, -1);
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

static uint64_t monotonic_ns(void)
{
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
}

/* The parent asleep on its doorbell (an empty ring) for up to 60 s: how
 * the receive ended and how long it slept. */
static tdn_receive_status sleep_on_doorbell(
    tdn_channel* channel, int from_stub, int stub_exit, uint64_t* slept_ns)
{
  memset(&control, 0, sizeof(control));
  tdn_channel_init(channel, &control);
  tdn_channel_set_doorbells(channel, -1, from_stub, stub_exit);
  tdn_record record;
  tdn_diag why;
  const uint64_t start = monotonic_ns();
  const tdn_receive_status status =
      tdn_channel_receive(channel, &record, 0, 60ull * 1000000000ull, &why);
  *slept_ns = monotonic_ns() - start;
  return status;
}

static void* ring_after_a_moment(void* writer)
{
  usleep(20 * 1000);
  const char bell = 0;
  if (write(*(int*)writer, &bell, 1) != 1) {
    abort();
  }
  return NULL;
}

/* Another thread of the parent (a new batch for a resting response
 * thread) rings the doorbell: the sleep ends at once with nothing taken,
 * and the byte is drained. */
static void test_a_ring_without_a_record_ends_the_sleep(void)
{
  int bell[2];
  if (pipe2(bell, O_NONBLOCK) != 0) {
    CHECK(0, "no pipe");
    return;
  }
  pthread_t ringer;
  pthread_create(&ringer, NULL, ring_after_a_moment, &bell[1]);
  tdn_channel channel;
  uint64_t slept = 0;
  const tdn_receive_status status = sleep_on_doorbell(&channel, bell[0], -1, &slept);
  pthread_join(ringer, NULL);
  CHECK(status == TDN_NOTHING, "nothing to take: %d", (int)status);
  CHECK(slept < 30ull * 1000000000ull, "the ring ended the sleep (slept %llu ns of 60 s)",
        (unsigned long long)slept);
  CHECK(strcmp(drained(bell[0]), "") == 0, "the doorbell was emptied");
  close(bell[0]);
  close(bell[1]);
}

/* The stub's pidfd beside the doorbell: its exit ends the sleep, though
 * nobody rings (a writer of the doorbell stays open, as the parent's own
 * does). */
static void test_the_stubs_exit_ends_the_sleep(void)
{
#ifdef SYS_pidfd_open
  int bell[2];
  if (pipe2(bell, O_NONBLOCK) != 0) {
    CHECK(0, "no pipe");
    return;
  }
  const pid_t child = fork();
  if (child == 0) {
    usleep(20 * 1000);
    _exit(0);
  }
  const int stub_exit = (int)syscall(SYS_pidfd_open, child, 0);
  CHECK(stub_exit >= 0, "pidfd_open: this kernel has it (Linux 5.3 and later)");
  if (stub_exit >= 0) {
    tdn_channel channel;
    uint64_t slept = 0;
    const tdn_receive_status status = sleep_on_doorbell(&channel, bell[0], stub_exit, &slept);
    CHECK(status == TDN_NOTHING, "nothing to take: %d", (int)status);
    CHECK(slept < 30ull * 1000000000ull, "the exit ended the sleep (slept %llu ns of 60 s)",
          (unsigned long long)slept);
    close(stub_exit);
  } else {
    kill(child, SIGKILL);
  }
  waitpid(child, NULL, 0);
  close(bell[0]);
  close(bell[1]);
#endif
}

/* Writes `count` bytes on the doorbell's write end. */
static void ring_bytes(int writer, uint32_t count)
{
  char bytes[256];
  memset(bytes, 'r', sizeof(bytes));
  while (count > 0) {
    const size_t chunk = count < sizeof(bytes) ? count : sizeof(bytes);
    if (write(writer, bytes, chunk) != (ssize_t)chunk) {
      abort();
    }
    count -= (uint32_t)chunk;
  }
}

/* The stub publishes one (empty) record on to_parent. */
static void publish_to_parent(void)
{
  const uint32_t tail = control.to_parent.tail;
  memset(&control.to_parent.records[tail % TDN_RING_CAPACITY], 0, sizeof(tdn_record));
  __atomic_store_n(&control.to_parent.tail, tail + 1, __ATOMIC_SEQ_CST);
}

/* A model that writes to the parent's doorbell itself (the stub's
 * descriptor 1): each byte ends a sleep for nothing, so bytes that no
 * record explains break the protocol past TDN_DOORBELL_EXCESS_MAX; the
 * runtime's own rings (one per record) and the parent's own never do. */
static void test_a_flooded_doorbell_breaks_the_protocol(void)
{
  int bell[2];
  if (pipe2(bell, O_NONBLOCK) != 0) {
    CHECK(0, "no pipe");
    return;
  }
  fcntl(bell[1], F_SETPIPE_SZ, 1 << 20);
  tdn_channel channel;
  memset(&control, 0, sizeof(control));
  tdn_channel_init(&channel, &control);
  tdn_channel_set_doorbells(&channel, -1, bell[0], -1);
  tdn_record record;
  tdn_diag why = {0};
  /* The runtime's rings: one byte per record (and a stale one now and then). */
  bool broken = false;
  for (int i = 0; i < 20000 && !broken; ++i) {
    ring_bytes(bell[1], i % 7 == 0 ? 2 : 1);
    broken = tdn_channel_receive(&channel, &record, 0, 1000000000ull, &why) == TDN_BROKEN;
    publish_to_parent();
    broken = broken || tdn_channel_receive(&channel, &record, 0, 1000000000ull, &why) != TDN_RECEIVED;
  }
  CHECK(!broken, "one ring per record broke the protocol: %s", why.text);
  /* The parent's own threads: not the stub's bytes, however many. */
  for (int i = 0; i < 3 * (int)TDN_DOORBELL_EXCESS_MAX; ++i) {
    tdn_channel_count_own_ring(&channel);
  }
  ring_bytes(bell[1], 3 * TDN_DOORBELL_EXCESS_MAX);
  tdn_receive_status status = tdn_channel_receive(&channel, &record, 0, 1000000000ull, &why);
  CHECK(status == TDN_NOTHING, "the parent's own rings broke the protocol: %s", why.text);
  CHECK(strcmp(drained(bell[0]), "") == 0, "the doorbell was emptied");
  /* The model's: TDN_DOORBELL_EXCESS_MAX bytes are tolerated, one more is not. */
  ring_bytes(bell[1], TDN_DOORBELL_EXCESS_MAX);
  status = tdn_channel_receive(&channel, &record, 0, 1000000000ull, &why);
  CHECK(status == TDN_NOTHING, "%u stray bytes are tolerated: %d", TDN_DOORBELL_EXCESS_MAX, (int)status);
  ring_bytes(bell[1], 1);
  status = tdn_channel_receive(&channel, &record, 0, 1000000000ull, &why);
  CHECK(status == TDN_BROKEN, "one more breaks the protocol: %d", (int)status);
  CHECK(strstr(why.text, "descriptor 1") != NULL, "the diagnosis names the descriptor: %s", why.text);
  close(bell[0]);
  close(bell[1]);
}

int main(void)
{
  test_a_flooded_doorbell_breaks_the_protocol();
  test_a_ring_without_a_record_ends_the_sleep();
  test_the_stubs_exit_ends_the_sleep();
  test_doorbell_bytes();
  test_nothing_known_spins_the_minimum();
  test_awake_answers();
  test_answers_of_woken_stubs_are_not_noted();
  if (check_failures == 0) {
    printf("channel_check: all checks passed\n");
  }
  return check_failures;
}
