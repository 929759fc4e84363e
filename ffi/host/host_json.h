/*
 * host_json.h: a small JSON document tree (json_value.c), for the parts of
 * the stand-in server that read and rewrite model configurations (Triton's
 * JSON form) and parameters. Numbers keep their literal text, so a
 * document that is read and written back is unchanged but for spacing.
 * Nothing here is exported from libtriton_host.so.
 */
#ifndef HOST_JSON_H
#define HOST_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host_internal.h"

typedef enum host_json_kind {
  HOST_JSON_NULL = 0,
  HOST_JSON_FALSE,
  HOST_JSON_TRUE,
  HOST_JSON_NUMBER,
  HOST_JSON_STRING,
  HOST_JSON_ARRAY,
  HOST_JSON_OBJECT
} host_json_kind;

typedef struct host_json {
  host_json_kind kind;
  char* text;   /* NUMBER: the literal; STRING: the decoded UTF-8 value */
  uint32_t count;
  char** keys;  /* OBJECT: member names, in document order */
  struct host_json** items;
} host_json;

/* Parses one JSON value; NULL with *problem (static text) if malformed. */
host_json* host_json_parse(const char* text, size_t length, const char** problem);
void host_json_free(host_json* value);
/* Appends compact JSON. */
void host_json_write(host_text* out, const host_json* value);
/* Compact JSON in a malloc'ed string. */
char* host_json_to_string(const host_json* value);
host_json* host_json_copy(const host_json* value);

/* ---- Reading: every accessor accepts NULL and answers "absent". ---- */

/* The member of an object, or NULL. */
host_json* host_json_member(const host_json* object, const char* key);
/* The length of an array (0 for anything else). */
uint32_t host_json_length(const host_json* array);
host_json* host_json_item(const host_json* array, uint32_t index);
/* A string's value, or NULL. */
const char* host_json_string(const host_json* value);
/* A number, or a string holding one (Triton writes large 64-bit integers
 * as strings), as an integer. False if it is neither. */
bool host_json_int(const host_json* value, int64_t* out);
/* `fallback` unless the value is true or false. */
bool host_json_bool(const host_json* value, bool fallback);
/* Shorthands for a member: its integer (fallback if absent), its string
 * (fallback if absent). */
int64_t host_json_member_int(const host_json* object, const char* key, int64_t fallback);
const char* host_json_member_string(const host_json* object, const char* key,
                                    const char* fallback);

/* ---- Building. ---- */

host_json* host_json_new(host_json_kind kind);
host_json* host_json_new_string(const char* value);
host_json* host_json_new_int(int64_t value);
/* Sets an object's member (replacing one of that name), taking ownership. */
void host_json_set(host_json* object, const char* key, host_json* value);
/* Appends to an array, taking ownership. */
void host_json_push(host_json* array, host_json* value);

#endif /* HOST_JSON_H */
