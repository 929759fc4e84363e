/*
 * buffer_pool.c: see buffer_pool.h.
 */
#include "buffer_pool.h"

#include <stdlib.h>

void tdc_buffer_pool_init(tdc_buffer_pool* pool)
{
  pthread_mutex_init(&pool->lock, NULL);
  pool->count = 0;
  pool->kept_bytes = 0;
}

void* tdc_buffer_pool_take(tdc_buffer_pool* pool, size_t size)
{
  if (size >= TDC_POOL_MIN_BYTES) {
    pthread_mutex_lock(&pool->lock);
    for (unsigned i = 0; i < pool->count; ++i) {
      if (pool->sizes[i] == size) {
        void* buffer = pool->buffers[i];
        pool->count--;
        pool->buffers[i] = pool->buffers[pool->count];
        pool->sizes[i] = pool->sizes[pool->count];
        pool->kept_bytes -= size;
        pthread_mutex_unlock(&pool->lock);
        return buffer;
      }
    }
    pthread_mutex_unlock(&pool->lock);
  }
  /* 64-byte alignment, as Triton's own allocators give. */
  void* buffer = NULL;
  return posix_memalign(&buffer, 64, size) == 0 ? buffer : NULL;
}

void tdc_buffer_pool_give(tdc_buffer_pool* pool, void* buffer, size_t size)
{
  if (buffer == NULL) {
    return;
  }
  if (size >= TDC_POOL_MIN_BYTES) {
    pthread_mutex_lock(&pool->lock);
    if (pool->count < TDC_POOL_SLOTS && pool->kept_bytes + size <= TDC_POOL_MAX_BYTES) {
      pool->buffers[pool->count] = buffer;
      pool->sizes[pool->count] = size;
      pool->count++;
      pool->kept_bytes += size;
      pthread_mutex_unlock(&pool->lock);
      return;
    }
    pthread_mutex_unlock(&pool->lock);
  }
  free(buffer);
}

void tdc_buffer_pool_drain(tdc_buffer_pool* pool)
{
  pthread_mutex_lock(&pool->lock);
  for (unsigned i = 0; i < pool->count; ++i) {
    free(pool->buffers[i]);
  }
  pool->count = 0;
  pool->kept_bytes = 0;
  pthread_mutex_unlock(&pool->lock);
}
