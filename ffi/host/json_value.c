/*
 * json_value.c: the JSON document tree of host_json.h: a recursive-descent
 * parser (RFC 8259, with a depth limit), accessors, builders and a compact
 * writer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "host_json.h"

#define HOST_JSON_MAX_DEPTH 128

typedef struct json_cursor {
  const char* text;
  size_t length;
  size_t at;
  const char* problem;
} json_cursor;

static void json_space(json_cursor* cursor) {
  while (cursor->at < cursor->length) {
    char c = cursor->text[cursor->at];
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return;
    cursor->at++;
  }
}

static bool json_fail(json_cursor* cursor, const char* problem) {
  if (cursor->problem == NULL) cursor->problem = problem;
  return false;
}

host_json* host_json_new(host_json_kind kind) {
  host_json* value = host_alloc(sizeof *value);
  value->kind = kind;
  return value;
}

host_json* host_json_new_string(const char* text) {
  host_json* value = host_json_new(HOST_JSON_STRING);
  value->text = host_strdup(text);
  return value;
}

host_json* host_json_new_int(int64_t number) {
  host_json* value = host_json_new(HOST_JSON_NUMBER);
  host_text literal = {0};
  host_text_printf(&literal, "%lld", (long long)number);
  value->text = literal.data;
  return value;
}

void host_json_free(host_json* value) {
  if (value == NULL) return;
  for (uint32_t i = 0; i < value->count; i++) {
    host_json_free(value->items[i]);
    if (value->keys != NULL) free(value->keys[i]);
  }
  free(value->items);
  free(value->keys);
  free(value->text);
  free(value);
}

static void json_append_item(host_json* container, char* key, host_json* item) {
  container->items = host_grow(container->items, sizeof *container->items * (container->count + 1u));
  if (container->kind == HOST_JSON_OBJECT) {
    container->keys = host_grow(container->keys, sizeof *container->keys * (container->count + 1u));
    container->keys[container->count] = key;
  }
  container->items[container->count++] = item;
}

/* ---- Parsing. ---- */

static void json_utf8(host_text* out, uint32_t code) {
  char bytes[4];
  size_t length;
  if (code < 0x80) {
    bytes[0] = (char)code;
    length = 1;
  } else if (code < 0x800) {
    bytes[0] = (char)(0xc0 | (code >> 6));
    bytes[1] = (char)(0x80 | (code & 0x3f));
    length = 2;
  } else if (code < 0x10000) {
    bytes[0] = (char)(0xe0 | (code >> 12));
    bytes[1] = (char)(0x80 | ((code >> 6) & 0x3f));
    bytes[2] = (char)(0x80 | (code & 0x3f));
    length = 3;
  } else {
    bytes[0] = (char)(0xf0 | (code >> 18));
    bytes[1] = (char)(0x80 | ((code >> 12) & 0x3f));
    bytes[2] = (char)(0x80 | ((code >> 6) & 0x3f));
    bytes[3] = (char)(0x80 | (code & 0x3f));
    length = 4;
  }
  host_text_append(out, bytes, length);
}

static bool json_hex4(json_cursor* cursor, uint32_t* code) {
  if (cursor->length - cursor->at < 4) return json_fail(cursor, "truncated \\u escape");
  uint32_t value = 0;
  for (int i = 0; i < 4; i++) {
    char h = cursor->text[cursor->at++];
    uint32_t digit;
    if (h >= '0' && h <= '9') {
      digit = (uint32_t)(h - '0');
    } else if (h >= 'a' && h <= 'f') {
      digit = (uint32_t)(h - 'a' + 10);
    } else if (h >= 'A' && h <= 'F') {
      digit = (uint32_t)(h - 'A' + 10);
    } else {
      return json_fail(cursor, "invalid \\u escape");
    }
    value = value * 16 + digit;
  }
  *code = value;
  return true;
}

