/*
 * channel.c: ring push/pop with the spin-then-futex protocol. Every access
 * to a shared ring word is a sequentially consistent atomic, as the wire
 * format requires: the producer's "publish tail, then read
 * consumer_sleeping" and the consumer's "set consumer_sleeping, then
 * re-read tail" cannot both miss each other, so no wake-up is lost.
 * Futexes are the shared kind (no FUTEX_PRIVATE_FLAG): two processes.
 */
#include "channel.h"

#include <errno.h>
#include <linux/futex.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

static uint32_t load(const uint32_t* word)
{
  return __atomic_load_n(word, __ATOMIC_SEQ_CST);
}

static void store(uint32_t* word, uint32_t value)
{
  __atomic_store_n(word, value, __ATOMIC_SEQ_CST);
}

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

static void futex_wake(uint32_t* word)
{
  syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0);
}

/* Sleeps while *word == expected, at most timeout_ns. Spurious returns are
 * fine: callers re-check. */
static void futex_wait(uint32_t* word, uint32_t expected, uint64_t timeout_ns)
{
  struct timespec timeout = {
      .tv_sec = (time_t)(timeout_ns / TDN_NS_PER_SECOND),
      .tv_nsec = (long)(timeout_ns % TDN_NS_PER_SECOND),
  };
  syscall(SYS_futex, word, FUTEX_WAIT, expected, &timeout, NULL, 0);
}

void tdn_channel_init(tdn_channel* channel, tdn_control* control)
{
  memset(channel, 0, sizeof(*channel));
  channel->to_stub = &control->to_stub;
  channel->to_parent = &control->to_parent;
  channel->ring_stub_fd = -1;
  channel->from_stub_fd = -1;
  channel->stub_exit_fd = -1;
}

void tdn_channel_set_doorbells(
    tdn_channel* channel, int ring_stub_fd, int from_stub_fd, int stub_exit_fd)
{
  channel->ring_stub_fd = ring_stub_fd;
  channel->from_stub_fd = from_stub_fd;
  channel->stub_exit_fd = stub_exit_fd;
  /* A new pipe (or none): nothing of the old one's is counted. Our own
   * writers ring under the same lock as this call (supervisor.c). */
  __atomic_store_n(&channel->own_rings, 0, __ATOMIC_SEQ_CST);
  channel->bell_excess = 0;
}

void tdn_channel_count_own_ring(tdn_channel* channel)
{
  __atomic_add_fetch(&channel->own_rings, 1, __ATOMIC_SEQ_CST);
}

/* One byte on the stub's doorbell. A full pipe already holds a wake-up, and
 * a stub that is gone is noticed by the supervisor: neither is an error. */
static void ring_stub(const tdn_channel* channel, char bell)
{
  ssize_t wrote;
  do {
    wrote = write(channel->ring_stub_fd, &bell, 1);
  } while (wrote < 0 && errno == EINTR);
}

typedef enum bell_outcome { BELL_TIMED_OUT, BELL_WOKE, BELL_FLOODED } bell_outcome;

/* Empties the parent's doorbell and counts the stub's bytes there (what our
 * own threads wrote is theirs); BELL_FLOODED once they exceed
 * TDN_DOORBELL_EXCESS_MAX beyond what records explain. Reads at most 16 KiB,
 * so that a stub writing as fast as we read cannot keep us here. */
static bell_outcome drain_doorbell(tdn_channel* channel)
{
  char drained[256];
  uint32_t total = 0;
  for (int i = 0; i < 64; ++i) {
    const ssize_t got = read(channel->from_stub_fd, drained, sizeof(drained));
    if (got <= 0) {
      break;
    }
    total += (uint32_t)got;
    if ((size_t)got < sizeof(drained)) {
      break;
    }
  }
  const uint32_t own = __atomic_exchange_n(&channel->own_rings, 0, __ATOMIC_SEQ_CST);
  if (own > total) {
    /* Ours, still in the pipe or written after this read: a later drain's. */
    __atomic_add_fetch(&channel->own_rings, own - total, __ATOMIC_SEQ_CST);
  }
  const uint32_t from_stub = own < total ? total - own : 0;
  channel->bell_excess = from_stub > TDN_DOORBELL_EXCESS_MAX - channel->bell_excess
                             ? TDN_DOORBELL_EXCESS_MAX + 1
                             : channel->bell_excess + from_stub;
  return channel->bell_excess > TDN_DOORBELL_EXCESS_MAX ? BELL_FLOODED : BELL_WOKE;
}

