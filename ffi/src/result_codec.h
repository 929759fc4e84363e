/*
 * result_codec.h: the RESULT record family, both directions (ffi/WIRE_FORMAT.md):
 *
 * - decoding what the stub wrote (RESULT, RESPONSE): validated and copied
 *   into plain C structs ("What the parent trusts"). Everything is copied
 *   out of the arena once: numbers into the structs, names and error text
 *   into our own memory. Tensor data stays in the arena and is described by
 *   a checked (offset, size); response_sender.c copies it into Triton's
 *   buffers.
 * - encoding the one-response layout the parent writes (a BLS_RESPONSE
 *   payload): tdn_result_header, tdn_response, tdn_tensor[output_count],
 *   the shapes (int64[rank] each), then the strings (error message, output
 *   names, parameters). The output data is placed by the caller; the encoder
 *   writes only the structs and strings, into memory it is handed.
 *
 * Nothing here calls Triton, so tests/wire/golden_c.c runs the very code the
 * backend runs, both ways.
 */
#ifndef TDN_RESULT_CODEC_H
#define TDN_RESULT_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "parameters.h"
#include "tdn_wire.h"

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

#endif /* TDN_RESULT_CODEC_H */
