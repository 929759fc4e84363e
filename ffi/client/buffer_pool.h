/*
 * buffer_pool.h: the client's output buffers for large tensors, kept for
 * the next response instead of freed. A client that frees a 16 MiB buffer
 * and allocates the next one gets fresh pages from the kernel about as
 * often as not (glibc's heuristics), and the backend's copy into them then
 * pays a page fault per 4 KiB: several milliseconds, more than the copy,
 * and differently for each backend. A real client that serves the same
 * model over and over keeps its buffers; so does this one, so that the
 * benchmark measures the backends and not the allocator's mood.
 */
#ifndef TDC_BUFFER_POOL_H
#define TDC_BUFFER_POOL_H

#include <pthread.h>
#include <stddef.h>

/* Buffers below this size are malloc'd and freed as usual. */
#define TDC_POOL_MIN_BYTES (64u * 1024u)
/* At most this many buffers, and this many bytes, are kept. */
#define TDC_POOL_SLOTS 8u
#define TDC_POOL_MAX_BYTES (256ull * 1024u * 1024u)

typedef struct tdc_buffer_pool {
  pthread_mutex_t lock;
  void* buffers[TDC_POOL_SLOTS];
  size_t sizes[TDC_POOL_SLOTS];
  unsigned count;
  size_t kept_bytes;
} tdc_buffer_pool;

void tdc_buffer_pool_init(tdc_buffer_pool* pool);

/* A 64-byte aligned buffer of `size` bytes (a kept one of that size if
 * there is one), or NULL when out of memory. */
void* tdc_buffer_pool_take(tdc_buffer_pool* pool, size_t size);

/* Keeps `buffer` (from tdc_buffer_pool_take with `size`) for later, or
 * frees it. */
void tdc_buffer_pool_give(tdc_buffer_pool* pool, void* buffer, size_t size);

/* Frees every kept buffer. */
void tdc_buffer_pool_drain(tdc_buffer_pool* pool);

#endif /* TDC_BUFFER_POOL_H */
