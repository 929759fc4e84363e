/*
 * cuda_copy.h: copies between GPU and host memory with the CUDA runtime,
 * loaded the first time it is needed (dlopen), so that the backend builds
 * and runs without CUDA. Triton hands a backend inputs in GPU memory when a
 * client or an upstream model put them there; the stubs read host memory
 * only, so such an input is copied to the host first (as python_backend
 * does by default), and an output buffer Triton places on a GPU is filled
 * from the host.
 *
 * The library is the backend option `cuda-runtime-library` when set, else
 * the first of libcudart.so.12, libcudart.so.11.0, libcudart.so that the
 * dynamic loader finds. Where none loads, each copy fails with a message
 * saying so.
 */
#ifndef TDN_CUDA_COPY_H
#define TDN_CUDA_COPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"

/* Sets the library to load instead of searching (call before any copy;
 * NULL: search). The string is copied. */
void tdn_cuda_use_library(const char* path);

/* Copies `size` bytes from GPU `device_id`'s memory at `device` to `host`. */
bool tdn_cuda_copy_to_host(
    void* host, const void* device, size_t size, int64_t device_id, tdn_diag* why);

/* Copies `size` bytes from `host` to GPU `device_id`'s memory at `device`. */
bool tdn_cuda_copy_to_device(
    void* device, const void* host, size_t size, int64_t device_id, tdn_diag* why);

#endif /* TDN_CUDA_COPY_H */
