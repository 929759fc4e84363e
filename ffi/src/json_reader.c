/*
 * json_reader.c: a strict recursive-descent reader for the JSON subset
 * described in json_reader.h.
 */
#include "json_reader.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

typedef struct reader {
  const uint8_t* text;
  size_t length;
  size_t at;
  tdn_diag* diag;
} reader;

static bool fail(reader* r, const char* what)
{
  return tdn_diag_set(r->diag, "invalid JSON at byte %zu: %s", r->at, what);
}

static void skip_space(reader* r)
{
  while (r->at < r->length) {
    const uint8_t c = r->text[r->at];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
      return;
    }
    r->at++;
  }
}

static bool peek_is(reader* r, uint8_t c)
{
  return r->at < r->length && r->text[r->at] == c;
}

/* A growable byte buffer for decoded strings. */
typedef struct bytes {
  char* data;
  size_t length;
  size_t capacity;
} bytes;

static bool bytes_append(bytes* b, const void* data, size_t length)
{
  if (b->length + length + 1 > b->capacity) {
    size_t capacity = b->capacity == 0 ? 32 : b->capacity;
    while (capacity < b->length + length + 1) {
      capacity *= 2;
    }
    char* grown = realloc(b->data, capacity);
    if (grown == NULL) {
      return false;
    }
    b->data = grown;
    b->capacity = capacity;
  }
  memcpy(b->data + b->length, data, length);
  b->length += length;
  b->data[b->length] = '\0';
  return true;
}

static bool read_hex4(reader* r, uint32_t* value)
{
  if (r->length - r->at < 4) {
    return fail(r, "truncated \\u escape");
  }
  *value = 0;
  for (int i = 0; i < 4; ++i) {
    const uint8_t c = r->text[r->at++];
    uint32_t digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return fail(r, "bad hex digit in \\u escape");
    }
    *value = (*value << 4) | digit;
  }
  return true;
}

