/*
 * diag.h: a fixed-size message buffer for the modules that must not depend
 * on Triton (region, channel, stub process, wire encode/decode). They fill a
 * tdn_diag on failure; the layer above turns it into a TRITONSERVER_Error
 * with the instance's name in front.
 *
 * Header-only so the wire golden test links nothing but the two codec files.
 */
#ifndef TDN_DIAG_H
#define TDN_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

/* Long enough for a message that quotes a 1024-byte tensor name. */
#define TDN_DIAG_CAPACITY 2048

typedef struct tdn_diag {
  char text[TDN_DIAG_CAPACITY];
} tdn_diag;

/* Formats a message into diag (truncating if needed); a NULL diag is
 * allowed and ignored. Always returns false so callers can write
 * `return tdn_diag_set(d, ...);` from a bool function. */
static inline __attribute__((format(printf, 2, 3))) bool tdn_diag_set(
    tdn_diag* diag, const char* format, ...)
{
  if (diag != NULL) {
    va_list args;
    va_start(args, format);
    vsnprintf(diag->text, sizeof(diag->text), format, args);
    va_end(args);
  }
  return false;
}

#endif /* TDN_DIAG_H */
