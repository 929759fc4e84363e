/*
 * pingpong.c: the floor our IPC is measured against. A forked C child and
 * this process bounce a 64-byte message through a MAP_SHARED anonymous
 * region with the rings and the wake-up protocol of ffi/include/tdn_wire.h:
 * the producer writes the record, bumps tail and futex-wakes only when the
 * consumer set consumer_sleeping; the consumer spins for spin_us, then
 * sets consumer_sleeping, re-reads tail and futex-waits on it.
 *
 * The child runs between fork and _exit in a copy of a multi-threaded
 * process, so it only touches the region and makes raw system calls.
 */
#include <linux/futex.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host_api.h"
#include "host_internal.h"
#include "tdn_wire.h"

#define PINGPONG_MESSAGE_BYTES 64u
#define PINGPONG_KIND_PING 1u
#define PINGPONG_KIND_STOP 2u
/* The child gives up if the parent goes silent this long. */
#define PINGPONG_IDLE_LIMIT_NS (30ull * 1000000000ull)

typedef struct pingpong_region {
  tdn_ring to_child;
  tdn_ring to_parent;
  _Alignas(64) uint8_t to_child_payload[PINGPONG_MESSAGE_BYTES];
  _Alignas(64) uint8_t to_parent_payload[PINGPONG_MESSAGE_BYTES];
} pingpong_region;

static long pingpong_futex(uint32_t* word, int op, uint32_t value, const struct timespec* timeout) {
  return syscall(SYS_futex, word, op, value, timeout, NULL, 0);
}

static void pingpong_publish(tdn_ring* ring, uint16_t kind, uint64_t id) {
  uint32_t tail = __atomic_load_n(&ring->tail, __ATOMIC_SEQ_CST);
  tdn_record* record = &ring->records[tail % TDN_RING_CAPACITY];
  record->kind = kind;
  record->flags = 0;
  record->aux = 0;
  record->id = id;
  record->offset = 0;
  record->length = PINGPONG_MESSAGE_BYTES;
  __atomic_store_n(&ring->tail, tail + 1, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(&ring->consumer_sleeping, __ATOMIC_SEQ_CST) != 0) {
    pingpong_futex(&ring->tail, FUTEX_WAKE, 1, NULL);
  }
}

/* Waits for the next record; false if nothing came within idle_limit_ns. */
static bool pingpong_consume(tdn_ring* ring, uint64_t spin_ns, uint64_t idle_limit_ns,
                             tdn_record* out) {
  uint32_t head = __atomic_load_n(&ring->head, __ATOMIC_SEQ_CST);
  uint64_t start = host_now_ns();
  uint32_t polls = 0;
  while (__atomic_load_n(&ring->tail, __ATOMIC_SEQ_CST) == head) {
    if ((++polls & 63u) == 0 && host_now_ns() - start > spin_ns) break;
    __builtin_ia32_pause();
  }
  while (__atomic_load_n(&ring->tail, __ATOMIC_SEQ_CST) == head) {
    if (host_now_ns() - start > idle_limit_ns) return false;
    __atomic_store_n(&ring->consumer_sleeping, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&ring->tail, __ATOMIC_SEQ_CST) == head) {
      struct timespec slice = {1, 0};
      pingpong_futex(&ring->tail, FUTEX_WAIT, head, &slice);
    }
    __atomic_store_n(&ring->consumer_sleeping, 0, __ATOMIC_SEQ_CST);
  }
  *out = ring->records[head % TDN_RING_CAPACITY];
  __atomic_store_n(&ring->head, head + 1, __ATOMIC_SEQ_CST);
  return true;
}

static void pingpong_child(pingpong_region* region, uint64_t spin_ns) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  tdn_record record;
  for (;;) {
    if (!pingpong_consume(&region->to_child, spin_ns, PINGPONG_IDLE_LIMIT_NS, &record)) _exit(2);
    if (record.kind == PINGPONG_KIND_STOP) _exit(0);
    memcpy(region->to_parent_payload, region->to_child_payload, PINGPONG_MESSAGE_BYTES);
    pingpong_publish(&region->to_parent, PINGPONG_KIND_PING, record.id);
  }
}

static int pingpong_compare(const void* left, const void* right) {
  uint64_t a = *(const uint64_t*)left;
  uint64_t b = *(const uint64_t*)right;
  return a < b ? -1 : a > b;
}

int32_t host_pingpong_floor(uint32_t iterations, uint32_t spin_us, uint64_t* median_ns,
                            uint64_t* p99_ns, char* error_text, uint32_t error_cap) {
  if (iterations == 0 || median_ns == NULL || p99_ns == NULL) {
    host_write_text(error_text, error_cap, "need iterations and output pointers");
    return -1;
  }
  pingpong_region* region = mmap(NULL, sizeof *region, PROT_READ | PROT_WRITE,
                                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (region == MAP_FAILED) {
    host_write_text(error_text, error_cap, "mmap of the shared region failed");
    return -1;
  }
  memset(region, 0, sizeof *region);
  uint64_t* samples = host_alloc(sizeof *samples * iterations);
  uint64_t spin_ns = (uint64_t)spin_us * 1000u;

  pid_t child = fork();
  if (child < 0) {
    host_write_text(error_text, error_cap, "fork failed");
    free(samples);
    munmap(region, sizeof *region);
    return -1;
  }
  if (child == 0) pingpong_child(region, spin_ns);

  int32_t status = 0;
  uint32_t warmup = iterations / 10 + 100;
  uint8_t message[PINGPONG_MESSAGE_BYTES];
  tdn_record reply;
  for (uint32_t i = 0; i < warmup + iterations; i++) {
    memset(message, (int)(i & 0xff), sizeof message);
    uint64_t start = host_now_ns();
    memcpy(region->to_child_payload, message, sizeof message);
    pingpong_publish(&region->to_child, PINGPONG_KIND_PING, i);
    if (!pingpong_consume(&region->to_parent, spin_ns, PINGPONG_IDLE_LIMIT_NS, &reply)) {
      host_write_text(error_text, error_cap, "the child stopped answering");
      status = -1;
      break;
    }
    memcpy(message, region->to_parent_payload, sizeof message);
    uint64_t end = host_now_ns();
    if (reply.id != i || message[0] != (uint8_t)(i & 0xff)) {
      host_write_text(error_text, error_cap, "the child echoed the wrong message");
      status = -1;
      break;
    }
    if (i >= warmup) samples[i - warmup] = end - start;
  }
  pingpong_publish(&region->to_child, PINGPONG_KIND_STOP, 0);
  int child_status = 0;
  if (waitpid(child, &child_status, 0) < 0 || (status == 0 && !WIFEXITED(child_status))) {
    if (status == 0) host_write_text(error_text, error_cap, "the child did not exit cleanly");
    status = -1;
  }
  if (status == 0) {
    qsort(samples, iterations, sizeof *samples, pingpong_compare);
    *median_ns = samples[iterations / 2];
    uint64_t p99_index = (uint64_t)iterations * 99u / 100u;
    *p99_ns = samples[p99_index < iterations ? p99_index : iterations - 1];
  }
  free(samples);
  munmap(region, sizeof *region);
  return status;
}
