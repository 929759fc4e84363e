/*
 * batch_writer.h: encodes a batch of requests into the arena as an EXECUTE
 * payload (ffi/WIRE_FORMAT.md, "Payloads").
 *
 * The input is plain C structs, not Triton handles: batch_collect.c fills
 * them from TRITONBACKEND_Request objects, and tests/wire/golden_c.c fills
 * them from a fixed sample, so both go through the same encoder.
 *
 * Layout (deterministic, so golden bytes can pin it): the batch header at 0,
 * then uint64 request_offsets[], then per request, in order: its
 * tdn_request, tdn_tensor inputs[], tdn_str requested_outputs[], the id and
 * correlation id string bytes, the requested output name bytes, and then per
 * input: its int64 shape[], its name bytes and its data. Structs and shapes
 * sit on 8-byte boundaries, data on TDN_TENSOR_ALIGN (64); strings are
 * packed. An empty string, array or data block has offset 0. Alignment gaps
 * are zero-filled. arena_used is the end rounded up to TDN_TENSOR_ALIGN.
 */
#ifndef TDN_BATCH_WRITER_H
#define TDN_BATCH_WRITER_H

#include <stdbool.h>
#include <stdint.h>

#include "diag.h"

/* One contiguous piece of an input's data (Triton may split an input). */
typedef struct tdn_input_buffer {
  const void* data;
  uint64_t size;
} tdn_input_buffer;

typedef struct tdn_input_desc {
  const char* name;
  uint32_t datatype; /* TRITONSERVER_DataType */
  uint32_t rank;
  const int64_t* shape;
  uint32_t buffer_count;
  const tdn_input_buffer* buffers; /* concatenated, they are the tensor's data */
} tdn_input_desc;

typedef struct tdn_request_desc {
  const char* id;                    /* "" when the request has none */
  const char* correlation_id_string; /* "" unless the correlation id is a string */
  uint64_t correlation_id;           /* 0 when it is a string */
  uint32_t flags;                    /* TRITONSERVER_RequestFlag bits */
  uint32_t input_count;
  const tdn_input_desc* inputs;
  uint32_t requested_output_count; /* 0 means "all outputs" */
  const char* const* requested_outputs;
  const char* parameters_json; /* parameters.h's wire JSON, or NULL */
  size_t parameters_json_length;
  uint64_t timeout_us; /* the request's timeout in microseconds, 0: none */
} tdn_request_desc;

/* Computes the arena bytes the batch needs when written at offset 0 (the
 * same at any TDN_TENSOR_ALIGN boundary). False, with a message, if a count
 * or length does not fit the wire format. */
bool tdn_batch_measure(
    const tdn_request_desc* requests, uint32_t request_count, uint64_t* arena_used,
    tdn_diag* diag);

/* Writes the batch in the block [base, base + size) of the arena (base a
 * multiple of TDN_TENSOR_ALIGN); *arena_used receives the payload's end
 * offset. Fails, writing nothing, if the batch does not fit. */
bool tdn_batch_encode(
    uint8_t* arena, uint64_t base, uint64_t size, const tdn_request_desc* requests,
    uint32_t request_count, uint64_t* arena_used, tdn_diag* diag);

#endif /* TDN_BATCH_WRITER_H */
