/*
 * json_writer.h: a growable text buffer with JSON string escaping, for the
 * INIT arguments. Errors (out of memory, a string that is not valid UTF-8)
 * are sticky: check `failed` once at the end.
 */
#ifndef TDN_JSON_WRITER_H
#define TDN_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>

typedef struct tdn_json_writer {
  char* data; /* NUL-terminated when not failed */
  size_t length;
  size_t capacity;
  bool failed;
  const char* failure; /* what failed first */
} tdn_json_writer;

/* Appends bytes verbatim (punctuation such as "{", ":" or ","). */
void tdn_json_raw(tdn_json_writer* writer, const char* text);

/* Appends `text` as a quoted JSON string; fails if it is not valid UTF-8. */
void tdn_json_string(tdn_json_writer* writer, const char* text);

/* Appends "key": "value" with a leading comma unless `first`. */
void tdn_json_string_member(
    tdn_json_writer* writer, bool first, const char* key, const char* value);

/* Hands the text over (caller frees) or NULL if anything failed; the writer
 * is empty afterwards either way. */
char* tdn_json_take(tdn_json_writer* writer, size_t* length);

void tdn_json_writer_free(tdn_json_writer* writer);

#endif /* TDN_JSON_WRITER_H */
