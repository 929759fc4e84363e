/*
 * batch_codec.h: the EXECUTE record family, C's side (ffi/WIRE_FORMAT.md,
 * "Payloads"): one batch of Triton's requests, from their handles to the
 * payload bytes in the parent's half of the arena, in two steps:
 *
 * 1. Reading: tdn_batch_collect reads what Execute was handed
 *    (TRITONBACKEND_Request handles) into plain descriptions. Names,
 *    shapes and input buffers are Triton's and stay valid until the
 *    requests are released, which happens after the batch is done; only an
 *    input buffer in GPU memory is copied, to the host (cuda_copy.h). A
 *    request that cannot be sent (a GPU input without a CUDA runtime, an
 *    API error) gets its own error and is left out of the batch; the others
 *    go ahead. The request's parameters are written in the wire's form here.
 * 2. Encoding: tdn_batch_measure and tdn_batch_encode write the
 *    descriptions as the EXECUTE payload. They call nothing of Triton's:
 *    tests/wire/golden_c.c fills the descriptions from a fixed sample and
 *    runs this very encoder (its build links no Triton, and its link fails
 *    if the encoder ever reaches a Triton function).
 *
 * Payload layout (deterministic, so golden bytes can pin it): the batch
 * header at 0, then uint64 request_offsets[], then per request, in order:
 * its tdn_request, tdn_tensor inputs[], tdn_str requested_outputs[], the id
 * and correlation id string bytes, the requested output name bytes, and
 * then per input: its int64 shape[], its name bytes and its data. Structs
 * and shapes sit on 8-byte boundaries, data on TDN_TENSOR_ALIGN (64);
 * strings are packed. An empty string, array or data block has offset 0.
 * Alignment gaps are zero-filled. arena_used is the end rounded up to
 * TDN_TENSOR_ALIGN.
 *
 * Parameters on the wire ("Parameters"): a JSON object whose members are
 * the parameters in order, each {"type": "STRING"|"INT"|"BOOL"|"DOUBLE",
 * "value": "<text>"}, every value a string (an INT in decimal, a DOUBLE as
 * printed by %.17g or "nan"/"inf"/"-inf", a BOOL "true" or "false"). This
 * file writes that form (a request's parameters, and a BLS response's for
 * bls_payload.c); result_codec.h reads it back (a response's, a BLS
 * request's).
 */
#ifndef TDN_BATCH_CODEC_H
#define TDN_BATCH_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "triton_api.h"

/* ---- Descriptions and the encoder (no Triton) ---------------------------- */

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
  const char* parameters_json; /* the wire's parameter form (below), or NULL */
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

/* ---- Parameters, written in the wire's form -------------------------------- */

/* The parameters of another model's response (BLS, bls_payload.c) as wire
 * JSON; *json NULL (length 0) when it has none. BYTES parameters are
 * skipped. The caller frees *json. */
TRITONSERVER_Error* tdn_parameters_from_response(
    TRITONSERVER_InferenceResponse* response, char** json, size_t* length);

/* ---- Triton's requests -> descriptions ---------------------------------- */

typedef struct tdn_host_copy tdn_host_copy;

typedef struct tdn_collected_request {
  TRITONBACKEND_Request* request;
  TRITONSERVER_Error* error; /* non-NULL: answer with this, do not send */
  tdn_request_desc desc;     /* valid when error is NULL */
  tdn_host_copy* host_copies; /* host copies of its GPU input buffers */
} tdn_collected_request;

typedef struct tdn_collected_batch {
  uint32_t count;
  tdn_collected_request* requests; /* [count], in Triton's order */
  uint32_t sendable_count;
  tdn_request_desc* sendable;     /* descs of requests without error, in order */
  uint32_t* sendable_index;       /* sendable[i] is requests[sendable_index[i]] */
  TRITONBACKEND_Request** sendable_requests; /* their handles, in the same order */
  bool* cancel_sent;              /* [sendable_count]: CANCEL already sent */
  /* The batch size Triton's statistics want: for a model with
   * max_batch_size > 0 the sum of the sendable requests' batch dimensions
   * (the first dimension of their inputs), else the number of them. */
  uint64_t batch_size;
} tdn_collected_batch;

/* Fills `batch`: each request's description, its parameters in the wire's
 * form (BYTES parameters are skipped: Triton's HTTP and gRPC front ends
 * never make them). Fails only when out of memory (then nothing needs
 * freeing).
 * With max_batch_size > 0, a request whose inputs disagree on the batch
 * dimension, or whose batch dimension exceeds max_batch_size, gets its own
 * INVALID_ARG error. */
TRITONSERVER_Error* tdn_batch_collect(
    TRITONBACKEND_Request** requests, uint32_t count, uint64_t max_batch_size,
    tdn_collected_batch* batch);

/* Frees what collect allocated, including errors still attached. */
void tdn_collected_batch_free(tdn_collected_batch* batch);

#endif /* TDN_BATCH_CODEC_H */
