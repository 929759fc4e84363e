/*
 * json_reader.c: a strict recursive-descent reader for the JSON described
 * in json_reader.h. Numbers are converted in the "C" locale whatever
 * Triton's process has set, so "0.5" never depends on LC_NUMERIC.
 */
#include "json_reader.h"

#include <locale.h>
#include <math.h>
#include <pthread.h>
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
  tdn_json_limits limits;
  size_t values; /* made so far, for limits.max_values */
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


/* A new value of `kind`, counted against limits.max_values. */
static tdn_json_value* new_value(reader* r, tdn_json_kind kind)
{
  if (r->limits.max_values != 0 && r->values >= r->limits.max_values) {
    tdn_diag_set(
        r->diag, "invalid JSON at byte %zu: more than %zu values in the document", r->at,
        r->limits.max_values);
    return NULL;
  }
  tdn_json_value* value = calloc(1, sizeof(*value));
  if (value == NULL) {
    fail(r, "out of memory");
    return NULL;
  }
  r->values++;
  value->kind = kind;
  return value;
}

/* Grows *items (of item_size bytes each) to hold one more than `count`. */
static bool reserve_one(void** items, size_t* capacity, size_t count, size_t item_size)
{
  if (count < *capacity) {
    return true;
  }
  const size_t grown_capacity = *capacity == 0 ? 4 : *capacity * 2;
  void* grown = realloc(*items, grown_capacity * item_size);
  if (grown == NULL) {
    return false;
  }
  *items = grown;
  *capacity = grown_capacity;
  return true;
}

static tdn_json_value* read_value(reader* r, unsigned depth_left);

