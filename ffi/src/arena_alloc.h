/*
 * arena_alloc.h: the parent's allocator for its half of the arena
 * (ffi/WIRE_FORMAT.md, "Arena"). Blocks are handed out next-fit: from
 * where the last one ended, around the half, into the first gap that
 * holds them; when everything is free it starts over at offset 0, where
 * the pages are warm and committed. So batches freed in order cycle
 * through the half like a ring, and a block held long (a decoupled batch
 * still streaming, a batch whose model makes many BLS calls) only takes
 * its own space: the blocks freed around it are reused. The state lives
 * in the parent's own memory; the stub cannot see or corrupt it.
 *
 * A block may also be freed "once the stub is done with record n" of
 * to_stub (a BLS answer's payload and outputs): tdn_arena_alloc_defer
 * marks it, tdn_arena_alloc_reclaim frees what the stub's `done` counter
 * has passed.
 *
 * Not thread-safe: the supervisor's lock guards it.
 */
#ifndef TDN_ARENA_ALLOC_H
#define TDN_ARENA_ALLOC_H

#include <stdbool.h>
#include <stdint.h>

/* Most blocks live at once (batches in flight, BLS answers and their
 * outputs, INIT). */
#define TDN_ARENA_MAX_BLOCKS 1024u

typedef struct tdn_arena_block {
  uint64_t offset; /* a multiple of TDN_TENSOR_ALIGN */
  uint64_t size;   /* rounded up to TDN_TENSOR_ALIGN, at least one unit */
  uint64_t handle; /* unique for the allocator's life */
  bool deferred;   /* freed once the stub's to_stub.done reaches release_seq */
  uint32_t release_seq;
} tdn_arena_block;

typedef struct tdn_arena_alloc {
  uint64_t capacity;   /* bytes of the half, a multiple of TDN_TENSOR_ALIGN */
  uint64_t cursor;     /* where the next search starts: the end of the last block */
  uint64_t held;       /* bytes of live blocks */
  uint64_t high_water; /* largest offset + size handed out: what must be committed */
  uint64_t next_handle;
  tdn_arena_block blocks[TDN_ARENA_MAX_BLOCKS]; /* live blocks, by offset */
  uint32_t count;
} tdn_arena_alloc;

/* A block handed out: its arena offset and a handle to free it with. */
typedef struct tdn_arena_grant {
  uint64_t offset;
  uint64_t handle;
} tdn_arena_grant;

void tdn_arena_alloc_init(tdn_arena_alloc* alloc, uint64_t capacity);

/* Hands out `size` bytes at a TDN_TENSOR_ALIGN boundary. False when no gap
 * beside the blocks still held fits them (or too many blocks are held). */
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

/* Bytes held by live blocks (rounding included). */
static inline uint64_t tdn_arena_alloc_held(const tdn_arena_alloc* alloc)
{
  return alloc->held;
}

#endif /* TDN_ARENA_ALLOC_H */
