/*
 * json_writer.c: see json_writer.h. Escapes '"', '\\' and control
 * characters; everything else valid UTF-8 passes through.
 */
#include "json_writer.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

static void fail(tdn_json_writer* writer, const char* why)
{
  if (!writer->failed) {
    writer->failed = true;
    writer->failure = why;
  }
}

static void append(tdn_json_writer* writer, const char* bytes, size_t length)
{
  if (writer->failed) {
    return;
  }
  if (length > SIZE_MAX / 2 - writer->length) {
    fail(writer, "out of memory");
    return;
  }
  if (writer->length + length + 1 > writer->capacity) {
    size_t capacity = writer->capacity == 0 ? 256 : writer->capacity;
    while (capacity < writer->length + length + 1) {
      capacity *= 2;
    }
    char* grown = realloc(writer->data, capacity);
    if (grown == NULL) {
      fail(writer, "out of memory");
      return;
    }
    writer->data = grown;
    writer->capacity = capacity;
  }
  memcpy(writer->data + writer->length, bytes, length);
  writer->length += length;
  writer->data[writer->length] = '\0';
}

void tdn_json_raw(tdn_json_writer* writer, const char* text)
{
  append(writer, text, strlen(text));
}

void tdn_json_string(tdn_json_writer* writer, const char* text)
{
  const uint8_t* bytes = (const uint8_t*)text;
  const size_t length = strlen(text);
  append(writer, "\"", 1);
  size_t run_start = 0; /* bytes that need no escaping are copied in runs */
  size_t at = 0;
  while (at < length) {
    const uint8_t c = bytes[at];
    if (c == '"' || c == '\\' || c < 0x20) {
      append(writer, text + run_start, at - run_start);
      char escaped[8];
      if (c == '"' || c == '\\') {
        snprintf(escaped, sizeof(escaped), "\\%c", c);
      } else if (c == '\n') {
        snprintf(escaped, sizeof(escaped), "\\n");
      } else if (c == '\t') {
        snprintf(escaped, sizeof(escaped), "\\t");
      } else if (c == '\r') {
        snprintf(escaped, sizeof(escaped), "\\r");
      } else {
        snprintf(escaped, sizeof(escaped), "\\u%04x", c);
      }
      append(writer, escaped, strlen(escaped));
      at += 1;
      run_start = at;
      continue;
    }
    const size_t step = tdn_utf8_sequence_length(bytes + at, length - at);
    if (step == 0) {
      fail(writer, "a string is not valid UTF-8");
      return;
    }
    at += step;
  }
  append(writer, text + run_start, at - run_start);
  append(writer, "\"", 1);
}

void tdn_json_string_member(
    tdn_json_writer* writer, bool first, const char* key, const char* value)
{
  if (!first) {
    tdn_json_raw(writer, ",");
  }
  tdn_json_string(writer, key);
  tdn_json_raw(writer, ":");
  tdn_json_string(writer, value);
}

char* tdn_json_take(tdn_json_writer* writer, size_t* length)
{
  if (writer->failed || writer->data == NULL) {
    tdn_json_writer_free(writer);
    return NULL;
  }
  char* text = writer->data;
  *length = writer->length;
  writer->data = NULL;
  writer->length = writer->capacity = 0;
  return text;
}

void tdn_json_writer_free(tdn_json_writer* writer)
{
  free(writer->data);
  writer->data = NULL;
  writer->length = writer->capacity = 0;
}
