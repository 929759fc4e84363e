/*
 * allocator.c: TRITONSERVER_ResponseAllocator, the callbacks an in-process
 * caller gives for placing output tensors. Triton calls them while a
 * request it was given is in flight and when a response is deleted, so
 * deleting the allocator before then is a use after free in the server;
 * the host counts it and keeps the object until its last user is done.
 */
#include <stdlib.h>

#include "host_server.h"

static pthread_mutex_t host_allocator_lock = PTHREAD_MUTEX_INITIALIZER;

TRITONSERVER_Error* TRITONSERVER_ResponseAllocatorNew(
    TRITONSERVER_ResponseAllocator** allocator, TRITONSERVER_ResponseAllocatorAllocFn_t alloc_fn,
    TRITONSERVER_ResponseAllocatorReleaseFn_t release_fn,
    TRITONSERVER_ResponseAllocatorStartFn_t start_fn) {
  if (allocator == NULL) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "allocator out-pointer is NULL");
  }
  if (alloc_fn == NULL || release_fn == NULL) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                          "a response allocator needs an allocation and a release function");
  }
  TRITONSERVER_ResponseAllocator* created = host_alloc(sizeof *created);
  created->alloc_fn = alloc_fn;
  created->release_fn = release_fn;
  created->start_fn = start_fn;
  host_handle_add(HOST_HANDLE_ALLOCATOR, created);
  *allocator = created;
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_ResponseAllocatorSetQueryFunction(
    TRITONSERVER_ResponseAllocator* allocator, TRITONSERVER_ResponseAllocatorQueryFn_t query_fn) {
  if (!host_handle_check(HOST_HANDLE_ALLOCATOR, allocator, "ResponseAllocatorSetQueryFunction")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid response allocator");
  }
  pthread_mutex_lock(&host_allocator_lock);
  allocator->query_fn = query_fn;
  pthread_mutex_unlock(&host_allocator_lock);
  return NULL;
}

void host_allocator_use(TRITONSERVER_ResponseAllocator* allocator) {
  if (allocator == NULL) return;
  pthread_mutex_lock(&host_allocator_lock);
  allocator->users++;
  pthread_mutex_unlock(&host_allocator_lock);
}

void host_allocator_unuse(TRITONSERVER_ResponseAllocator* allocator) {
  if (allocator == NULL) return;
  pthread_mutex_lock(&host_allocator_lock);
  bool last = --allocator->users == 0 && allocator->deleted;
  pthread_mutex_unlock(&host_allocator_lock);
  if (last) free(allocator);
}

TRITONSERVER_Error* TRITONSERVER_ResponseAllocatorDelete(
    TRITONSERVER_ResponseAllocator* allocator) {
  if (allocator == NULL) return NULL; /* Triton deletes NULL as a no-op */
  if (!host_handle_remove(HOST_HANDLE_ALLOCATOR, allocator, "ResponseAllocatorDelete")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid response allocator");
  }
  pthread_mutex_lock(&host_allocator_lock);
  uint32_t users = allocator->users;
  allocator->deleted = users > 0;
  pthread_mutex_unlock(&host_allocator_lock);
  if (users > 0) {
    host_violation_record(HOST_VIOLATION_ALLOCATOR_DELETED_IN_USE,
                          "a response allocator deleted while %u request(s) or response(s) "
                          "still use it",
                          users);
    return NULL;
  }
  free(allocator);
  return NULL;
}
