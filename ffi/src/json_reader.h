/*
 * json_reader.h: the only JSON the C side ever parses is Triton's backend
 * configuration, {"cmdline":{"key":"value",...}}. This reader accepts
 * exactly RFC 8259 JSON whose values are strings or objects (no numbers,
 * arrays, booleans or null), nested at most max_depth objects deep, with
 * unique keys and no NUL characters. Anything else is an error that says
 * where.
 */
#ifndef TDN_JSON_READER_H
#define TDN_JSON_READER_H

#include <stddef.h>

#include "diag.h"

typedef enum tdn_json_kind { TDN_JSON_STRING, TDN_JSON_OBJECT } tdn_json_kind;

typedef struct tdn_json_value tdn_json_value;

typedef struct tdn_json_member {
  char* key;
  tdn_json_value* value;
} tdn_json_member;

struct tdn_json_value {
  tdn_json_kind kind;
  char* string; /* TDN_JSON_STRING: decoded UTF-8, NUL-terminated */
  size_t member_count; /* TDN_JSON_OBJECT: members in document order */
  tdn_json_member* members;
};

/* Parses `length` bytes. Returns NULL with a message on any error. */
tdn_json_value* tdn_json_parse(const char* text, size_t length, unsigned max_depth, tdn_diag* diag);

void tdn_json_free(tdn_json_value* value);

/* The member named `key` of an object, or NULL. */
const tdn_json_value* tdn_json_member_value(const tdn_json_value* object, const char* key);

#endif /* TDN_JSON_READER_H */
