/*
 * fake_cudart.c: a stand-in for the CUDA runtime, for the tests of inputs
 * and outputs Triton places in GPU memory (tests/gpu_memory_test.ts) on
 * machines without a GPU. The stand-in core marks plain host buffers as
 * GPU memory; this library "copies" them with memcpy, keeps the current
 * device per thread as the real runtime does, and counts the copies it made
 * per direction, so that a test can tell the backend really went through
 * it. A device id above 7 fails as the real runtime would (invalid device).
 */
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

/* The build hides symbols by default; these are the library's interface. */
#define EXPORT __attribute__((visibility("default")))

enum { SUCCESS = 0, INVALID_DEVICE = 101, INVALID_VALUE = 1 };
enum { HOST_TO_DEVICE = 1, DEVICE_TO_HOST = 2 };

static _Thread_local int current_device;
static atomic_long copies_to_host;
static atomic_long copies_to_device;

EXPORT int cudaGetDevice(int* device)
{
  *device = current_device;
  return SUCCESS;
}

EXPORT int cudaSetDevice(int device)
{
  if (device < 0 || device > 7) {
    return INVALID_DEVICE;
  }
  current_device = device;
  return SUCCESS;
}

EXPORT int cudaMemcpy(void* destination, const void* source, size_t count, int kind)
{
  if (kind != HOST_TO_DEVICE && kind != DEVICE_TO_HOST) {
    return INVALID_VALUE;
  }
  memcpy(destination, source, count);
  atomic_fetch_add(kind == DEVICE_TO_HOST ? &copies_to_host : &copies_to_device, 1);
  return SUCCESS;
}

EXPORT const char* cudaGetErrorString(int error)
{
  return error == INVALID_DEVICE ? "invalid device ordinal" : "fake CUDA error";
}

/* For the tests: copies made so far (to the host, to a device). */
EXPORT long fake_cudart_copies(int to_host)
{
  return to_host ? atomic_load(&copies_to_host) : atomic_load(&copies_to_device);
}
