/*
 * region.h: one instance's shared-memory region (ffi/WIRE_FORMAT.md, "The
 * region"): an unnamed POSIX shm object mapped as a fixed window, of which
 * the control page plus arena_size bytes are backed. Growing backs more of
 * the window; nothing is ever remapped, so pointers into the window stay
 * valid for the region's life.
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
  uint64_t arena_size;  /* the parent's own copy: never read back from shared memory */
} tdn_region;

#define TDN_REGION_INIT {.fd = -1, .base = NULL, .window_size = 0, .arena_size = 0}

/* Creates, unlinks and maps a region named "/<prefix>_<32 random hex>",
 * backs TDN_CONTROL_SIZE + arena_size bytes and writes the control page
 * (magic, version, sizes, parent pid; rings empty). */
bool tdn_region_create(
    tdn_region* region, const char* prefix, uint64_t window_size, uint64_t arena_size,
    tdn_diag* diag);

/* The largest arena the window allows. */
static inline uint64_t tdn_region_max_arena(const tdn_region* region)
{
  return region->window_size - TDN_CONTROL_SIZE;
}

/* Backs enough of the window for an arena of at least `needed` bytes:
 * current size plus whole `growth` steps, capped at the window. Updates
 * arena_size here and in the control page. No-op if already big enough. */
bool tdn_region_grow(tdn_region* region, uint64_t needed, uint64_t growth, tdn_diag* diag);

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
