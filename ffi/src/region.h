/*
 * region.h: one instance's shared-memory region (ffi/WIRE_FORMAT.md, "The
 * region"): an unnamed POSIX shm object of the control page plus two arena
 * halves (the parent's, then the stub's), sized and mapped once. Pages are
 * allocated as they are first touched, except the parent's own: the parent
 * commits its half with fallocate as its use grows, so a full /dev/shm is an
 * error it can report rather than a SIGBUS inside Triton. Nothing is ever
 * remapped, so pointers into the window stay valid for the region's life.
 */
#ifndef TDN_REGION_H
#define TDN_REGION_H

#include <stdbool.h>
#include <stdint.h>

#include "diag.h"
#include "tdn_wire.h"

typedef struct tdn_region {
  int fd;               /* -1 when not created; O_CLOEXEC, dup'ed to 3 only in the stub */
  uint8_t* base;        /* the window; NULL when not created */
  uint64_t window_size; /* bytes mapped, control page included */
  uint64_t arena_size;  /* both halves; the parent's own copies, never read back */
  uint64_t stub_base;   /* arena offset of the stub's half = size of each half */
  uint64_t committed;   /* bytes of the parent's half reserved with fallocate */
} tdn_region;

#define TDN_REGION_INIT \
  {.fd = -1, .base = NULL, .window_size = 0, .arena_size = 0, .stub_base = 0, .committed = 0}

/* The arena half each side gets from a window of window_size bytes (the
 * control page taken off, split in two, rounded down to TDN_TENSOR_ALIGN). */
static inline uint64_t tdn_region_half_for(uint64_t window_size)
{
  if (window_size < TDN_CONTROL_SIZE) {
    return 0;
  }
  return ((window_size - TDN_CONTROL_SIZE) / 2) & ~(uint64_t)(TDN_TENSOR_ALIGN - 1);
}

/* Creates, unlinks and maps a region named "/<prefix>_<32 random hex>" for
 * a window of window_size bytes, commits the control page plus `commit`
 * bytes of the parent's half and writes the control page (magic, version,
 * sizes, parent pid; rings empty). */
bool tdn_region_create(
    tdn_region* region, const char* prefix, uint64_t window_size, uint64_t commit,
    tdn_diag* diag);

/* Commits the parent's half up to at least `needed` bytes (whole `growth`
 * steps, capped at the half). No-op when already committed. */
bool tdn_region_commit(tdn_region* region, uint64_t needed, uint64_t growth, tdn_diag* diag);

static inline tdn_control* tdn_region_control(const tdn_region* region)
{
  return (tdn_control*)region->base;
}

static inline uint8_t* tdn_region_arena(const tdn_region* region)
{
  return region->base + TDN_CONTROL_SIZE;
}

/* Unmaps and closes; safe on a region never created. */
void tdn_region_destroy(tdn_region* region);

#endif /* TDN_REGION_H */