/* Reads a string literal (the cursor is on its opening quote). */
static bool json_string(json_cursor* cursor, char** out) {
  cursor->at++;
  host_text value = {0};
  host_text_append(&value, "", 0);
  while (cursor->at < cursor->length) {
    unsigned char c = (unsigned char)cursor->text[cursor->at++];
    if (c == '"') {
      *out = value.data;
      return true;
    }
    if (c < 0x20) break;
    if (c != '\\') {
      host_text_append(&value, (const char*)&c, 1);
      continue;
    }
    if (cursor->at >= cursor->length) break;
    char escaped = cursor->text[cursor->at++];
    char plain;
    switch (escaped) {
      case '"': plain = '"'; break;
      case '\\': plain = '\\'; break;
      case '/': plain = '/'; break;
      case 'b': plain = '\b'; break;
      case 'f': plain = '\f'; break;
      case 'n': plain = '\n'; break;
      case 'r': plain = '\r'; break;
      case 't': plain = '\t'; break;
      case 'u': {
        uint32_t code = 0;
        if (!json_hex4(cursor, &code)) {
          host_text_free(&value);
          return false;
        }
        if (code >= 0xd800 && code < 0xdc00 && cursor->length - cursor->at >= 6 &&
            cursor->text[cursor->at] == '\\' && cursor->text[cursor->at + 1] == 'u') {
          cursor->at += 2;
          uint32_t low = 0;
          if (!json_hex4(cursor, &low)) {
            host_text_free(&value);
            return false;
          }
          code = (low >= 0xdc00 && low < 0xe000) ? 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00)
                                                 : 0xfffd;
        } else if (code >= 0xd800 && code < 0xe000) {
          code = 0xfffd;
        }
        json_utf8(&value, code);
        continue;
      }
      default:
        host_text_free(&value);
        return json_fail(cursor, "invalid escape in a string");
    }
    host_text_append(&value, &plain, 1);
  }
  host_text_free(&value);
  return json_fail(cursor, "unterminated string");
}

static bool json_digits(json_cursor* cursor) {
  size_t start = cursor->at;
  while (cursor->at < cursor->length && cursor->text[cursor->at] >= '0' &&
         cursor->text[cursor->at] <= '9') {
    cursor->at++;
  }
  return cursor->at > start;
}

static host_json* json_number(json_cursor* cursor) {
  size_t start = cursor->at;
  if (cursor->text[cursor->at] == '-') cursor->at++;
  if (!json_digits(cursor)) {
    json_fail(cursor, "invalid number");
    return NULL;
  }
  if (cursor->at < cursor->length && cursor->text[cursor->at] == '.') {
    cursor->at++;
    if (!json_digits(cursor)) {
      json_fail(cursor, "invalid number");
      return NULL;
    }
  }
  if (cursor->at < cursor->length &&
      (cursor->text[cursor->at] == 'e' || cursor->text[cursor->at] == 'E')) {
    cursor->at++;
    if (cursor->at < cursor->length &&
        (cursor->text[cursor->at] == '+' || cursor->text[cursor->at] == '-')) {
      cursor->at++;
    }
    if (!json_digits(cursor)) {
      json_fail(cursor, "invalid number");
      return NULL;
    }
  }
  host_json* value = host_json_new(HOST_JSON_NUMBER);
  size_t length = cursor->at - start;
  value->text = host_alloc(length + 1);
  memcpy(value->text, cursor->text + start, length);
  return value;
}

static bool json_literal(json_cursor* cursor, const char* word) {
  size_t length = strlen(word);
  if (cursor->length - cursor->at < length ||
      memcmp(cursor->text + cursor->at, word, length) != 0) {
    return json_fail(cursor, "unexpected character");
  }
  cursor->at += length;
  return true;
}

static host_json* json_value(json_cursor* cursor, int depth);

