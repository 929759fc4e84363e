/*
 * arena_alloc.h: the parent's allocator for its half of the arena
 * (ffi/WIRE_FORMAT.md, "Arena"). Blocks are handed out in order around the
 * half like a ring; they may be freed in any order, but space comes back
 * in allocation order: a block held long (a decoupled batch still
 * streaming) holds back the space after it until it is freed. The state
 * lives in the parent's own memory; the stub cannot see or corrupt it.
 *
 * A block may also be freed "once the stub is done with record n" of
 * to_stub (a BLS answer's payload and outputs): tdn_arena_alloc_defer marks
 * it, tdn_arena_alloc_reclaim frees what the stub's `done` counter has
 * passed. The newest blocks come back at once when freed, so a long-held
 * block at the tail does not stop a stream of short-lived ones from reusing
 * the same space.
 *
 * Not thread-safe: the supervisor's lock guards it.
 */
#ifndef TDN_ARENA_ALLOC_H
#define TDN_ARENA_ALLOC_H

#include <stdbool.h>
#include <stdint.h>

/* Most blocks live at once (batches in flight, BLS answers and their
 * outputs, INIT), freed or not: space returns in order. */
#define TDN_ARENA_MAX_BLOCKS 1024u

typedef struct tdn_arena_block {
  uint64_t begin; /* position where the block's space starts (padding included) */
  uint64_t end;   /* position after it */
  bool freed;
  bool deferred;      /* freed once the stub's to_stub.done reaches release_seq */
  uint32_t release_seq;
} tdn_arena_block;

typedef struct tdn_arena_alloc {
  uint64_t capacity; /* bytes of the half, a multiple of TDN_TENSOR_ALIGN */
  uint64_t head;     /* position of the next allocation (free-running) */
  uint64_t tail;     /* position before which everything is free again */
  uint64_t high_water; /* largest offset + size handed out: what must be committed */
  tdn_arena_block blocks[TDN_ARENA_MAX_BLOCKS]; /* a ring, oldest at first */
  uint32_t first;
  uint32_t count;
} tdn_arena_alloc;

/* A block handed out: its arena offset and a handle to free it with. */
typedef struct tdn_arena_grant {
  uint64_t offset;
  uint64_t handle; /* the block's begin position */
} tdn_arena_grant;

void tdn_arena_alloc_init(tdn_arena_alloc* alloc, uint64_t capacity);

/* Hands out `size` bytes at a TDN_TENSOR_ALIGN boundary. False when they do
 * not fit beside the blocks still held (or too many blocks are held). */
bool tdn_arena_alloc_take(tdn_arena_alloc* alloc, uint64_t size, tdn_arena_grant* grant);

/* Frees the block with this handle; unknown handles are ignored. */
void tdn_arena_alloc_give_back(tdn_arena_alloc* alloc, uint64_t handle);

/* Frees the block with this handle once the stub has finished with
 * to_stub record `seq` (the sequence number: records published right after
 * it went out). Unknown handles are ignored. */
void tdn_arena_alloc_defer(tdn_arena_alloc* alloc, uint64_t handle, uint32_t seq);

/* Frees every deferred block whose record the stub is done with: `done` is
 * its to_stub.done, `published` our own count (a `done` ahead of it is a
 * lie and frees nothing). */
void tdn_arena_alloc_reclaim(tdn_arena_alloc* alloc, uint32_t done, uint32_t published);

/* Bytes held by live blocks (padding included). */
static inline uint64_t tdn_arena_alloc_held(const tdn_arena_alloc* alloc)
{
  return alloc->head - alloc->tail;
}

#endif /* TDN_ARENA_ALLOC_H */
