/*
 * tensor_copy.h: the copy of tensor bytes between Triton's buffers and the
 * shared-memory arena (inputs in, outputs out, a BLS call's tensors both
 * ways).
 *
 * Why not plain memcpy for every size: a tensor copied across the process
 * boundary is not read again by the copying thread, and at the largest
 * sizes it does not fit in the cache either. Normal stores then pay for
 * reading each destination line before writing it and evict everything
 * else; streaming (non-temporal) stores write straight to memory. glibc
 * switches to them only above a threshold derived from the cache size the
 * CPU reports, and a VM often reports a last-level cache far larger than
 * the guest can use (this project's 2-vCPU VM reports 320 MiB, so glibc
 * never streams). Measured there (`memcpy` against streaming stores, one
 * copy): 16 MiB 1.1-1.2 ms against 0.70-0.76 ms, 32 MiB 3.0-3.3 ms against
 * 1.8-1.9 ms; 8 MiB even; 4 MiB and below, memcpy wins (the data stays in
 * the cache). Hence the threshold below.
 */
#ifndef TDN_TENSOR_COPY_H
#define TDN_TENSOR_COPY_H

#include <stddef.h>

/* Copies of at least this many bytes use streaming stores (where the CPU has them). */
#define TDN_STREAMING_COPY_MIN ((size_t)8 << 20)

/* Copies `size` bytes from `source` to `destination` (which must not overlap). */
void tdn_tensor_copy(void* destination, const void* source, size_t size);

/* The same copy with streaming stores whatever the size (for tests and benchmarks). */
void tdn_tensor_copy_streaming(void* destination, const void* source, size_t size);

#endif
