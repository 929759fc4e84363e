/*
 * result_codec.h: the RESULT record family, C's side (ffi/WIRE_FORMAT.md),
 * from the stub's bytes to Triton's responses:
 *
 * - decoding what the stub wrote (RESULT, RESPONSE): validated and copied
 *   into plain C structs ("What the parent trusts"). Everything is copied
 *   out of the arena once: numbers into the structs, names, error text and
 *   parameters (read from the wire's form, batch_codec.h) into our own
 *   memory. Tensor data stays in the arena and is described by a checked
 *   (offset, size).
 * - encoding the one-response layout the parent writes (a BLS_RESPONSE
 *   payload): tdn_result_header, tdn_response, tdn_tensor[output_count],
 *   the shapes (int64[rank] each), then the strings (error message, output
 *   names, parameters). The output data is placed by the caller; the encoder
 *   writes only the structs and strings, into memory it is handed.
 * - answering Triton: one final response per request, built from a decoded
 *   response or from an error, with its outputs copied from the arena into
 *   Triton's buffers (the one place tensor bytes leave the arena); for
 *   decoupled models, any number of responses per request through its
 *   response factory.
 *
 * The decoder and the encoder call nothing of Triton's, so
 * tests/wire/golden_c.c runs the very code the backend runs, both ways (its
 * build links no Triton, and its link fails if they ever reach a Triton
 * function); only the last part talks to Triton.
 */
#ifndef TDN_RESULT_CODEC_H
#define TDN_RESULT_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "batch_codec.h"
#include "diag.h"
#include "tdn_wire.h"
#include "triton_api.h"

/* ---- Parameters, read from the wire's form ------------------------------- */

/* Most parameters one response may carry, and longest key and value. */
#define TDN_MAX_PARAMETERS 256u
#define TDN_MAX_PARAMETER_TEXT 65536u

typedef struct tdn_parameter {
  char* key;
  TRITONSERVER_ParameterType type; /* STRING, INT, BOOL or DOUBLE */
  char* string_value;              /* STRING */
  int64_t int_value;               /* INT */
  bool bool_value;                 /* BOOL */
  double double_value;             /* DOUBLE */
} tdn_parameter;

typedef struct tdn_parameter_list {
  uint32_t count;
  tdn_parameter* items;
} tdn_parameter_list;

/* Parses and checks wire JSON the stub wrote. False with a message. */
bool tdn_parameters_parse(
    const char* text, size_t length, tdn_parameter_list* list, tdn_diag* diag);

void tdn_parameter_list_free(tdn_parameter_list* list);

/* ---- Decoding ------------------------------------------------------------ */

typedef struct tdn_output_view {
  char* name;      /* valid UTF-8, 1..TDN_MAX_NAME_LENGTH bytes */
  uint32_t datatype; /* a valid TRITONSERVER_DataType */
  uint32_t rank;
  int64_t* shape;  /* rank dims, each >= 0; NULL when rank is 0 */
  uint64_t element_count;
  uint64_t data_offset; /* arena-relative; [offset, offset + size) is inside the arena */
  uint64_t data_size;   /* matches the shape and datatype */
} tdn_output_view;

typedef struct tdn_response_view {
  /* NULL when the response is well-formed; otherwise what was wrong with
   * it, phrased to follow "stub for instance 'X' " (the rest is unset). */
  char* problem;
  uint32_t status;      /* TDN_STATUS_OK or TDN_STATUS_ERROR */
  uint32_t error_code;  /* a TRITONSERVER_Error_Code */
  bool reschedule;      /* TDN_RESPONSE_RESCHEDULE: no response, release with RESCHEDULE */
  char* error_message;  /* NUL-terminated; invalid UTF-8 and NULs replaced by '?' */
  uint32_t output_count;
  tdn_output_view* outputs;
  tdn_parameter_list parameters; /* response parameters, checked */
} tdn_response_view;

typedef struct tdn_result_view {
  uint32_t response_count;
  tdn_response_view* responses;
} tdn_result_view;