static host_json* json_container(json_cursor* cursor, bool object, int depth) {
  host_json* container = host_json_new(object ? HOST_JSON_OBJECT : HOST_JSON_ARRAY);
  char close = object ? '}' : ']';
  cursor->at++;
  json_space(cursor);
  if (cursor->at < cursor->length && cursor->text[cursor->at] == close) {
    cursor->at++;
    return container;
  }
  for (;;) {
    char* key = NULL;
    if (object) {
      json_space(cursor);
      if (cursor->at >= cursor->length || cursor->text[cursor->at] != '"') {
        json_fail(cursor, "expected a member name");
        break;
      }
      if (!json_string(cursor, &key)) break;
      json_space(cursor);
      if (cursor->at >= cursor->length || cursor->text[cursor->at] != ':') {
        free(key);
        json_fail(cursor, "expected ':'");
        break;
      }
      cursor->at++;
    }
    host_json* item = json_value(cursor, depth + 1);
    if (item == NULL) {
      free(key);
      break;
    }
    json_append_item(container, key, item);
    json_space(cursor);
    if (cursor->at < cursor->length && cursor->text[cursor->at] == ',') {
      cursor->at++;
      continue;
    }
    if (cursor->at < cursor->length && cursor->text[cursor->at] == close) {
      cursor->at++;
      return container;
    }
    json_fail(cursor, object ? "expected ',' or '}'" : "expected ',' or ']'");
    break;
  }
  host_json_free(container);
  return NULL;
}

static host_json* json_value(json_cursor* cursor, int depth) {
  if (depth > HOST_JSON_MAX_DEPTH) {
    json_fail(cursor, "nested too deeply");
    return NULL;
  }
  json_space(cursor);
  if (cursor->at >= cursor->length) {
    json_fail(cursor, "unexpected end of text");
    return NULL;
  }
  char c = cursor->text[cursor->at];
  switch (c) {
    case '{': return json_container(cursor, true, depth);
    case '[': return json_container(cursor, false, depth);
    case '"': {
      char* text = NULL;
      if (!json_string(cursor, &text)) return NULL;
      host_json* value = host_json_new(HOST_JSON_STRING);
      value->text = text;
      return value;
    }
    case 't': return json_literal(cursor, "true") ? host_json_new(HOST_JSON_TRUE) : NULL;
    case 'f': return json_literal(cursor, "false") ? host_json_new(HOST_JSON_FALSE) : NULL;
    case 'n': return json_literal(cursor, "null") ? host_json_new(HOST_JSON_NULL) : NULL;
    default:
      if (c == '-' || (c >= '0' && c <= '9')) return json_number(cursor);
      json_fail(cursor, "unexpected character");
      return NULL;
  }
}

host_json* host_json_parse(const char* text, size_t length, const char** problem) {
  json_cursor cursor = {.text = text == NULL ? "" : text, .length = text == NULL ? 0 : length};
  host_json* value = json_value(&cursor, 0);
  if (value != NULL) {
    json_space(&cursor);
    if (cursor.at != cursor.length) {
      host_json_free(value);
      value = NULL;
      json_fail(&cursor, "text after the JSON value");
    }
  }
  if (problem != NULL) *problem = value == NULL ? cursor.problem : NULL;
  return value;
}

/* ---- Writing. ---- */

void host_json_write(host_text* out, const host_json* value) {
  if (value == NULL) {
    host_text_append(out, "null", 4);
    return;
  }
  switch (value->kind) {
    case HOST_JSON_NULL: host_text_append(out, "null", 4); break;
    case HOST_JSON_FALSE: host_text_append(out, "false", 5); break;
    case HOST_JSON_TRUE: host_text_append(out, "true", 4); break;
    case HOST_JSON_NUMBER: host_text_append(out, value->text, strlen(value->text)); break;
    case HOST_JSON_STRING: host_text_json_string(out, value->text); break;
    case HOST_JSON_ARRAY:
    case HOST_JSON_OBJECT: {
      bool object = value->kind == HOST_JSON_OBJECT;
      host_text_append(out, object ? "{" : "[", 1);
      for (uint32_t i = 0; i < value->count; i++) {
        if (i > 0) host_text_append(out, ",", 1);
        if (object) {
          host_text_json_string(out, value->keys[i]);
          host_text_append(out, ":", 1);
        }
        host_json_write(out, value->items[i]);
      }
      host_text_append(out, object ? "}" : "]", 1);
      break;
    }
  }
}

