/*
 * stub_helpers.c: the few system calls the Deno stub's trusted main thread
 * cannot make from JavaScript (libtriton_deno_stub.so, bound by
 * ffi/stub/bindings.ts).
 *
 * The stub inherits the shared-memory region as descriptor 3, maps it once,
 * and then waits on the ring words with shared futexes. Deno offers neither
 * mmap of a descriptor nor a futex on memory another process shares, hence
 * this library. It holds no state: every function is a thin, checked wrapper.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "tdn_wire.h"

#define TDN_STUB_EXPORT __attribute__((visibility("default")))

/* Reads exactly `size` bytes at `offset`; a short read is a failure. */
static int read_exactly(int fd, void *buffer, size_t size, off_t offset) {
  size_t done = 0;
  while (done < size) {
    ssize_t got = pread(fd, (char *)buffer + done, size - done, offset + (off_t)done);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return -1;
    done += (size_t)got;
  }
  return 0;
}

/*
 * Maps the region the parent passed as `fd` and closes the descriptor.
 *
 * The header is read with pread first so that a wrong descriptor (not our
 * region, wrong version, nonsense sizes) is refused before anything is
 * mapped. The whole window is mapped at once, as the wire format requires:
 * the parent grows the region in place with ftruncate and neither side ever
 * remaps. Returns the mapping's base (the control page) and stores the
 * window size in *window_out, or returns NULL.
 */
TDN_STUB_EXPORT void *tdn_stub_attach(int32_t fd, uint64_t *window_out) {
  void *base = NULL;
  tdn_control header;
  struct stat info;
  if (window_out == NULL || fd < 0) goto done;
  if (read_exactly(fd, &header, sizeof header, 0) != 0) goto done;
  if (header.magic != TDN_WIRE_MAGIC || header.version != TDN_WIRE_VERSION) goto done;
  /* The window must hold the control page plus the current arena, and must
   * fit the address space; the backed size must cover the current arena. */
  if (header.window_size > (uint64_t)SIZE_MAX || header.window_size < TDN_CONTROL_SIZE) goto done;
  if (header.arena_size > header.window_size - TDN_CONTROL_SIZE) goto done;
  if (fstat(fd, &info) != 0 || info.st_size < 0) goto done;
  if ((uint64_t)info.st_size < TDN_CONTROL_SIZE + header.arena_size) goto done;
  base = mmap(NULL, (size_t)header.window_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    base = NULL;
    goto done;
  }
  *window_out = header.window_size;
done:
  if (fd >= 0) close(fd);
  return base;
}

/*
 * Sleeps while *addr == expected, for at most timeout_ms (negative: no
 * limit). A shared futex, not FUTEX_PRIVATE: the waker is another process.
 * Returns 0 when woken, when the value already differed or on a signal (the
 * caller re-reads the ring either way), 1 on timeout, -1 on another error.
 */
TDN_STUB_EXPORT int32_t tdn_futex_wait(uint32_t *addr, uint32_t expected, int32_t timeout_ms) {
  struct timespec timeout;
  struct timespec *timeout_ptr = NULL;
  if (timeout_ms >= 0) {
    timeout.tv_sec = timeout_ms / 1000;
    timeout.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
    timeout_ptr = &timeout;
  }
  long rc = syscall(SYS_futex, addr, FUTEX_WAIT, expected, timeout_ptr, NULL, 0);
  if (rc == 0) return 0;
  if (errno == EAGAIN || errno == EINTR) return 0;
  if (errno == ETIMEDOUT) return 1;
  return -1;
}

/* Wakes every waiter on *addr (there is at most one). Returns how many were
 * woken, or -1. */
