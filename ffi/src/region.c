/*
 * region.c: see region.h. The name exists only between shm_open and
 * shm_unlink, a few microseconds: afterwards the object is reachable only
 * through our descriptor and the stub's inherited copy, and it vanishes
 * with the last of them, even if both processes crash.
 */
#include "region.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

/* Reserves the pages of [0, size) now, so that a full /dev/shm is an error
 * here instead of a SIGBUS in whichever process first touches the page.
 * Filesystems without fallocate leave the pages to be allocated on touch. */
static bool commit(int fd, uint64_t size, tdn_diag* diag)
{
  if ((off_t)size < 0) {
    return tdn_diag_set(diag, "region size %llu is too large", (unsigned long long)size);
  }
  if (fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)size) == 0 || errno == EOPNOTSUPP ||
      errno == ENOSYS) {
    return true;
  }
  return tdn_diag_set(
      diag, "cannot reserve %llu bytes of shared memory: %s (is /dev/shm large enough?)",
      (unsigned long long)size, strerror(errno));
}

static bool random_name(const char* prefix, char* name, size_t capacity, tdn_diag* diag)
{
  uint8_t random[16];
  size_t filled = 0;
  while (filled < sizeof(random)) {
    const ssize_t got = getrandom(random + filled, sizeof(random) - filled, 0);
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got <= 0) {
      return tdn_diag_set(diag, "getrandom failed: %s", strerror(errno));
    }
    filled += (size_t)got;
  }
  char hex[33];
  for (size_t i = 0; i < sizeof(random); ++i) {
    snprintf(hex + 2 * i, 3, "%02x", random[i]);
  }
  if ((size_t)snprintf(name, capacity, "/%s_%s", prefix, hex) >= capacity) {
    return tdn_diag_set(diag, "shared memory prefix '%s' is too long", prefix);
  }
  return true;
}

bool tdn_region_create(
    tdn_region* region, const char* prefix, uint64_t window_size, uint64_t commit_bytes,
    tdn_diag* diag)
{
  *region = (tdn_region)TDN_REGION_INIT;
  const uint64_t half = tdn_region_half_for(window_size);
  if (half < TDN_CONTROL_SIZE || commit_bytes > half) {
    return tdn_diag_set(
        diag, "a %llu-byte window leaves %llu bytes per arena half, too small for %llu bytes",
        (unsigned long long)window_size, (unsigned long long)half,
        (unsigned long long)commit_bytes);
  }
  char name[128];
  if (!random_name(prefix, name, sizeof(name), diag)) {
    return false;
  }
  const int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) {
    return tdn_diag_set(diag, "cannot create shared memory: %s", strerror(errno));
  }
  /* From here on the object has no name: nothing can leak into /dev/shm. */
  shm_unlink(name);
  region->fd = fd;
  region->window_size = TDN_CONTROL_SIZE + 2 * half;
  /* The whole size at once: pages cost nothing until touched, and neither
   * side ever has to ask the other for room. */
  if (ftruncate(fd, (off_t)region->window_size) != 0) {
    const int saved = errno;
    tdn_region_destroy(region);
    return tdn_diag_set(
        diag, "cannot size shared memory to %llu bytes: %s",
        (unsigned long long)(TDN_CONTROL_SIZE + 2 * half), strerror(saved));
  }
  if (!commit(fd, TDN_CONTROL_SIZE + commit_bytes, diag)) {
    tdn_region_destroy(region);
    return false;
  }
  /* MAP_NORESERVE: the window is address space, not memory, until touched. */
  void* base = mmap(
      NULL, region->window_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
  if (base == MAP_FAILED) {
    const int saved = errno;
    const uint64_t size = region->window_size;
    tdn_region_destroy(region);
    return tdn_diag_set(
        diag, "cannot map a %llu-byte shared memory window: %s", (unsigned long long)size,
        strerror(saved));
  }
  region->base = base;
  region->arena_size = 2 * half;
  region->stub_base = half;
  region->committed = commit_bytes;

  tdn_control* control = tdn_region_control(region);
  memset(control, 0, TDN_CONTROL_SIZE);
  control->magic = TDN_WIRE_MAGIC;
  control->version = TDN_WIRE_VERSION;
  control->window_size = region->window_size;
  control->arena_size = region->arena_size;
  control->stub_base = region->stub_base;
  control->parent_pid = (uint32_t)getpid();
  return true;
}

bool tdn_region_commit(tdn_region* region, uint64_t needed, uint64_t growth, tdn_diag* diag)
{
  if (needed <= region->committed) {
    return true;
  }
  const uint64_t half = region->stub_base;
  if (needed > half) {
    return tdn_diag_set(
        diag, "%llu bytes are needed but the parent's half of shm-max-byte-size is %llu",
        (unsigned long long)needed, (unsigned long long)half);
  }
  const uint64_t steps = (needed - region->committed + growth - 1) / growth;
  uint64_t target = half;
  if (steps <= (half - region->committed) / growth) {
    target = region->committed + steps * growth;
  }
  if (!commit(region->fd, TDN_CONTROL_SIZE + target, diag)) {
    return false;
  }
  region->committed = target;
  return true;
}

void tdn_region_destroy(tdn_region* region)
{
  if (region->base != NULL) {
    munmap(region->base, region->window_size);
  }
  if (region->fd >= 0) {
    close(region->fd);
  }
  *region = (tdn_region)TDN_REGION_INIT;
}