char* host_json_to_string(const host_json* value) {
  host_text text = {0};
  host_json_write(&text, value);
  return text.data;
}

host_json* host_json_copy(const host_json* value) {
  if (value == NULL) return NULL;
  host_json* copy = host_json_new(value->kind);
  if (value->text != NULL) copy->text = host_strdup(value->text);
  for (uint32_t i = 0; i < value->count; i++) {
    json_append_item(copy, value->keys == NULL ? NULL : host_strdup(value->keys[i]),
                     host_json_copy(value->items[i]));
  }
  return copy;
}

/* ---- Reading. ---- */

host_json* host_json_member(const host_json* object, const char* key) {
  if (object == NULL || object->kind != HOST_JSON_OBJECT || key == NULL) return NULL;
  /* The last of duplicate names wins, as in most readers. */
  for (uint32_t i = object->count; i > 0; i--) {
    if (strcmp(object->keys[i - 1], key) == 0) return object->items[i - 1];
  }
  return NULL;
}

uint32_t host_json_length(const host_json* array) {
  return array != NULL && array->kind == HOST_JSON_ARRAY ? array->count : 0;
}

host_json* host_json_item(const host_json* array, uint32_t index) {
  return index < host_json_length(array) ? array->items[index] : NULL;
}

const char* host_json_string(const host_json* value) {
  return value != NULL && value->kind == HOST_JSON_STRING ? value->text : NULL;
}

bool host_json_int(const host_json* value, int64_t* out) {
  if (value == NULL || (value->kind != HOST_JSON_NUMBER && value->kind != HOST_JSON_STRING)) {
    return false;
  }
  const char* text = value->text;
  if (text[0] == '\0') return false;
  char* end = NULL;
  errno = 0;
  long long parsed = strtoll(text, &end, 10);
  if (errno == 0 && *end == '\0') {
    *out = parsed;
    return true;
  }
  /* 1e3, 4.0, or a uint64 beyond int64: through a double, or saturated. */
  if (text[0] != '-' && errno == ERANGE) {
    unsigned long long big = strtoull(text, &end, 10);
    if (*end == '\0') {
      *out = big > (unsigned long long)INT64_MAX ? INT64_MAX : (int64_t)big;
      return true;
    }
  }
  double real = strtod(text, &end);
  if (*end != '\0' || real != real) return false;
  *out = real >= 9.2e18 ? INT64_MAX : real <= -9.2e18 ? INT64_MIN : (int64_t)real;
  return true;
}

bool host_json_bool(const host_json* value, bool fallback) {
  if (value == NULL) return fallback;
  if (value->kind == HOST_JSON_TRUE) return true;
  if (value->kind == HOST_JSON_FALSE) return false;
  return fallback;
}

int64_t host_json_member_int(const host_json* object, const char* key, int64_t fallback) {
  int64_t value = 0;
  return host_json_int(host_json_member(object, key), &value) ? value : fallback;
}

const char* host_json_member_string(const host_json* object, const char* key,
                                    const char* fallback) {
  const char* value = host_json_string(host_json_member(object, key));
  return value == NULL ? fallback : value;
}

/* ---- Building. ---- */

void host_json_set(host_json* object, const char* key, host_json* value) {
  if (object == NULL || object->kind != HOST_JSON_OBJECT) {
    host_json_free(value);
    return;
  }
  for (uint32_t i = 0; i < object->count; i++) {
    if (strcmp(object->keys[i], key) == 0) {
      host_json_free(object->items[i]);
      object->items[i] = value;
      return;
    }
  }
  json_append_item(object, host_strdup(key), value);
}

void host_json_push(host_json* array, host_json* value) {
  if (array == NULL || array->kind != HOST_JSON_ARRAY) {
    host_json_free(value);
    return;
  }
  json_append_item(array, NULL, value);
}

/* ---- Checking (json_value.c is the host's one JSON reader). ---- */

const char* host_json_check(const char* text, size_t length) {
  const char* problem = NULL;
  host_json* value = host_json_parse(text, length, &problem);
  host_json_free(value);
  return problem;
}
