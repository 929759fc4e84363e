/*
 * arena_alloc_check: unit tests of the parent's allocator for its half of
 * the arena (ffi/src/arena_alloc.c): alignment, next-fit reuse of the gaps
 * around a block held long, deferred frees by the stub's done counter, and
 * the limits. Exit status: the failure count.
 */
#include <stdlib.h>

#include "arena_alloc.h"
#include "check.h"
#include "tdn_wire.h"

static tdn_arena_alloc alloc; /* large: not on the stack */

static void test_alignment_and_order(void)
{
  tdn_arena_alloc_init(&alloc, 4096 + 10);
  CHECK(alloc.capacity == 4096, "capacity %llu", (unsigned long long)alloc.capacity);
  tdn_arena_grant a, b, c;
  CHECK(tdn_arena_alloc_take(&alloc, 1, &a) && a.offset == 0, "first block at 0");
  CHECK(tdn_arena_alloc_take(&alloc, 0, &b) && b.offset == 64, "a zero-byte block takes a unit");
  CHECK(tdn_arena_alloc_take(&alloc, 65, &c) && c.offset == 128, "offset %llu",
        (unsigned long long)c.offset);
  CHECK(tdn_arena_alloc_held(&alloc) == 64 + 64 + 128, "held %llu",
        (unsigned long long)tdn_arena_alloc_held(&alloc));
  CHECK(alloc.high_water == 256, "high water %llu", (unsigned long long)alloc.high_water);
  tdn_arena_alloc_give_back(&alloc, b.handle);
  tdn_arena_alloc_give_back(&alloc, b.handle); /* twice: ignored */
  tdn_arena_alloc_give_back(&alloc, 12345);    /* unknown: ignored */
  CHECK(alloc.count == 2, "count %u", alloc.count);
  tdn_arena_alloc_give_back(&alloc, a.handle);
  tdn_arena_alloc_give_back(&alloc, c.handle);
  CHECK(alloc.count == 0 && tdn_arena_alloc_held(&alloc) == 0, "all free");
  tdn_arena_grant again;
  CHECK(tdn_arena_alloc_take(&alloc, 100, &again) && again.offset == 0,
        "everything free: back to offset 0");
  CHECK(again.handle != a.handle, "handles are not reused");
}

static void test_gaps_around_a_held_block(void)
{
  tdn_arena_alloc_init(&alloc, 1024);
  tdn_arena_grant held, x, y, z;
  CHECK(tdn_arena_alloc_take(&alloc, 256, &held), "held");
  CHECK(tdn_arena_alloc_take(&alloc, 512, &x) && x.offset == 256, "x after it");
  CHECK(tdn_arena_alloc_take(&alloc, 256, &y) && y.offset == 768, "y fills the half");
  CHECK(!tdn_arena_alloc_take(&alloc, 64, &z), "the half is full");
  tdn_arena_alloc_give_back(&alloc, x.handle);
  /* The cursor is at the end: the search wraps around to x's gap. */
  CHECK(tdn_arena_alloc_take(&alloc, 300, &z) && z.offset == 256, "reuses x's space: %llu",
        (unsigned long long)z.offset);
  CHECK(!tdn_arena_alloc_take(&alloc, 256, &x), "only 192 bytes are left in the gap");
  CHECK(tdn_arena_alloc_take(&alloc, 192, &x) && x.offset == 576, "the rest of the gap");
}

static void test_limits(void)
{
  tdn_arena_alloc_init(&alloc, (uint64_t)TDN_ARENA_MAX_BLOCKS * 128);
  tdn_arena_grant grant;
  CHECK(!tdn_arena_alloc_take(&alloc, alloc.capacity + 1, &grant), "larger than the half");
  for (uint32_t i = 0; i < TDN_ARENA_MAX_BLOCKS; ++i) {
    CHECK(tdn_arena_alloc_take(&alloc, 1, &grant), "block %u", i);
  }
  CHECK(!tdn_arena_alloc_take(&alloc, 1, &grant), "at most TDN_ARENA_MAX_BLOCKS live blocks");
}

/* A sync batch's block held while 20000 BLS answers (payload and output)
 * go out, the stub finishing with each a few records later: the space
 * around the batch's block is reused, so every take succeeds. */
static void test_answers_behind_a_batch(void)
{
  tdn_arena_alloc_init(&alloc, 1u << 20);
  tdn_arena_grant batch;
  CHECK(tdn_arena_alloc_take(&alloc, 4096, &batch), "the batch");
  uint32_t published = 0;
  for (uint32_t i = 0; i < 20000; ++i) {
    tdn_arena_alloc_reclaim(&alloc, published >= 3 ? published - 3 : 0, published);
    tdn_arena_grant payload, output;
    if (!tdn_arena_alloc_take(&alloc, 200, &payload) ||
        !tdn_arena_alloc_take(&alloc, 1000, &output)) {
      CHECK(false, "answer %u found no room (%u blocks held)", i, alloc.count);
      return;
    }
    published++;
    tdn_arena_alloc_defer(&alloc, payload.handle, published);
    tdn_arena_alloc_defer(&alloc, output.handle, published);
  }
  CHECK(alloc.count <= 1 + 2 * 4, "blocks held: %u", alloc.count);
  /* A done counter ahead of what was published is a lie: nothing is freed. */
  tdn_arena_alloc_reclaim(&alloc, published + 5, published);
  CHECK(alloc.count > 1, "a lying done counter freed blocks");
  tdn_arena_alloc_reclaim(&alloc, published, published);
  tdn_arena_alloc_give_back(&alloc, batch.handle);
  CHECK(alloc.count == 0 && tdn_arena_alloc_held(&alloc) == 0, "everything freed");
}

static void test_deferred_counters_wrap(void)
{
  tdn_arena_alloc_init(&alloc, 4096);
  tdn_arena_grant grant;
  CHECK(tdn_arena_alloc_take(&alloc, 64, &grant), "take");
  tdn_arena_alloc_defer(&alloc, grant.handle, 2); /* sent as record 2 after a wrap */
  tdn_arena_alloc_reclaim(&alloc, UINT32_MAX, 2);
  CHECK(alloc.count == 1, "not done yet before the wrap");
  tdn_arena_alloc_reclaim(&alloc, 2, 2);
  CHECK(alloc.count == 0, "done after the wrap");
}

int main(void)
{
  test_alignment_and_order();
  test_gaps_around_a_held_block();
  test_limits();
  test_answers_behind_a_batch();
  test_deferred_counters_wrap();
  if (check_failures == 0) {
    printf("arena_alloc_check: all checks passed\n");
  }
  return check_failures;
}