/* Sleeps until the doorbell rings (the stub, or another of our threads),
 * the stub exits or timeout_ns passes, then empties the doorbell: the
 * caller re-checks the ring whatever woke it. */
static bell_outcome await_doorbell(tdn_channel* channel, uint64_t timeout_ns)
{
  /* A negative fd (no pidfd) is skipped by ppoll. */
  struct pollfd bells[2] = {
      {.fd = channel->from_stub_fd, .events = POLLIN},
      {.fd = channel->stub_exit_fd, .events = POLLIN},
  };
  const struct timespec timeout = {
      .tv_sec = (time_t)(timeout_ns / TDN_NS_PER_SECOND),
      .tv_nsec = (long)(timeout_ns % TDN_NS_PER_SECOND),
  };
  if (ppoll(bells, 2, &timeout, NULL) <= 0) {
    return BELL_TIMED_OUT;
  }
  return bells[0].revents != 0 ? drain_doorbell(channel) : BELL_WOKE;
}

void tdn_channel_note_answer(tdn_channel* channel, uint64_t answer_ns)
{
  if (channel->woke_stub) {
    return;
  }
  channel->answer_ns[channel->answers % TDN_ANSWER_HISTORY] = answer_ns;
  channel->answers++;
}

uint64_t tdn_channel_spin_budget(const tdn_channel* channel)
{
  const uint32_t count =
      channel->answers < TDN_ANSWER_HISTORY ? channel->answers : TDN_ANSWER_HISTORY;
  if (count == 0) {
    return TDN_SPIN_MIN_NS;
  }
  /* Insertion sort of at most 16 values: cheaper than the clock reads
   * around it. */
  uint64_t sorted[TDN_ANSWER_HISTORY];
  for (uint32_t i = 0; i < count; ++i) {
    uint64_t value = channel->answer_ns[i];
    uint32_t at = i;
    for (; at > 0 && sorted[at - 1] > value; --at) {
      sorted[at] = sorted[at - 1];
    }
    sorted[at] = value;
  }
  const uint64_t median = sorted[count / 2];
  if (median > TDN_SPIN_GIVE_UP_NS) {
    return TDN_SPIN_MIN_NS;
  }
  const uint64_t budget = 2 * median;
  return budget < TDN_SPIN_MIN_NS ? TDN_SPIN_MIN_NS
         : budget > TDN_SPIN_MAX_NS ? TDN_SPIN_MAX_NS
                                    : budget;
}

bool tdn_channel_send(tdn_channel* channel, const tdn_record* record, tdn_diag* diag)
{
  tdn_ring* ring = channel->to_stub;
  const uint32_t head = load(&ring->head);
  const uint32_t in_flight = channel->published - head;
  if (in_flight > TDN_RING_CAPACITY) {
    return tdn_diag_set(
        diag, "the stub reported consuming record %u of the %u we sent", head, channel->published);
  }
  if (in_flight == TDN_RING_CAPACITY) {
    /* We never have more than a couple of records outstanding, so a full
     * ring means the stub stopped reading. */
    return tdn_diag_set(diag, "the stub stopped reading its ring (%u records unread)", in_flight);
  }
  memcpy(&ring->records[channel->published % TDN_RING_CAPACITY], record, sizeof(*record));
  channel->published++;
  store(&ring->tail, channel->published);
  const uint32_t sleeping = load(&ring->consumer_sleeping);
  channel->woke_stub = sleeping != 0;
  if (sleeping == TDN_SLEEP_DOORBELL && channel->ring_stub_fd >= 0) {
    ring_stub(channel, (char)TDN_DOORBELL_RECORD);
  } else if (sleeping != 0) {
    futex_wake(&ring->tail);
  }
  return true;
}

/* Rings `bell` only for a stub asleep on its doorbell. */
static bool ring_sleeper(const tdn_channel* channel, char bell)
{
  if (channel->ring_stub_fd < 0 || load(&channel->to_stub->consumer_sleeping) != TDN_SLEEP_DOORBELL) {
    return false;
  }
  ring_stub(channel, bell);
  return true;
}

bool tdn_channel_announce(const tdn_channel* channel)
{
  return ring_sleeper(channel, (char)TDN_DOORBELL_COMING);
}

