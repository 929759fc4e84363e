/*
 * json_out.c: growable text buffers and JSON string escaping, for the JSON
 * the host hands back to the tests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_internal.h"

static void host_text_reserve(host_text* text, size_t extra) {
  size_t needed = text->length + extra + 1;
  if (needed <= text->capacity) return;
  size_t capacity = text->capacity == 0 ? 256 : text->capacity;
  while (capacity < needed) capacity *= 2;
  text->data = host_grow(text->data, capacity);
  text->capacity = capacity;
}

void host_text_append(host_text* text, const char* bytes, size_t length) {
  host_text_reserve(text, length);
  memcpy(text->data + text->length, bytes, length);
  text->length += length;
  text->data[text->length] = '\0';
}

void host_text_printf(host_text* text, const char* format, ...) {
  va_list args;
  va_start(args, format);
  va_list copy;
  va_copy(copy, args);
  int needed = vsnprintf(NULL, 0, format, copy);
  va_end(copy);
  if (needed > 0) {
    host_text_reserve(text, (size_t)needed);
    vsnprintf(text->data + text->length, (size_t)needed + 1, format, args);
    text->length += (size_t)needed;
  }
  va_end(args);
}

void host_text_json_string(host_text* text, const char* value) {
  static const char hex[] = "0123456789abcdef";
  host_text_append(text, "\"", 1);
  for (const unsigned char* c = (const unsigned char*)(value == NULL ? "" : value); *c; c++) {
    switch (*c) {
      case '"': host_text_append(text, "\\\"", 2); break;
      case '\\': host_text_append(text, "\\\\", 2); break;
      case '\n': host_text_append(text, "\\n", 2); break;
      case '\r': host_text_append(text, "\\r", 2); break;
      case '\t': host_text_append(text, "\\t", 2); break;
      default:
        if (*c < 0x20) {
          char escaped[6] = {'\\', 'u', '0', '0', hex[*c >> 4], hex[*c & 15]};
          host_text_append(text, escaped, sizeof escaped);
        } else {
          host_text_append(text, (const char*)c, 1);
        }
    }
  }
  host_text_append(text, "\"", 1);
}

uint64_t host_text_export(const host_text* text, char* out, uint64_t cap) {
  if (out != NULL && cap > 0) {
    uint64_t copy = text->length < cap - 1 ? text->length : cap - 1;
    if (copy > 0) memcpy(out, text->data, copy);
    out[copy] = '\0';
  }
  return text->length;
}

void host_text_free(host_text* text) {
  free(text->data);
  text->data = NULL;
  text->length = text->capacity = 0;
}
