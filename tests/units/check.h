/*
 * check.h: the few helpers the C unit tests share. A failed check prints
 * where and what, counts, and the test goes on; main returns the count.
 */
#ifndef TDN_UNITS_CHECK_H
#define TDN_UNITS_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures = 0;

#define CHECK(condition, ...)                                        \
  do {                                                               \
    if (!(condition)) {                                              \
      check_failures++;                                              \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #condition); \
      fprintf(stderr, __VA_ARGS__);                                  \
      fprintf(stderr, "\n");                                         \
    }                                                                \
  } while (0)

/* `text` contains `part`. */
#define CHECK_HAS(text, part) \
  CHECK(strstr((text), (part)) != NULL, "\"%s\" does not contain \"%s\"", (text), (part))

#endif /* TDN_UNITS_CHECK_H */