bool tdn_channel_wake_soon(tdn_channel* channel)
{
  /* The word first: the Worker reads it once the byte has woken it. */
  if ((channel->soon & 1u) == 0) {
    store(&channel->to_stub->soon, ++channel->soon);
  }
  return ring_sleeper(channel, (char)TDN_DOORBELL_SOON);
}

void tdn_channel_call_off_soon(tdn_channel* channel)
{
  if ((channel->soon & 1u) != 0) {
    store(&channel->to_stub->soon, ++channel->soon);
  }
}

uint32_t tdn_channel_unread(const tdn_channel* channel)
{
  const uint32_t in_flight = channel->published - load(&channel->to_stub->head);
  return in_flight > TDN_RING_CAPACITY ? TDN_RING_CAPACITY : in_flight;
}

uint32_t tdn_channel_stub_done(const tdn_channel* channel)
{
  return load(&channel->to_stub->done);
}

/* Takes a record if one is published; TDN_NOTHING if the ring is empty. */
static tdn_receive_status try_take(tdn_channel* channel, tdn_record* record, tdn_diag* diag)
{
  tdn_ring* ring = channel->to_parent;
  const uint32_t tail = load(&ring->tail);
  const uint32_t available = tail - channel->consumed;
  if (available == 0) {
    return TDN_NOTHING;
  }
  if (available > TDN_RING_CAPACITY) {
    tdn_diag_set(
        diag, "the stub published tail %u while the parent had consumed %u of a %u-record ring",
        tail, channel->consumed, TDN_RING_CAPACITY);
    return TDN_BROKEN;
  }
  /* Copied once: the stub cannot change the record after we checked it. */
  memcpy(record, &ring->records[channel->consumed % TDN_RING_CAPACITY], sizeof(*record));
  channel->consumed++;
  store(&ring->head, channel->consumed);
  channel->bell_excess =
      channel->bell_excess > TDN_DOORBELL_FORGIVEN ? channel->bell_excess - TDN_DOORBELL_FORGIVEN : 0;
  if (load(&ring->producer_sleeping) != 0) {
    futex_wake(&ring->head);
  }
  return TDN_RECEIVED;
}

tdn_receive_status tdn_channel_receive(
    tdn_channel* channel, tdn_record* record, uint64_t spin_ns, uint64_t wait_ns, tdn_diag* diag)
{
  tdn_receive_status status = try_take(channel, record, diag);
  if (status != TDN_NOTHING) {
    return status;
  }
  const uint64_t start = tdn_now_ns();
  if (spin_ns > 0) {
    /* A fast stub answers within microseconds; spinning here saves a
     * wake-up on the busy path. */
    for (unsigned i = 1;; ++i) {
      if (load(&channel->to_parent->tail) != channel->consumed) {
        return try_take(channel, record, diag);
      }
      cpu_relax();
      if (i % 64 == 0) {
        if (tdn_now_ns() - start >= spin_ns) {
          break;
        }
        /* With more threads than cores (instances outnumber them on most
         * servers), the stub we wait for may be waiting for this core:
         * offer it. With nothing else runnable this returns at once. */
        sched_yield();
      }
    }
  }
  tdn_ring* ring = channel->to_parent;
  for (;;) {
    const uint64_t elapsed = tdn_now_ns() - start;
    if (elapsed >= wait_ns) {
      return TDN_NOTHING;
    }
    const bool doorbell = channel->from_stub_fd >= 0;
    store(&ring->consumer_sleeping, doorbell ? TDN_SLEEP_DOORBELL : TDN_SLEEP_FUTEX);
    const uint32_t tail = load(&ring->tail);
    bool rang = false;
    if (tail == channel->consumed) {
      if (doorbell) {
        const bell_outcome outcome = await_doorbell(channel, wait_ns - elapsed);
        if (outcome == BELL_FLOODED) {
          store(&ring->consumer_sleeping, 0);
          tdn_diag_set(
              diag,
              "rang the parent's doorbell more than %u times with no record to show for it (the "
              "model writes to the stub's descriptor 1?)",
              TDN_DOORBELL_EXCESS_MAX);
          return TDN_BROKEN;
        }
        rang = outcome == BELL_WOKE;
      } else {
        futex_wait(&ring->tail, tail, wait_ns - elapsed);
      }
    }
    store(&ring->consumer_sleeping, 0);
    status = try_take(channel, record, diag);
    if (status != TDN_NOTHING || rang) {
      return status;
    }
  }
}

void tdn_channel_mark_done(tdn_channel* channel)
{
  store(&channel->to_parent->done, channel->consumed);
}
