/*
 * tensor_copy_check: unit tests of the tensor copy (ffi/src/tensor_copy.c):
 * both the plain and the streaming path give the source's bytes at every
 * size and alignment of source and destination, and touch no byte beyond
 * the destination. Exit status: the failure count.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tensor_copy.h"

#define GUARD 64u

typedef void (*copy_fn)(void*, const void*, size_t);

/* Copies `size` bytes from source+from_shift to destination+to_shift and checks every byte. */
static void check_copy(copy_fn copy, const char* name, size_t size, size_t from_shift, size_t to_shift)
{
  unsigned char* source = malloc(size + 2 * GUARD);
  unsigned char* destination = malloc(size + 2 * GUARD);
  if (source == NULL || destination == NULL) {
    CHECK(0, "out of memory for %zu bytes", size);
    free(source);
    free(destination);
    return;
  }
  for (size_t i = 0; i < size + 2 * GUARD; ++i) {
    source[i] = (unsigned char)(i * 131u + 7u);
  }
  memset(destination, 0xA5, size + 2 * GUARD);
  unsigned char* to = destination + GUARD + to_shift;
  const unsigned char* from = source + GUARD + from_shift;
  copy(to, from, size);
  CHECK(memcmp(to, from, size) == 0, "%s: %zu bytes (shifts %zu, %zu) differ", name, size,
        from_shift, to_shift);
  for (unsigned char* at = destination; at < to; ++at) {
    CHECK(*at == 0xA5, "%s: byte %td before the destination written", name, to - at);
  }
  for (unsigned char* at = to + size; at < destination + size + 2 * GUARD; ++at) {
    CHECK(*at == 0xA5, "%s: byte %td after the destination written", name, at - (to + size));
  }
  free(source);
  free(destination);
}

int main(void)
{
  static const size_t sizes[] = {0, 1, 15, 16, 17, 63, 64, 65, 127, 128, 200, 4096 + 33};
  for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); ++s) {
    for (size_t from_shift = 0; from_shift < 17; from_shift += 3) {
      for (size_t to_shift = 0; to_shift < 17; to_shift += 1) {
        check_copy(tdn_tensor_copy_streaming, "streaming", sizes[s], from_shift, to_shift);
        check_copy(tdn_tensor_copy, "tensor_copy", sizes[s], from_shift, to_shift);
      }
    }
  }
  /* At and around the threshold, where tdn_tensor_copy changes paths. */
  check_copy(tdn_tensor_copy, "tensor_copy", TDN_STREAMING_COPY_MIN - 1, 3, 5);
  check_copy(tdn_tensor_copy, "tensor_copy", TDN_STREAMING_COPY_MIN, 0, 0);
  check_copy(tdn_tensor_copy, "tensor_copy", TDN_STREAMING_COPY_MIN + 77, 1, 9);
  if (check_failures == 0) {
    printf("tensor_copy_check: all checks passed\n");
  }
  return check_failures;
}
