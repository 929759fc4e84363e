/*
 * json_check.c: a strict JSON syntax checker (RFC 8259), so that messages
 * the backend creates are validated as Triton's parser would. It builds
 * nothing; it only walks the text. Nesting is bounded so a hostile
 * document cannot exhaust the stack.
 */
#include <string.h>

#include "host_internal.h"

#define JSON_MAX_DEPTH 256

typedef struct json_cursor {
  const char* text;
  size_t length;
  size_t at;
  const char* problem;
} json_cursor;

static bool json_fail(json_cursor* cursor, const char* problem) {
  if (cursor->problem == NULL) cursor->problem = problem;
  return false;
}

static void json_skip_space(json_cursor* cursor) {
  while (cursor->at < cursor->length) {
    char c = cursor->text[cursor->at];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
    cursor->at++;
  }
}

static bool json_peek(json_cursor* cursor, char* c) {
  if (cursor->at >= cursor->length) return false;
  *c = cursor->text[cursor->at];
  return true;
}

static bool json_literal(json_cursor* cursor, const char* word) {
  size_t length = strlen(word);
  if (cursor->length - cursor->at < length ||
      memcmp(cursor->text + cursor->at, word, length) != 0) {
    return json_fail(cursor, "invalid literal");
  }
  cursor->at += length;
  return true;
}

static bool json_is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool json_string(json_cursor* cursor) {
  cursor->at++; /* opening quote */
  while (cursor->at < cursor->length) {
    unsigned char c = (unsigned char)cursor->text[cursor->at++];
    if (c == '"') return true;
    if (c < 0x20) return json_fail(cursor, "control character in string");
    if (c != '\\') continue;
    if (cursor->at >= cursor->length) break;
    char escape = cursor->text[cursor->at++];
    if (escape == 'u') {
      if (cursor->length - cursor->at < 4) return json_fail(cursor, "short \\u escape");
      for (int i = 0; i < 4; i++) {
        if (!json_is_hex(cursor->text[cursor->at + (size_t)i])) {
          return json_fail(cursor, "bad \\u escape");
        }
      }
      cursor->at += 4;
    } else if (strchr("\"\\/bfnrt", escape) == NULL || escape == '\0') {
      return json_fail(cursor, "bad escape in string");
    }
  }
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

static bool json_number(json_cursor* cursor) {
  char c;
  if (json_peek(cursor, &c) && c == '-') cursor->at++;
  if (!json_peek(cursor, &c)) return json_fail(cursor, "truncated number");
  if (c == '0') {
    cursor->at++;
  } else if (!json_digits(cursor)) {
    return json_fail(cursor, "bad number");
  }
  if (json_peek(cursor, &c) && c == '.') {
    cursor->at++;
    if (!json_digits(cursor)) return json_fail(cursor, "bad fraction");
  }
  if (json_peek(cursor, &c) && (c == 'e' || c == 'E')) {
    cursor->at++;
    if (json_peek(cursor, &c) && (c == '+' || c == '-')) cursor->at++;
    if (!json_digits(cursor)) return json_fail(cursor, "bad exponent");
  }
  return true;
}

static bool json_value(json_cursor* cursor, int depth);

static bool json_container(json_cursor* cursor, int depth, char close) {
  if (depth >= JSON_MAX_DEPTH) return json_fail(cursor, "nesting too deep");
  cursor->at++; /* opening bracket */
  json_skip_space(cursor);
  char c;
  if (json_peek(cursor, &c) && c == close) {
    cursor->at++;
    return true;
  }
  for (;;) {
    json_skip_space(cursor);
    if (close == '}') {
      if (!json_peek(cursor, &c) || c != '"') return json_fail(cursor, "expected a key");
      if (!json_string(cursor)) return false;
      json_skip_space(cursor);
      if (!json_peek(cursor, &c) || c != ':') return json_fail(cursor, "expected ':'");
      cursor->at++;
    }
    if (!json_value(cursor, depth + 1)) return false;
    json_skip_space(cursor);
    if (!json_peek(cursor, &c)) return json_fail(cursor, "unterminated container");
    cursor->at++;
    if (c == close) return true;
    if (c != ',') return json_fail(cursor, "expected ',' or a closing bracket");
  }
}

static bool json_value(json_cursor* cursor, int depth) {
  json_skip_space(cursor);
  char c;
  if (!json_peek(cursor, &c)) return json_fail(cursor, "expected a value");
  switch (c) {
    case '{': return json_container(cursor, depth, '}');
    case '[': return json_container(cursor, depth, ']');
    case '"': return json_string(cursor);
    case 't': return json_literal(cursor, "true");
    case 'f': return json_literal(cursor, "false");
    case 'n': return json_literal(cursor, "null");
    default: return json_number(cursor);
  }
}

const char* host_json_check(const char* text, size_t length) {
  json_cursor cursor = {text, length, 0, NULL};
  if (!json_value(&cursor, 0)) return cursor.problem;
  json_skip_space(&cursor);
  if (cursor.at != cursor.length) return "trailing characters after the value";
  return NULL;
}
