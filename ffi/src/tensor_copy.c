/*
 * tensor_copy.c: see tensor_copy.h for why large copies stream.
 */
#include "tensor_copy.h"

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__)
#include <emmintrin.h>

void tdn_tensor_copy_streaming(void* destination, const void* source, size_t size)
{
  unsigned char* to = destination;
  const unsigned char* from = source;
  /* Streaming stores need 16-byte aligned destinations: the head goes by memcpy. */
  size_t head = (16u - ((uintptr_t)to & 15u)) & 15u;
  if (head > size) {
    head = size;
  }
  memcpy(to, from, head);
  to += head;
  from += head;
  size -= head;
  for (; size >= 64; size -= 64, to += 64, from += 64) {
    const __m128i a = _mm_loadu_si128((const __m128i*)(const void*)from);
    const __m128i b = _mm_loadu_si128((const __m128i*)(const void*)(from + 16));
    const __m128i c = _mm_loadu_si128((const __m128i*)(const void*)(from + 32));
    const __m128i d = _mm_loadu_si128((const __m128i*)(const void*)(from + 48));
    _mm_stream_si128((__m128i*)(void*)to, a);
    _mm_stream_si128((__m128i*)(void*)(to + 16), b);
    _mm_stream_si128((__m128i*)(void*)(to + 32), c);
    _mm_stream_si128((__m128i*)(void*)(to + 48), d);
  }
  /* Streaming stores are weakly ordered: fence before anyone is told the bytes are there. */
  _mm_sfence();
  memcpy(to, from, size);
}

#else

void tdn_tensor_copy_streaming(void* destination, const void* source, size_t size)
{
  memcpy(destination, source, size);
}

#endif

void tdn_tensor_copy(void* destination, const void* source, size_t size)
{
  if (size >= TDN_STREAMING_COPY_MIN) {
    tdn_tensor_copy_streaming(destination, source, size);
  } else {
    memcpy(destination, source, size);
  }
}
