/*
 * util.c: allocation and formatting helpers of the test host.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host_internal.h"

static void host_out_of_memory(void) {
  fputs("libtriton_host: out of memory\n", stderr);
  abort();
}

void* host_alloc(size_t bytes) {
  void* memory = calloc(1, bytes == 0 ? 1 : bytes);
  if (memory == NULL) host_out_of_memory();
  return memory;
}

void* host_grow(void* old, size_t bytes) {
  void* memory = realloc(old, bytes == 0 ? 1 : bytes);
  if (memory == NULL) host_out_of_memory();
  return memory;
}

char* host_strdup(const char* text) {
  const char* source = text == NULL ? "" : text;
  size_t length = strlen(source);
  char* copy = host_alloc(length + 1);
  memcpy(copy, source, length);
  return copy;
}

void host_write_text(char* out, uint32_t cap, const char* format, ...) {
  if (out == NULL || cap == 0) return;
  va_list args;
  va_start(args, format);
  vsnprintf(out, cap, format, args);
  va_end(args);
}

TRITONSERVER_Error* host_error_new(TRITONSERVER_Error_Code code, const char* format, ...) {
  /* Load errors carry the model's stack: no fixed limit. */
  va_list args;
  va_start(args, format);
  va_list copy;
  va_copy(copy, args);
  int needed = vsnprintf(NULL, 0, format, copy);
  va_end(copy);
  char* message = host_alloc(needed > 0 ? (size_t)needed + 1 : 1);
  if (needed > 0) vsnprintf(message, (size_t)needed + 1, format, args);
  va_end(args);
  TRITONSERVER_Error* error = TRITONSERVER_ErrorNew(code, message);
  free(message);
  return error;
}

void host_error_take(TRITONSERVER_Error* error, char* out, uint32_t cap) {
  if (error == NULL) return;
  host_write_text(out, cap, "%s", TRITONSERVER_ErrorMessage(error));
  TRITONSERVER_ErrorDelete(error);
}

bool host_check_magic(const void* object, uint32_t magic, const char* what) {
  if (object == NULL) {
    host_violation_record(HOST_VIOLATION_BAD_HANDLE, "NULL %s handle", what);
    return false;
  }
  if (*(const uint32_t*)object != magic) {
    host_violation_record(HOST_VIOLATION_BAD_HANDLE, "invalid or freed %s handle %p", what,
                          object);
    return false;
  }
  return true;
}

struct timespec host_deadline_in(uint32_t ms) {
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += ms / 1000;
  deadline.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (deadline.tv_nsec >= 1000000000L) {
    deadline.tv_sec++;
    deadline.tv_nsec -= 1000000000L;
  }
  return deadline;
}
