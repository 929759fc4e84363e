/*
 * bls_request.h: reads and checks what a stub asks of other models: a
 * BLS_REQUEST payload (tdn_bls_request, ffi/WIRE_FORMAT.md "BLS") and a
 * CONTROL payload (tdn_control_request). The stub is untrusted: every
 * number, string, offset and size is checked; everything is copied out of
 * the arena once, except tensor data of fixed-size types, which Triton
 * reads in place (its size cannot change under it, only its contents).
 * BYTES data is copied and checked, since its element lengths could be
 * rewritten between our check and Triton's read. Nothing here calls
 * Triton.
 */
#ifndef TDN_BLS_REQUEST_H
#define TDN_BLS_REQUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "diag.h"
#include "batch_codec.h"

/* Limits beyond tdn_wire.h's. */
#define TDN_BLS_MAX_INPUTS 1024u
#define TDN_BLS_MAX_ID_LENGTH 65536u

typedef struct tdn_bls_input {
  tdn_tensor_view tensor; /* its data lies inside the stub's half */
  uint8_t* owned; /* BYTES: the checked copy Triton reads instead; else NULL */
} tdn_bls_input;

typedef struct tdn_bls_spec {
  char* model_name;
  int64_t model_version; /* -1: the server's choice */
  char* id;
  char* correlation_id_string; /* NULL unless the id is a string */
  uint64_t correlation_id;
  uint32_t flags; /* TRITONSERVER_RequestFlag bits, checked */
  uint64_t timeout_us;
  uint32_t input_count;
  tdn_bls_input* inputs;
  uint32_t output_count;
  char** outputs; /* requested output names; none: all */
  tdn_parameter_list parameters;
} tdn_bls_spec;

/* Decodes the tdn_bls_request at arena [offset, offset + length), which
 * must lie in the stub's half [stub_base, arena_size), as must every
 * input's data. False with `why` naming the field; *spec is then empty.
 * Free with tdn_bls_spec_free either way. */
bool tdn_bls_spec_decode(
    const uint8_t* arena, uint64_t arena_size, uint64_t stub_base, uint64_t offset,
    uint64_t length, tdn_bls_spec* spec, tdn_diag* why);

void tdn_bls_spec_free(tdn_bls_spec* spec);

/* A model file given with a LOAD, copied out of the arena. */
typedef struct tdn_control_file_spec {
  char* path; /* relative, checked: no "..", ".", empty or absolute parts */
  uint8_t* data;
  uint64_t size;
} tdn_control_file_spec;

/* A decoded CONTROL payload; free with tdn_control_spec_free. */
typedef struct tdn_control_spec {
  char* model_name;
  int64_t model_version;       /* IS_READY: >= -1 */
  char* config;                /* LOAD: configuration JSON, or NULL */
  tdn_control_file_spec* files; /* LOAD: file_count files (only with a config) */
  uint32_t file_count;
  bool unload_dependents; /* UNLOAD: TDN_CONTROL_FLAG_UNLOAD_DEPENDENTS */
} tdn_control_spec;

/* Decodes a tdn_control_request for `operation` (TDN_CONTROL_*): what the
 * operation does not use must be empty, file data must lie in the stub's
 * half (from `stub_base`), and every path must stay inside the model's
 * directory. */
bool tdn_control_spec_decode(
    const uint8_t* arena, uint64_t arena_size, uint64_t stub_base, uint64_t offset,
    uint64_t length, uint32_t operation, tdn_control_spec* spec, tdn_diag* why);

/* Frees what a decode copied (also after a failed decode). */
void tdn_control_spec_free(tdn_control_spec* spec);

#endif /* TDN_BLS_REQUEST_H */
