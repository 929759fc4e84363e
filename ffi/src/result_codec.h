/*
 * result_codec.h: the RESULT record family's one-response layout as the
 * parent writes it (a BLS_RESPONSE payload): tdn_result_header,
 * tdn_response, tdn_tensor[output_count], the shapes (int64[rank] each),
 * then the strings (error message, output names, parameters). The output
 * data is placed by the caller; this module writes only the structs and
 * strings, into memory it is handed, so the wire golden test
 * (tests/wire/golden_c.c) runs the very encoder the parent uses.
 */
#ifndef TDN_RESULT_CODEC_H
#define TDN_RESULT_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "tdn_wire.h"

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
