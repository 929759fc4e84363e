/*
 * buffer_pool_check: unit tests of the benchmark client's output buffers
 * (ffi/client/buffer_pool.c): large buffers come back for the next
 * response of the same size, small ones are not kept, and the limits
 * hold. Exit status: the failure count.
 */
#include <stdint.h>
#include <stdlib.h>

#include "buffer_pool.h"
#include "check.h"

#define MIB (1024u * 1024u)

static void test_large_buffers_come_back(void)
{
  tdc_buffer_pool pool;
  tdc_buffer_pool_init(&pool);
  void* first = tdc_buffer_pool_take(&pool, 16 * MIB);
  CHECK(first != NULL && (uintptr_t)first % 64 == 0, "a 64-byte aligned buffer");
  tdc_buffer_pool_give(&pool, first, 16 * MIB);
  CHECK(pool.count == 1 && pool.kept_bytes == 16 * MIB, "kept: %u", pool.count);
  void* other = tdc_buffer_pool_take(&pool, 8 * MIB);
  CHECK(other != first && pool.count == 1, "another size gets its own buffer");
  void* again = tdc_buffer_pool_take(&pool, 16 * MIB);
  CHECK(again == first && pool.count == 0 && pool.kept_bytes == 0, "the same size gets it back");
  tdc_buffer_pool_give(&pool, again, 16 * MIB);
  tdc_buffer_pool_give(&pool, other, 8 * MIB);
  tdc_buffer_pool_drain(&pool);
  CHECK(pool.count == 0 && pool.kept_bytes == 0, "drained");
}

static void test_small_buffers_are_not_kept(void)
{
  tdc_buffer_pool pool;
  tdc_buffer_pool_init(&pool);
  void* small = tdc_buffer_pool_take(&pool, 16);
  CHECK(small != NULL && (uintptr_t)small % 64 == 0, "a small aligned buffer");
  tdc_buffer_pool_give(&pool, small, 16);
  CHECK(pool.count == 0, "small buffers are freed");
  tdc_buffer_pool_give(&pool, NULL, TDC_POOL_MIN_BYTES);
  CHECK(pool.count == 0, "NULL is ignored");
}

static void test_limits(void)
{
  tdc_buffer_pool pool;
  tdc_buffer_pool_init(&pool);
  void* buffers[TDC_POOL_SLOTS + 1];
  for (unsigned i = 0; i <= TDC_POOL_SLOTS; ++i) {
    buffers[i] = tdc_buffer_pool_take(&pool, TDC_POOL_MIN_BYTES);
  }
  for (unsigned i = 0; i <= TDC_POOL_SLOTS; ++i) {
    tdc_buffer_pool_give(&pool, buffers[i], TDC_POOL_MIN_BYTES);
  }
  CHECK(pool.count == TDC_POOL_SLOTS, "at most %u kept, not %u", TDC_POOL_SLOTS, pool.count);
  tdc_buffer_pool_drain(&pool);
  /* More bytes than the pool keeps: freed, not kept. */
  void* huge = malloc(1);
  tdc_buffer_pool_give(&pool, huge, (size_t)TDC_POOL_MAX_BYTES + 1);
  CHECK(pool.count == 0 && pool.kept_bytes == 0, "over the byte limit: freed");
  tdc_buffer_pool_drain(&pool);
}

int main(void)
{
  test_large_buffers_come_back();
  test_small_buffers_are_not_kept();
  test_limits();
  if (check_failures == 0) {
    printf("buffer_pool_check: all checks passed\n");
  }
  return check_failures;
}