TDN_STUB_EXPORT int32_t tdn_futex_wake(uint32_t *addr) {
  long rc = syscall(SYS_futex, addr, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
  return rc < 0 ? -1 : (int32_t)rc;
}

/*
 * Rings a doorbell (tdn_wire.h): one byte on descriptor `fd`, which is
 * non-blocking. A full pipe already holds a wake-up, so EAGAIN is not an
 * error; a closed one means the reader is gone. Returns 0 or -1.
 */
TDN_STUB_EXPORT int32_t tdn_stub_ring(int32_t fd, uint8_t byte) {
  ssize_t wrote;
  do {
    wrote = write(fd, &byte, 1);
  } while (wrote < 0 && errno == EINTR);
  return wrote == 1 || errno == EAGAIN ? 0 : -1;
}

/* The stub's parent process id: the stub compares it with the control
 * page's parent_pid to notice that Triton is gone (it is reparented). */
TDN_STUB_EXPORT int32_t tdn_parent_pid(void) { return (int32_t)getppid(); }

/*
 * Returns once the parent is gone, without a timer: `fd` is the stub's end
 * of the parent's doorbell (descriptor 1), a pipe whose reading end only the
 * parent holds (made close-on-exec), so it closes when the parent exits,
 * however it exits, and poll reports POLLERR here. The stub binds this as a
 * nonblocking call: it occupies one of Deno's blocking threads, and an idle
 * stub's main thread need not wake to look for its parent. Returns 0 once
 * the parent is gone, -1 if `fd` cannot be watched.
 */
TDN_STUB_EXPORT int32_t tdn_stub_await_parent_exit(int32_t fd) {
  struct pollfd watched = {.fd = fd, .events = 0, .revents = 0};
  if (fd < 0) return -1; /* poll would skip it and wait for ever */
  for (;;) {
    const int ready = poll(&watched, 1, -1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0 || (watched.revents & POLLNVAL) != 0) return -1;
    if ((watched.revents & (POLLERR | POLLHUP)) != 0) return 0;
  }
}

/*
 * Turns WebGPU off for the whole process: Deno creates its WebGPU instance
 * lazily and then reads DENO_WEBGPU_BACKEND; "none" selects no backend, so
 * every requestAdapter() resolves to null. WebGPU needs no Deno permission,
 * and a model can reach a fresh realm (nested Workers, node:worker_threads)
 * where removing navigator.gpu does not help, so this is the one reliable
 * switch. The stub calls it first thing, before any Worker (any other thread
 * that could read the environment) exists. Returns 0 or -1.
 */
TDN_STUB_EXPORT int32_t tdn_stub_disable_webgpu(void) {
  return setenv("DENO_WEBGPU_BACKEND", "none", 1) == 0 ? 0 : -1;
}

/*
 * Gives back the pages a stub touched only to start: drops this process's
 * page-table entries for every private, read-only file mapping none of
 * whose pages this process ever wrote (the deno binary's code and
 * constants, the libraries'). They stay in the page cache, which every stub
 * shares; a page used again faults back in from there. Mappings with an
 * anonymous (written) page, such as relocated read-only data, are left
 * alone: dropping them would lose what was written. Returns the bytes
 * advised, or -1 if /proc/self/smaps cannot be read.
 */
TDN_STUB_EXPORT int64_t tdn_stub_release_file_pages(void) {
  FILE *smaps = fopen("/proc/self/smaps", "re");
  if (smaps == NULL) return -1;
  char line[4096];
  int64_t released = 0;
  unsigned long start = 0, end = 0;
  int candidate = 0;
  while (fgets(line, sizeof line, smaps) != NULL) {
    unsigned long first, last;
    char perms[5];
    char *space = strchr(line, ' ');
    char *dash = strchr(line, '-');
    /* A mapping's header line: "start-end perms offset dev inode [path]". */
    if (dash != NULL && space != NULL && dash < space &&
        sscanf(line, "%lx-%lx %4s", &first, &last, perms) == 3) {
      start = first;
      end = last;
      candidate = strchr(line, '/') != NULL && perms[0] == 'r' && perms[1] == '-' &&
                  perms[3] == 'p';
      continue;
    }
    unsigned long anonymous_kb;
    if (candidate && sscanf(line, "Anonymous: %lu kB", &anonymous_kb) == 1) {
      if (anonymous_kb == 0 && madvise((void *)start, end - start, MADV_DONTNEED) == 0) {
        released += (int64_t)(end - start);
      }
      candidate = 0;
    }
  }
  fclose(smaps);
  return released;
}
