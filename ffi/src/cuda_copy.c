/*
 * cuda_copy.c: see cuda_copy.h. Only four functions of the CUDA runtime are
 * used, declared here by their documented signatures (cudaError_t is an
 * int-sized enum; 0 is cudaSuccess).
 */
#include "cuda_copy.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum { CUDA_SUCCESS = 0, CUDA_MEMCPY_HOST_TO_DEVICE = 1, CUDA_MEMCPY_DEVICE_TO_HOST = 2 };

typedef int (*cuda_get_device_fn)(int* device);
typedef int (*cuda_set_device_fn)(int device);
typedef int (*cuda_memcpy_fn)(void* dst, const void* src, size_t count, int kind);
typedef const char* (*cuda_get_error_string_fn)(int error);

static struct {
  pthread_mutex_t lock; /* guards everything below */
  bool tried;           /* load() ran since the library was last chosen */
  char* configured;     /* tdn_cuda_use_library */
  void* handle;
  cuda_get_device_fn get_device;
  cuda_set_device_fn set_device;
  cuda_memcpy_fn memcpy;
  cuda_get_error_string_fn error_string;
  char failure[512]; /* why it did not load */
} cuda = {.lock = PTHREAD_MUTEX_INITIALIZER};

void tdn_cuda_use_library(const char* path)
{
  pthread_mutex_lock(&cuda.lock);
  if (cuda.handle != NULL) {
    dlclose(cuda.handle);
    cuda.handle = NULL;
  }
  free(cuda.configured);
  cuda.configured = path != NULL ? strdup(path) : NULL;
  cuda.tried = false;
  pthread_mutex_unlock(&cuda.lock);
}

/* With the lock held. */
static void load(void)
{
  cuda.tried = true;
  cuda.failure[0] = '\0';
  static const char* const candidates[] = {"libcudart.so.12", "libcudart.so.11.0", "libcudart.so"};
  if (cuda.configured != NULL) {
    cuda.handle = dlopen(cuda.configured, RTLD_NOW | RTLD_LOCAL);
  } else {
    for (size_t i = 0; cuda.handle == NULL && i < sizeof(candidates) / sizeof(candidates[0]); ++i) {
      cuda.handle = dlopen(candidates[i], RTLD_NOW | RTLD_LOCAL);
    }
  }
  if (cuda.handle == NULL) {
    const char* error = dlerror();
    snprintf(
        cuda.failure, sizeof(cuda.failure), "no CUDA runtime could be loaded (tried %s): %.300s",
        cuda.configured != NULL ? "the backend option cuda-runtime-library"
                                : "libcudart.so.12, libcudart.so.11.0, libcudart.so",
        error != NULL ? error : "not found");
    return;
  }
  /* POSIX allows converting dlsym's void* to a function pointer; C11 does not say so. */
  *(void**)&cuda.get_device = dlsym(cuda.handle, "cudaGetDevice");
  *(void**)&cuda.set_device = dlsym(cuda.handle, "cudaSetDevice");
  *(void**)&cuda.memcpy = dlsym(cuda.handle, "cudaMemcpy");
  *(void**)&cuda.error_string = dlsym(cuda.handle, "cudaGetErrorString");
  if (cuda.get_device == NULL || cuda.set_device == NULL || cuda.memcpy == NULL ||
      cuda.error_string == NULL) {
    snprintf(
        cuda.failure, sizeof(cuda.failure),
        "the CUDA runtime that was loaded lacks cudaGetDevice, cudaSetDevice, cudaMemcpy or "
        "cudaGetErrorString");
    dlclose(cuda.handle);
    cuda.handle = NULL;
  }
}

static bool cuda_failed(int status, const char* what, tdn_diag* why)
{
  const char* text = cuda.error_string(status);
  return tdn_diag_set(why, "%s failed: %s (CUDA error %d)", what, text != NULL ? text : "?", status);
}

/* Copies on `device_id`, restoring the calling thread's current device. */
static bool copy(void* destination, const void* source, size_t size, int64_t device_id, int kind,
                 tdn_diag* why)
{
  pthread_mutex_lock(&cuda.lock);
  if (!cuda.tried) {
    load();
  }
  const bool loaded = cuda.handle != NULL;
  pthread_mutex_unlock(&cuda.lock);
  if (!loaded) {
    return tdn_diag_set(why, "%s", cuda.failure);
  }
  if (device_id < 0 || device_id > INT32_MAX) {
    return tdn_diag_set(why, "GPU %lld is not a CUDA device", (long long)device_id);
  }
  int previous = 0;
  int status = cuda.get_device(&previous);
  if (status != CUDA_SUCCESS) {
    return cuda_failed(status, "cudaGetDevice", why);
  }
  if (previous != (int)device_id && (status = cuda.set_device((int)device_id)) != CUDA_SUCCESS) {
    return cuda_failed(status, "cudaSetDevice", why);
  }
  status = cuda.memcpy(destination, source, size, kind);
  if (previous != (int)device_id) {
    cuda.set_device(previous);
  }
  return status == CUDA_SUCCESS || cuda_failed(status, "cudaMemcpy", why);
}

bool tdn_cuda_copy_to_host(
    void* host, const void* device, size_t size, int64_t device_id, tdn_diag* why)
{
  return copy(host, device, size, device_id, CUDA_MEMCPY_DEVICE_TO_HOST, why);
}

bool tdn_cuda_copy_to_device(
    void* device, const void* host, size_t size, int64_t device_id, tdn_diag* why)
{
  return copy(device, host, size, device_id, CUDA_MEMCPY_HOST_TO_DEVICE, why);
}
