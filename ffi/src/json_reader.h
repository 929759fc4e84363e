/*
 * json_reader.h: the one strict JSON reader of the C library. It parses
 * Triton's backend configuration, the policy evaluator's answer and
 * parameter lists (those of a RESULT or BLS_REQUEST come from the untrusted
 * stub, so everything it accepts is bounded). METRICS is binary
 * (metrics_batch.c).
 *
 * It accepts exactly RFC 8259 JSON with these values: strings, objects,
 * arrays, numbers and the booleans; `null` is refused (nothing we read uses
 * it). Also refused: duplicate keys, U+0000 (escaped or not), invalid
 * UTF-8, numbers whose value is not a finite double (1e999) and numbers
 * longer than TDN_JSON_MAX_NUMBER_TEXT characters. Objects and arrays
 * together nest at most `max_depth` deep; tdn_json_parse_limited also
 * bounds the members of an object, the elements of an array and the values
 * of the whole document. Any error says what and at which byte.
 *
 * Callers check kinds: a reader that wants a string must refuse a number.
 */
#ifndef TDN_JSON_READER_H
#define TDN_JSON_READER_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"

/* Longest number token accepted (what JavaScript writes is at most 24). */
#define TDN_JSON_MAX_NUMBER_TEXT 64

typedef enum tdn_json_kind {
  TDN_JSON_STRING,
  TDN_JSON_OBJECT,
  TDN_JSON_NUMBER,
  TDN_JSON_ARRAY,
  TDN_JSON_BOOL,
} tdn_json_kind;

typedef struct tdn_json_value tdn_json_value;

typedef struct tdn_json_member {
  char* key;
  tdn_json_value* value;
} tdn_json_member;

struct tdn_json_value {
  tdn_json_kind kind;
  char* string; /* STRING: decoded UTF-8, NUL-terminated; NUMBER: the token as written */
  double number;   /* NUMBER: the token's value, finite */
  bool boolean;    /* BOOL */
  size_t member_count; /* OBJECT: members in document order */
  tdn_json_member* members;
  size_t element_count; /* ARRAY: elements in order */
  tdn_json_value** elements;
};

/* Bounds for a document from an untrusted writer; 0 means no bound (depth
 * excepted: max_depth 0 accepts only strings, numbers and booleans). */
typedef struct tdn_json_limits {
  unsigned max_depth;  /* objects and arrays nested */
  size_t max_members;  /* per object */
  size_t max_elements; /* per array */
  size_t max_values;   /* in the whole document, containers included */
} tdn_json_limits;

/* Parses `length` bytes with containers nested at most max_depth deep and
 * no other bound. Returns NULL with a message on any error. */
tdn_json_value* tdn_json_parse(const char* text, size_t length, unsigned max_depth, tdn_diag* diag);

/* The same with every bound of `limits`. */
tdn_json_value* tdn_json_parse_limited(
    const char* text, size_t length, const tdn_json_limits* limits, tdn_diag* diag);

void tdn_json_free(tdn_json_value* value);

/* The member named `key` of an object, or NULL. */
const tdn_json_value* tdn_json_member_value(const tdn_json_value* object, const char* key);

/* "a string", "an object", ... for messages. */
const char* tdn_json_kind_name(tdn_json_kind kind);

#endif /* TDN_JSON_READER_H */
