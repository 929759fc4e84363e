/*
 * model_access.c: see model_access.h.
 */
#include "model_access.h"

#include <fnmatch.h>
#include <string.h>

/* The longest pattern the sandbox accepts (sandbox/policy/rules.ts). */
#define MAX_PATTERN 256

static bool pattern_char(char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '_' || c == '.' || c == '-' || c == '*' || c == '?' || c == '[' || c == ']' ||
         c == '!';
}

bool tdn_model_patterns_ok(const char* patterns)
{
  size_t length = 0;
  for (const char* c = patterns;; ++c) {
    if (*c == ',' || *c == '\0') {
      /* An empty item, except for a wholly empty list, is malformed. */
      if (length == 0 && !(*c == '\0' && c == patterns)) {
        return false;
      }
      if (*c == '\0') {
        return true;
      }
      length = 0;
    } else if (!pattern_char(*c) || ++length > MAX_PATTERN) {
      return false;
    }
  }
}

bool tdn_model_allowed(const char* patterns, const char* model)
{
  char item[MAX_PATTERN + 1];
  const char* start = patterns;
  while (*start != '\0') {
    const char* end = strchr(start, ',');
    const size_t length = end != NULL ? (size_t)(end - start) : strlen(start);
    if (length > 0 && length <= MAX_PATTERN) {
      memcpy(item, start, length);
      item[length] = '\0';
      if (fnmatch(item, model, FNM_NOESCAPE) == 0) {
        return true;
      }
    }
    if (end == NULL) {
      break;
    }
    start = end + 1;
  }
  return false;
}
