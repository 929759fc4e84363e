/*
 * clock.h: the one clock the backend uses. Triton's statistics expect
 * nanoseconds from a steady clock; deadlines and backoff use the same one.
 */
#ifndef TDN_CLOCK_H
#define TDN_CLOCK_H

#include <stdint.h>
#include <time.h>

#define TDN_NS_PER_MS 1000000ull
#define TDN_NS_PER_SECOND 1000000000ull

static inline uint64_t tdn_now_ns(void)
{
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (uint64_t)now.tv_sec * TDN_NS_PER_SECOND + (uint64_t)now.tv_nsec;
}

#endif /* TDN_CLOCK_H */
