/*
 * config_outputs.c: the output names of a model configuration (Triton's
 * JSON form: {"output":[{"name":"OUTPUT0",...},...],...}). An in-process
 * request that names no outputs gets all of them, as Triton's does.
 *
 * A small reader that only walks the text: the configuration was checked
 * when the model loaded, so on anything unexpected it stops and returns
 * what it found.
 */
#include <stdlib.h>
#include <string.h>

#include "host_server.h"

#define CONFIG_MAX_DEPTH 64

typedef struct config_cursor {
  const char* text;
  size_t length;
  size_t at;
} config_cursor;

static void config_space(config_cursor* cursor) {
  while (cursor->at < cursor->length) {
    char c = cursor->text[cursor->at];
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return;
    cursor->at++;
  }
}

static bool config_expect(config_cursor* cursor, char c) {
  config_space(cursor);
  if (cursor->at >= cursor->length || cursor->text[cursor->at] != c) return false;
  cursor->at++;
  return true;
}

/* Reads a string; 'out' (may be NULL) receives a malloc'ed copy with the
 * simple escapes decoded and \u escapes of ASCII kept as that character. */
static bool config_string(config_cursor* cursor, char** out) {
  config_space(cursor);
  if (cursor->at >= cursor->length || cursor->text[cursor->at] != '"') return false;
  cursor->at++;
  host_text value = {0};
  host_text_append(&value, "", 0);
  while (cursor->at < cursor->length) {
    char c = cursor->text[cursor->at++];
    if (c == '"') {
      if (out != NULL) {
        *out = value.data;
      } else {
        host_text_free(&value);
      }
      return true;
    }
    if (c == '\\' && cursor->at < cursor->length) {
      char escaped = cursor->text[cursor->at++];
      switch (escaped) {
        case 'n': c = '\n'; break;
        case 't': c = '\t'; break;
        case 'r': c = '\r'; break;
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'u': {
          unsigned code = 0;
          for (int i = 0; i < 4 && cursor->at < cursor->length; i++) {
            char h = cursor->text[cursor->at++];
            code = code * 16 + (unsigned)(h >= 'a'   ? h - 'a' + 10
                                          : h >= 'A' ? h - 'A' + 10
                                                     : h - '0');
          }
          c = code < 0x80 ? (char)code : '?';
          break;
        }
        default: c = escaped; break;
      }
    }
    host_text_append(&value, &c, 1);
  }
  host_text_free(&value);
  return false;
}

static bool config_skip(config_cursor* cursor, int depth);

static bool config_skip_container(config_cursor* cursor, char close, bool keyed, int depth) {
  cursor->at++;
  if (config_expect(cursor, close)) return true;
  for (;;) {
    if (keyed && (!config_string(cursor, NULL) || !config_expect(cursor, ':'))) return false;
    if (!config_skip(cursor, depth + 1)) return false;
    if (config_expect(cursor, close)) return true;
    if (!config_expect(cursor, ',')) return false;
  }
}

/* Skips one value of any kind. */
static bool config_skip(config_cursor* cursor, int depth) {
  config_space(cursor);
  if (cursor->at >= cursor->length || depth > CONFIG_MAX_DEPTH) return false;
  char c = cursor->text[cursor->at];
  if (c == '"') return config_string(cursor, NULL);
  if (c == '{') return config_skip_container(cursor, '}', true, depth);
  if (c == '[') return config_skip_container(cursor, ']', false, depth);
  /* A number or a literal: up to the next delimiter. */
  while (cursor->at < cursor->length && strchr(",]} \t\r\n", cursor->text[cursor->at]) == NULL) {
    cursor->at++;
  }
  return true;
}

/* Reads the "name" of one output object. */
static bool config_output_name(config_cursor* cursor, char** name) {
  if (!config_expect(cursor, '{')) return false;
  if (config_expect(cursor, '}')) return true;
  for (;;) {
    char* key = NULL;
    if (!config_string(cursor, &key) || !config_expect(cursor, ':')) {
      free(key);
      return false;
    }
    bool is_name = strcmp(key, "name") == 0;
    free(key);
    config_space(cursor);
    if (is_name && *name == NULL && cursor->at < cursor->length &&
        cursor->text[cursor->at] == '"') {
      if (!config_string(cursor, name)) return false;
    } else if (!config_skip(cursor, 1)) {
      return false;
    }
    if (config_expect(cursor, '}')) return true;
    if (!config_expect(cursor, ',')) return false;
  }
}

static void config_outputs(config_cursor* cursor, char*** names, uint32_t* count) {
  if (!config_expect(cursor, '[') || config_expect(cursor, ']')) return;
  for (;;) {
    char* name = NULL;
    bool ok = config_output_name(cursor, &name);
    if (name != NULL) {
      *names = host_grow(*names, sizeof **names * (*count + 1u));
      (*names)[(*count)++] = name;
    }
    if (!ok || !config_expect(cursor, ',')) return;
  }
}

char** host_config_output_names(const char* json, size_t length, uint32_t* count) {
  config_cursor cursor = {.text = json, .length = length, .at = 0};
  char** names = NULL;
  *count = 0;
  if (json == NULL || !config_expect(&cursor, '{') || config_expect(&cursor, '}')) return NULL;
  for (;;) {
    char* key = NULL;
    if (!config_string(&cursor, &key) || !config_expect(&cursor, ':')) {
      free(key);
      return names;
    }
    bool is_output = strcmp(key, "output") == 0;
    free(key);
    if (is_output) {
      config_outputs(&cursor, &names, count);
      return names;
    }
    if (!config_skip(&cursor, 1) || !config_expect(&cursor, ',')) return names;
  }
}
