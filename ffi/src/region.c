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

/* Backs `size` bytes of the object. fallocate reserves the pages now, so a
 * full /dev/shm is an error here instead of a SIGBUS in whichever process
 * first touches the page; filesystems without it fall back to ftruncate. */
static bool back(int fd, uint64_t size, tdn_diag* diag)
{
  if ((off_t)size < 0) {
    return tdn_diag_set(diag, "region size %llu is too large", (unsigned long long)size);
  }
  if (fallocate(fd, 0, 0, (off_t)size) == 0) {
    return true;
  }
  const int fallocate_errno = errno;
  if (fallocate_errno == EOPNOTSUPP || fallocate_errno == ENOSYS) {
    if (ftruncate(fd, (off_t)size) == 0) {
      return true;
    }
  } else {
    errno = fallocate_errno;
  }
  return tdn_diag_set(
      diag, "cannot back %llu bytes of shared memory: %s (is /dev/shm large enough?)",
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
    tdn_region* region, const char* prefix, uint64_t window_size, uint64_t arena_size,
    tdn_diag* diag)
{
  *region = (tdn_region)TDN_REGION_INIT;
  if (window_size < TDN_CONTROL_SIZE || arena_size > window_size - TDN_CONTROL_SIZE) {
    return tdn_diag_set(
        diag, "an arena of %llu bytes does not fit a %llu-byte window",
        (unsigned long long)arena_size, (unsigned long long)window_size);
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
  region->window_size = window_size;
  if (!back(fd, TDN_CONTROL_SIZE + arena_size, diag)) {
    tdn_region_destroy(region);
    return false;
  }
  /* MAP_NORESERVE: the window is address space, not memory, until backed. */
  void* base = mmap(
      NULL, window_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
  if (base == MAP_FAILED) {
    const int saved = errno;
    tdn_region_destroy(region);
    return tdn_diag_set(
        diag, "cannot map a %llu-byte shared memory window: %s", (unsigned long long)window_size,
        strerror(saved));
  }
  region->base = base;
  region->arena_size = arena_size;

  tdn_control* control = tdn_region_control(region);
  memset(control, 0, TDN_CONTROL_SIZE);
  control->magic = TDN_WIRE_MAGIC;
  control->version = TDN_WIRE_VERSION;
  control->window_size = window_size;
  control->arena_size = arena_size;
  control->parent_pid = (uint32_t)getpid();
  return true;
}

bool tdn_region_grow(tdn_region* region, uint64_t needed, uint64_t growth, tdn_diag* diag)
{
  if (needed <= region->arena_size) {
    return true;
  }
  const uint64_t max_arena = tdn_region_max_arena(region);
  if (needed > max_arena) {
    return tdn_diag_set(
        diag, "%llu arena bytes are needed but shm-max-byte-size allows %llu",
        (unsigned long long)needed, (unsigned long long)max_arena);
  }
  const uint64_t steps = (needed - region->arena_size + growth - 1) / growth;
  uint64_t target = max_arena;
  if (steps <= (max_arena - region->arena_size) / growth) {
    target = region->arena_size + steps * growth;
  }
  if (!back(region->fd, TDN_CONTROL_SIZE + target, diag)) {
    return false;
  }
  region->arena_size = target;
  tdn_region_control(region)->arena_size = target;
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