static tdn_json_value* read_object(reader* r, unsigned depth_left)
{
  if (depth_left == 0) {
    fail(r, "objects and arrays nested too deeply");
    return NULL;
  }
  tdn_json_value* object = new_value(r, TDN_JSON_OBJECT);
  if (object == NULL) {
    return NULL;
  }
  r->at++; /* '{' */
  size_t capacity = 0;
  skip_space(r);
  if (peek_is(r, '}')) {
    r->at++;
    return object;
  }
  for (;;) {
    skip_space(r);
    if (r->limits.max_members != 0 && object->member_count >= r->limits.max_members) {
      tdn_diag_set(
          r->diag, "invalid JSON at byte %zu: an object with more than %zu members", r->at,
          r->limits.max_members);
      break;
    }
    const size_t key_at = r->at;
    char* key = read_string(r);
    if (key == NULL) {
      break;
    }
    if (tdn_json_member_value(object, key) != NULL) {
      r->at = key_at;
      tdn_diag_set(r->diag, "invalid JSON at byte %zu: duplicate key \"%.256s\"", key_at, key);
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
    if (!reserve_one(
            (void**)&object->members, &capacity, object->member_count, sizeof(tdn_json_member))) {
      fail(r, "out of memory");
      free(key);
      tdn_json_free(value);
      break;
    }
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

static tdn_json_value* read_array(reader* r, unsigned depth_left)
{
  if (depth_left == 0) {
    fail(r, "objects and arrays nested too deeply");
    return NULL;
  }
  tdn_json_value* array = new_value(r, TDN_JSON_ARRAY);
  if (array == NULL) {
    return NULL;
  }
  r->at++; /* '[' */
  size_t capacity = 0;
  skip_space(r);
  if (peek_is(r, ']')) {
    r->at++;
    return array;
  }
  for (;;) {
    skip_space(r);
    if (r->limits.max_elements != 0 && array->element_count >= r->limits.max_elements) {
      tdn_diag_set(
          r->diag, "invalid JSON at byte %zu: an array with more than %zu elements", r->at,
          r->limits.max_elements);
      break;
    }
    tdn_json_value* element = read_value(r, depth_left - 1);
    if (element == NULL) {
      break;
    }
    if (!reserve_one(
            (void**)&array->elements, &capacity, array->element_count,
            sizeof(tdn_json_value*))) {
      fail(r, "out of memory");
      tdn_json_free(element);
      break;
    }
    array->elements[array->element_count++] = element;
    skip_space(r);
    if (peek_is(r, ',')) {
      r->at++;
      continue;
    }
    if (peek_is(r, ']')) {
      r->at++;
      return array;
    }
    fail(r, "expected ',' or ']'");
    break;
  }
  tdn_json_free(array);
  return NULL;
}

static bool is_digit(reader* r)
{
  return r->at < r->length && r->text[r->at] >= '0' && r->text[r->at] <= '9';
}

static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static locale_t c_locale = (locale_t)0;

static void make_c_locale(void)
{
  c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

/* Skips the digits of a number; false (with a message) if there is none. */
static bool skip_digits(reader* r, const char* what)
{
  if (!is_digit(r)) {
    return fail(r, what);
  }
  while (is_digit(r)) {
    r->at++;
  }
  return true;
}

/* Scans a number token, -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?,
 * into `value`: its text and its finite value. */
static bool scan_number(reader* r, tdn_json_value* value)
{
  const size_t start = r->at;
  if (peek_is(r, '-')) {
    r->at++;
  }
  if (peek_is(r, '0')) {
    r->at++;
    if (is_digit(r)) {
      return fail(r, "a number has a leading zero");
    }
  } else if (!skip_digits(r, "expected a digit")) {
    return false;
  }
  if (peek_is(r, '.')) {
    r->at++;
    if (!skip_digits(r, "expected a digit after the decimal point")) {
      return false;
    }
  }
  if (peek_is(r, 'e') || peek_is(r, 'E')) {
    r->at++;
    if (peek_is(r, '+') || peek_is(r, '-')) {
      r->at++;
    }
    if (!skip_digits(r, "expected a digit in the exponent")) {
      return false;
    }
  }
  const size_t length = r->at - start;
  if (length > TDN_JSON_MAX_NUMBER_TEXT) {
    return tdn_diag_set(
        r->diag, "invalid JSON at byte %zu: a number longer than %d characters", start,
        TDN_JSON_MAX_NUMBER_TEXT);
  }
  pthread_once(&c_locale_once, make_c_locale);
  if (c_locale == (locale_t)0) {
    return fail(r, "cannot make the C locale to convert a number");
  }
  if ((value->string = malloc(length + 1)) == NULL) {
    return fail(r, "out of memory");
  }
  memcpy(value->string, r->text + start, length);
  value->string[length] = '\0';
  value->number = strtod_l(value->string, NULL, c_locale);
  if (!isfinite(value->number)) {
    return tdn_diag_set(
        r->diag, "invalid JSON at byte %zu: the number %s is too large for a double", start,
        value->string);
  }
  return true;
}

static tdn_json_value* read_number(reader* r)
{
  tdn_json_value* value = new_value(r, TDN_JSON_NUMBER);
  if (value != NULL && !scan_number(r, value)) {
    tdn_json_free(value);
    return NULL;
  }
  return value;
}

/* Reads `word` (true, false, null); false if another text is there. */
static bool read_word(reader* r, const char* word)
{
  const size_t length = strlen(word);
  if (r->length - r->at < length || memcmp(r->text + r->at, word, length) != 0) {
    return false;
  }
  r->at += length;
  return true;
}

static tdn_json_value* read_value(reader* r, unsigned depth_left)
{
  if (r->at >= r->length) {
    fail(r, "expected a value, found the end of the text");
    return NULL;
  }
  const uint8_t c = r->text[r->at];
  if (c == '{') {
    return read_object(r, depth_left);
  }
  if (c == '[') {
    return read_array(r, depth_left);
  }
  if (c == '"') {
    tdn_json_value* value = new_value(r, TDN_JSON_STRING);
    if (value == NULL) {
      return NULL;
    }
    if ((value->string = read_string(r)) == NULL) {
      tdn_json_free(value);
      return NULL;
    }
    return value;
  }
  if (c == '-' || (c >= '0' && c <= '9')) {
    return read_number(r);
  }
  if (c == 't' || c == 'f') {
    tdn_json_value* value = new_value(r, TDN_JSON_BOOL);
    if (value == NULL) {
      return NULL;
    }
    value->boolean = c == 't';
    if (!read_word(r, value->boolean ? "true" : "false")) {
      fail(r, "expected true or false");
      tdn_json_free(value);
      return NULL;
    }
    return value;
  }
  if (c == 'n' && read_word(r, "null")) {
    r->at -= 4;
    fail(r, "null is not accepted here");
    return NULL;
  }
  fail(r, "expected a value (a string, number, object, array, true or false)");
  return NULL;
}

static tdn_json_value* parse(const char* text, size_t length, const tdn_json_limits* limits,
                             tdn_diag* diag)
{
  reader r = {.text = (const uint8_t*)text, .length = length, .at = 0, .diag = diag};
  r.limits = *limits;
  skip_space(&r);
  tdn_json_value* value = read_value(&r, r.limits.max_depth);
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

tdn_json_value* tdn_json_parse(const char* text, size_t length, unsigned max_depth, tdn_diag* diag)
{
  const tdn_json_limits limits = {.max_depth = max_depth};
  return parse(text, length, &limits, diag);
}

tdn_json_value* tdn_json_parse_limited(
    const char* text, size_t length, const tdn_json_limits* limits, tdn_diag* diag)
{
  return parse(text, length, limits, diag);
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
  for (size_t i = 0; i < value->element_count; ++i) {
    tdn_json_free(value->elements[i]);
  }
  free(value->elements);
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

const char* tdn_json_kind_name(tdn_json_kind kind)
{
  switch (kind) {
    case TDN_JSON_STRING:
      return "a string";
    case TDN_JSON_OBJECT:
      return "an object";
    case TDN_JSON_NUMBER:
      return "a number";
    case TDN_JSON_ARRAY:
      return "an array";
    case TDN_JSON_BOOL:
      return "a boolean";
  }
  return "an unknown kind";
}
