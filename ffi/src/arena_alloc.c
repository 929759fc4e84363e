/*
 * arena_alloc.c: see arena_alloc.h. The live blocks are kept sorted by
 * offset; the gaps between them are the free space. A take scans the gaps
 * once around the half, starting at the cursor: at most
 * TDN_ARENA_MAX_BLOCKS + 1 gaps, a few microseconds at worst, and one or
 * two on the usual path (everything after the cursor is free).
 */
#include "arena_alloc.h"

#include <string.h>

#include "tdn_wire.h"

void tdn_arena_alloc_init(tdn_arena_alloc* alloc, uint64_t capacity)
{
  memset(alloc, 0, sizeof(*alloc));
  alloc->capacity = capacity & ~(uint64_t)(TDN_TENSOR_ALIGN - 1);
  alloc->next_handle = 1;
}

/* Start of the gap before block `index` (index == count: the last gap). */
static uint64_t gap_start(const tdn_arena_alloc* alloc, uint32_t index)
{
  if (index == 0) {
    return 0;
  }
  const tdn_arena_block* previous = &alloc->blocks[index - 1];
  return previous->offset + previous->size;
}

static uint64_t gap_end(const tdn_arena_alloc* alloc, uint32_t index)
{
  return index == alloc->count ? alloc->capacity : alloc->blocks[index].offset;
}

/* Finds room for `size` bytes: first the gaps at or after the cursor (from
 * the cursor on), then the rest from offset 0. *index is where the new
 * block goes in the sorted array. */
static bool find_room(const tdn_arena_alloc* alloc, uint64_t size, uint64_t* at, uint32_t* index)
{
  for (int pass = 0; pass < 2; ++pass) {
    for (uint32_t i = 0; i <= alloc->count; ++i) {
      const uint64_t end = gap_end(alloc, i);
      uint64_t start = gap_start(alloc, i);
      if (pass == 0) {
        if (end <= alloc->cursor) {
          continue;
        }
        if (start < alloc->cursor) {
          start = alloc->cursor;
        }
      }
      if (end >= start && end - start >= size) {
        *at = start;
        *index = i;
        return true;
      }
    }
  }
  return false;
}

bool tdn_arena_alloc_take(tdn_arena_alloc* alloc, uint64_t size, tdn_arena_grant* grant)
{
  if (alloc->count == TDN_ARENA_MAX_BLOCKS || size > alloc->capacity) {
    return false;
  }
  /* A zero-byte block still takes one unit: it must have a place of its own. */
  uint64_t rounded = (size + TDN_TENSOR_ALIGN - 1) & ~(uint64_t)(TDN_TENSOR_ALIGN - 1);
  if (rounded == 0) {
    rounded = TDN_TENSOR_ALIGN;
  }
  if (rounded > alloc->capacity) {
    return false;
  }
  if (alloc->count == 0) {
    alloc->cursor = 0; /* warm, committed pages */
  }
  uint64_t at = 0;
  uint32_t index = 0;
  if (!find_room(alloc, rounded, &at, &index)) {
    return false;
  }
  memmove(
      &alloc->blocks[index + 1], &alloc->blocks[index],
      (alloc->count - index) * sizeof(tdn_arena_block));
  tdn_arena_block* block = &alloc->blocks[index];
  block->offset = at;
  block->size = rounded;
  block->handle = alloc->next_handle++;
  block->deferred = false;
  block->release_seq = 0;
  alloc->count++;
  alloc->held += rounded;
  alloc->cursor = at + rounded;
  if (alloc->cursor > alloc->high_water) {
    alloc->high_water = alloc->cursor;
  }
  grant->offset = at;
  grant->handle = block->handle;
  return true;
}

static void remove_at(tdn_arena_alloc* alloc, uint32_t index)
{
  alloc->held -= alloc->blocks[index].size;
  memmove(
      &alloc->blocks[index], &alloc->blocks[index + 1],
      (alloc->count - index - 1) * sizeof(tdn_arena_block));
  alloc->count--;
}

static int32_t find_live(const tdn_arena_alloc* alloc, uint64_t handle)
{
  for (uint32_t i = 0; i < alloc->count; ++i) {
    if (alloc->blocks[i].handle == handle) {
      return (int32_t)i;
    }
  }
  return -1;
}

void tdn_arena_alloc_give_back(tdn_arena_alloc* alloc, uint64_t handle)
{
  const int32_t index = find_live(alloc, handle);
  if (index >= 0) {
    remove_at(alloc, (uint32_t)index);
  }
}

void tdn_arena_alloc_defer(tdn_arena_alloc* alloc, uint64_t handle, uint32_t seq)
{
  const int32_t index = find_live(alloc, handle);
  if (index >= 0) {
    alloc->blocks[index].deferred = true;
    alloc->blocks[index].release_seq = seq;
  }
}

void tdn_arena_alloc_reclaim(tdn_arena_alloc* alloc, uint32_t done, uint32_t published)
{
  if ((int32_t)(published - done) < 0) {
    return;
  }
  uint32_t kept = 0;
  for (uint32_t i = 0; i < alloc->count; ++i) {
    const tdn_arena_block* block = &alloc->blocks[i];
    /* Counters wrap: done has reached the record when the signed distance
     * is not negative. */
    if (block->deferred && (int32_t)(done - block->release_seq) >= 0) {
      alloc->held -= block->size;
      continue;
    }
    alloc->blocks[kept++] = *block;
  }
  alloc->count = kept;
}
