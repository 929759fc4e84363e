/*
 * result_reader.h: validates a RESULT payload the stub wrote and decodes it
 * into plain C structs (ffi/WIRE_FORMAT.md, "What the parent trusts").
 *
 * Everything is copied out of the arena once: numbers into the structs,
 * names and error text into our own memory. Tensor data stays in the arena
 * and is described by a checked (offset, size); response_sender.c copies it
 * into Triton's buffers. Nothing here calls Triton, so tests/wire/golden_c.c
 * decodes with the same code the backend runs.
 */
#ifndef TDN_RESULT_READER_H
#define TDN_RESULT_READER_H

#include "parameters.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"

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

#endif /* TDN_RESULT_READER_H */