/* Decodes the RESULT whose tdn_result_header is at arena [offset, offset +
 * length). False (with a message that follows "stub for instance 'X' ") if
 * the result as a whole is unusable; a single bad response only sets its
 * own `problem`. On success free the view with tdn_result_view_free. */
bool tdn_result_decode(
    const uint8_t* arena, uint64_t arena_size, uint64_t offset, uint64_t length,
    uint32_t expected_response_count, tdn_result_view* result, tdn_diag* diag);

void tdn_result_view_free(tdn_result_view* result);

/* NULL when the result's tensor bytes (of its well-formed responses) are
 * within `limit` (deno.max_output_bytes); otherwise logs a warning and
 * returns the error for the batch's clients (the caller's). */
TRITONSERVER_Error* tdn_result_check_volume(
    const tdn_result_view* result, uint64_t limit, const char* model_name,
    const char* instance_name);

/* Checks BYTES data: exactly element_count entries (u32 little-endian length,
 * then the bytes) that fill all `size` bytes. */
bool tdn_bytes_layout_is_valid(const uint8_t* data, uint64_t size, uint64_t element_count);

/* Writes "[1,4]" (truncated to fit). */
void tdn_format_shape(char* text, size_t capacity, const int64_t* shape, uint32_t rank);

/* ---- Encoding ------------------------------------------------------------ */

/* One output: data already at `data_offset` in the arena. */
typedef struct tdn_encoded_output {
  const char* name;
  uint32_t datatype;
  uint32_t rank;
  const int64_t* shape;
  uint64_t data_offset;
  uint64_t data_size;
} tdn_encoded_output;

/* One response; strings need not be NUL-terminated (their lengths count). */
typedef struct tdn_encoded_response {
  uint32_t status;     /* TDN_STATUS_* */
  uint32_t error_code; /* TRITONSERVER_Error_Code when status is ERROR */
  const char* message;
  size_t message_length;
  uint32_t output_count;
  const tdn_encoded_output* outputs;
  const char* parameters; /* the wire's parameter form, or NULL */
  size_t parameters_length;
} tdn_encoded_response;

/* Bytes the structs and strings of `response` take. */
uint64_t tdn_one_response_size(const tdn_encoded_response* response);

/* Writes `response` at arena[base, base + tdn_one_response_size()), every
 * byte of that range; returns the bytes written. */
uint64_t tdn_one_response_encode(
    uint8_t* arena, uint64_t base, const tdn_encoded_response* response);

/* ---- Answering Triton ---------------------------------------------------- */

/* Sends `error` as the request's final response and deletes it. */
void tdn_respond_error(TRITONBACKEND_Request* request, TRITONSERVER_Error* error);

/* Releases the request with `release_flags` (TRITONSERVER_REQUEST_RELEASE_ALL
 * or _RESCHEDULE). A RESCHEDULE Triton refuses (a model without iterative
 * sequence batching) is answered with Triton's reason, naming the instance,
 * and released for good. Returns false in that case. */
bool tdn_release_request(
    TRITONBACKEND_Request* request, uint32_t release_flags, const char* instance_name);

/* Sends the stub's response for one request: its error, or its outputs
 * (only those requested, if the request named any) copied from the arena
 * into Triton's buffers. Returns true if the request succeeded. */
bool tdn_respond_result(
    TRITONBACKEND_Request* request, const tdn_request_desc* desc,
    const tdn_response_view* response, const uint8_t* arena, const char* instance_name);

/* Decoupled: one response through the request's factory, with `flags`
 * (TRITONSERVER_RESPONSE_COMPLETE_FINAL or 0). A NULL view sends only the
 * flags (a FINAL with no response). Returns true if it went out whole. */
bool tdn_respond_streamed(
    TRITONBACKEND_ResponseFactory* factory, const tdn_request_desc* desc,
    const tdn_response_view* view, uint32_t flags, const uint8_t* arena,
    const char* instance_name);

/* Decoupled: sends `error` through the factory with `flags`, and deletes it. */
void tdn_respond_streamed_error(
    TRITONBACKEND_ResponseFactory* factory, TRITONSERVER_Error* error, uint32_t flags);

#endif /* TDN_RESULT_CODEC_H */