static bool append_code_point(bytes* out, uint32_t cp)
{
  uint8_t encoded[4];
  size_t n;
  if (cp < 0x80) {
    encoded[0] = (uint8_t)cp, n = 1;
  } else if (cp < 0x800) {
    encoded[0] = (uint8_t)(0xC0 | (cp >> 6)), encoded[1] = (uint8_t)(0x80 | (cp & 0x3F)), n = 2;
  } else if (cp < 0x10000) {
    encoded[0] = (uint8_t)(0xE0 | (cp >> 12)), encoded[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    encoded[2] = (uint8_t)(0x80 | (cp & 0x3F)), n = 3;
  } else {
    encoded[0] = (uint8_t)(0xF0 | (cp >> 18)), encoded[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    encoded[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)), encoded[3] = (uint8_t)(0x80 | (cp & 0x3F));
    n = 4;
  }
  return bytes_append(out, encoded, n);
}

/* Decodes a \u escape (the backslash and 'u' already consumed), pairing
 * surrogates; lone surrogates and U+0000 are rejected. */
static bool read_unicode_escape(reader* r, bytes* out)
{
  uint32_t cp;
  if (!read_hex4(r, &cp)) {
    return false;
  }
  if (cp >= 0xDC00 && cp <= 0xDFFF) {
    return fail(r, "lone low surrogate in \\u escape");
  }
  if (cp >= 0xD800 && cp <= 0xDBFF) {
    uint32_t low;
    if (r->length - r->at < 2 || r->text[r->at] != '\\' || r->text[r->at + 1] != 'u') {
      return fail(r, "high surrogate not followed by a low surrogate");
    }
    r->at += 2;
    if (!read_hex4(r, &low)) {
      return false;
    }
    if (low < 0xDC00 || low > 0xDFFF) {
      return fail(r, "high surrogate not followed by a low surrogate");
    }
    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
  }
  if (cp == 0) {
    return fail(r, "\\u0000 is not allowed");
  }
  if (!append_code_point(out, cp)) {
    return fail(r, "out of memory");
  }
  return true;
}

/* Reads a string token (at the opening quote) into a new C string. */
static char* read_string(reader* r)
{
  if (!peek_is(r, '"')) {
    fail(r, "expected a string");
    return NULL;
  }
  r->at++;
  bytes out = {0};
  if (!bytes_append(&out, "", 0)) {
    fail(r, "out of memory");
    return NULL;
  }
  for (;;) {
    if (r->at >= r->length) {
      fail(r, "unterminated string");
      break;
    }
    const uint8_t c = r->text[r->at];
    if (c == '"') {
      r->at++;
      return out.data;
    }
    if (c < 0x20) {
      fail(r, "control character in string");
      break;
    }
    if (c == '\\') {
      if (r->at + 1 >= r->length) {
        fail(r, "unterminated escape");
        break;
      }
      const uint8_t e = r->text[r->at + 1];
      r->at += 2;
      static const char simple_from[] = "\"\\/bfnrt";
      static const char simple_to[] = "\"\\/\b\f\n\r\t";
      const char* found = e != 0 ? strchr(simple_from, e) : NULL;
      if (found != NULL) {
        if (!bytes_append(&out, &simple_to[found - simple_from], 1)) {
          fail(r, "out of memory");
          break;
        }
      } else if (e == 'u') {
        if (!read_unicode_escape(r, &out)) {
          break;
        }
      } else {
        r->at -= 1;
        fail(r, "unknown escape");
        break;
      }
      continue;
    }
    const size_t step = tdn_utf8_sequence_length(r->text + r->at, r->length - r->at);
    if (step == 0) {
      fail(r, "invalid UTF-8");
      break;
    }
    if (!bytes_append(&out, r->text + r->at, step)) {
      fail(r, "out of memory");
      break;
    }
    r->at += step;
  }
  free(out.data);
  return NULL;
}

static tdn_json_value* read_value(reader* r, unsigned depth_left);

static tdn_json_value* read_object(reader* r, unsigned depth_left)
{
  if (depth_left == 0) {
    fail(r, "objects nested too deeply");
    return NULL;
  }
  r->at++; /* '{' */
  tdn_json_value* object = calloc(1, sizeof(*object));
  if (object == NULL) {
    fail(r, "out of memory");
    return NULL;
  }
  object->kind = TDN_JSON_OBJECT;
  skip_space(r);
  if (peek_is(r, '}')) {
    r->at++;
    return object;
  }
  for (;;) {
    skip_space(r);
    const size_t key_at = r->at;
    char* key = read_string(r);
    if (key == NULL) {
      break;
    }
    if (tdn_json_member_value(object, key) != NULL) {
      r->at = key_at;
      tdn_diag_set(r->diag, "invalid JSON at byte %zu: duplicate key \"%s\"", key_at, key);
      free(key);
      break;
    }
    skip_space(r);
    if (!peek_is(r, ':')) {
      fail(r, "expected ':'");
      free(key);
      break;
    }
    r->at++;
    skip_space(r);
    tdn_json_value* value = read_value(r, depth_left - 1);
    if (value == NULL) {
      free(key);
      break;
    }
    tdn_json_member* grown =
        realloc(object->members, (object->member_count + 1) * sizeof(tdn_json_member));
    if (grown == NULL) {
      fail(r, "out of memory");
      free(key);
      tdn_json_free(value);
      break;
    }
    object->members = grown;
    object->members[object->member_count].key = key;
    object->members[object->member_count].value = value;
    object->member_count++;
    skip_space(r);
    if (peek_is(r, ',')) {
      r->at++;
      continue;
    }
    if (peek_is(r, '}')) {
      r->at++;
      return object;
    }
    fail(r, "expected ',' or '}'");
    break;
  }
  tdn_json_free(object);
  return NULL;
}

static tdn_json_value* read_value(reader* r, unsigned depth_left)
{
  if (peek_is(r, '{')) {
    return read_object(r, depth_left);
  }
  if (peek_is(r, '"')) {
    char* string = read_string(r);
    if (string == NULL) {
      return NULL;
    }
    tdn_json_value* value = calloc(1, sizeof(*value));
    if (value == NULL) {
      free(string);
      fail(r, "out of memory");
      return NULL;
    }
    value->kind = TDN_JSON_STRING;
    value->string = string;
    return value;
  }
  fail(r, "expected a string or an object (numbers, arrays, booleans and null are not used)");
  return NULL;
}

tdn_json_value* tdn_json_parse(const char* text, size_t length, unsigned max_depth, tdn_diag* diag)
{
  reader r = {.text = (const uint8_t*)text, .length = length, .at = 0, .diag = diag};
  skip_space(&r);
  tdn_json_value* value = read_value(&r, max_depth);
  if (value == NULL) {
    return NULL;
  }
  skip_space(&r);
  if (r.at != r.length) {
    fail(&r, "unexpected text after the value");
    tdn_json_free(value);
    return NULL;
  }
  return value;
}

void tdn_json_free(tdn_json_value* value)
{
  if (value == NULL) {
    return;
  }
  for (size_t i = 0; i < value->member_count; ++i) {
    free(value->members[i].key);
    tdn_json_free(value->members[i].value);
  }
  free(value->members);
  free(value->string);
  free(value);
}

const tdn_json_value* tdn_json_member_value(const tdn_json_value* object, const char* key)
{
  if (object == NULL || object->kind != TDN_JSON_OBJECT) {
    return NULL;
  }
  for (size_t i = 0; i < object->member_count; ++i) {
    if (strcmp(object->members[i].key, key) == 0) {
      return object->members[i].value;
    }
  }
  return NULL;
}
