/*
 * arena_alloc.c: see arena_alloc.h. Positions run free (u64 never wraps in
 * practice); offset = position % capacity. A block that would straddle the
 * end of the half starts at offset 0 instead, and the skipped bytes belong
 * to it, so that space returns when the block does.
 */
#include "arena_alloc.h"

#include <string.h>

#include "tdn_wire.h"

void tdn_arena_alloc_init(tdn_arena_alloc* alloc, uint64_t capacity)
{
  memset(alloc, 0, sizeof(*alloc));
  alloc->capacity = capacity & ~(uint64_t)(TDN_TENSOR_ALIGN - 1);
}

bool tdn_arena_alloc_take(tdn_arena_alloc* alloc, uint64_t size, tdn_arena_grant* grant)
{
  if (alloc->count == TDN_ARENA_MAX_BLOCKS || size > alloc->capacity) {
    return false;
  }
  /* Every block is a whole number of alignment units, so every position
   * stays aligned. A zero-byte block still takes one unit: it must be
   * distinguishable from its neighbours. */
  uint64_t rounded = (size + TDN_TENSOR_ALIGN - 1) & ~(uint64_t)(TDN_TENSOR_ALIGN - 1);
  if (rounded == 0) {
    rounded = TDN_TENSOR_ALIGN;
  }
  if (rounded > alloc->capacity) {
    return false;
  }
  const uint64_t begin = alloc->head;
  uint64_t at = begin % alloc->capacity;
  uint64_t end = begin + rounded;
  if (at + rounded > alloc->capacity) {
    end += alloc->capacity - at; /* skip to offset 0 */
    at = 0;
  }
  if (end - alloc->tail > alloc->capacity) {
    return false;
  }
  tdn_arena_block* block = &alloc->blocks[(alloc->first + alloc->count) % TDN_ARENA_MAX_BLOCKS];
  block->begin = begin;
  block->end = end;
  block->freed = false;
  block->deferred = false;
  block->release_seq = 0;
  alloc->count++;
  alloc->head = end;
  if (at + rounded > alloc->high_water) {
    alloc->high_water = at + rounded;
  }
  grant->offset = at;
  grant->handle = begin;
  return true;
}

/* Returns freed blocks at both ends: the oldest advance the tail, the
 * newest move the head back. */
static void collect(tdn_arena_alloc* alloc)
{
  while (alloc->count > 0 && alloc->blocks[alloc->first].freed) {
    alloc->tail = alloc->blocks[alloc->first].end;
    alloc->first = (alloc->first + 1) % TDN_ARENA_MAX_BLOCKS;
    alloc->count--;
  }
  while (alloc->count > 0) {
    const tdn_arena_block* newest =
        &alloc->blocks[(alloc->first + alloc->count - 1) % TDN_ARENA_MAX_BLOCKS];
    if (!newest->freed) {
      break;
    }
    alloc->head = newest->begin;
    alloc->count--;
  }
  if (alloc->count == 0) {
    /* Everything is free: start over at offset 0, where the pages are
     * warm and already committed. */
    alloc->head = alloc->tail = 0;
  }
}

static tdn_arena_block* find_live(tdn_arena_alloc* alloc, uint64_t handle)
{
  for (uint32_t i = 0; i < alloc->count; ++i) {
    tdn_arena_block* block = &alloc->blocks[(alloc->first + i) % TDN_ARENA_MAX_BLOCKS];
    if (block->begin == handle && !block->freed) {
      return block;
    }
  }
  return NULL;
}

void tdn_arena_alloc_give_back(tdn_arena_alloc* alloc, uint64_t handle)
{
  tdn_arena_block* block = find_live(alloc, handle);
  if (block != NULL) {
    block->freed = true;
  }
  collect(alloc);
}

void tdn_arena_alloc_defer(tdn_arena_alloc* alloc, uint64_t handle, uint32_t seq)
{
  tdn_arena_block* block = find_live(alloc, handle);
  if (block != NULL) {
    block->deferred = true;
    block->release_seq = seq;
  }
}

void tdn_arena_alloc_reclaim(tdn_arena_alloc* alloc, uint32_t done, uint32_t published)
{
  if ((int32_t)(published - done) < 0) {
    return;
  }
  bool any = false;
  for (uint32_t i = 0; i < alloc->count; ++i) {
    tdn_arena_block* block = &alloc->blocks[(alloc->first + i) % TDN_ARENA_MAX_BLOCKS];
    /* Counters wrap: done has reached the record when the signed distance
     * is not negative. */
    if (!block->freed && block->deferred && (int32_t)(done - block->release_seq) >= 0) {
      block->freed = true;
      any = true;
    }
  }
  if (any) {
    collect(alloc);
  }
}
