/*
 * arena_view.h: bounds-checked reads of what the stub wrote in the arena.
 * Every decoder of stub payloads (batch_codec.c, bls_request.c) reads
 * through these, so an offset or size the stub forged can never reach
 * outside the arena.
 */
#ifndef TDN_ARENA_VIEW_H
#define TDN_ARENA_VIEW_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

typedef struct arena_view {
  const uint8_t* base;
  uint64_t size;
} arena_view;

/* True if [offset, offset + size) lies inside the arena (no overflow). */
static inline bool in_bounds(const arena_view* arena, uint64_t offset, uint64_t size)
{
  return offset <= arena->size && size <= arena->size - offset;
}

/* Copies `size` bytes at `offset` into `out` if they lie inside the arena. */
static inline bool read_struct(
    const arena_view* arena, uint64_t offset, void* out, uint64_t size)
{
  if (!in_bounds(arena, offset, size)) {
    return false;
  }
  memcpy(out, arena->base + offset, size);
  return true;
}

#endif /* TDN_ARENA_VIEW_H */
