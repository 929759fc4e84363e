/*
 * format.h: printf into a fresh heap string, the one helper every file that
 * builds a message of unknown length uses (errors, log lines, the policy
 * evaluator's request, the stub's command line). Header-only, like diag.h,
 * so that the test programs link nothing more for it.
 */
#ifndef TDN_FORMAT_H
#define TDN_FORMAT_H

#include <stdarg.h>
#include <stdio.h>

/* The formatted text (the caller frees it), or NULL when out of memory. */
static inline char* tdn_vformat(const char* format, va_list args)
{
  char* text = NULL;
  return vasprintf(&text, format, args) < 0 ? NULL : text;
}

static inline __attribute__((format(printf, 1, 2))) char* tdn_format(const char* format, ...)
{
  va_list args;
  va_start(args, format);
  char* text = tdn_vformat(format, args);
  va_end(args);
  return text;
}

#endif /* TDN_FORMAT_H */
