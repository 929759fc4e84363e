/*
 * batch_codec.h: the codec of a batch's exchange with the stub, C's side
 * (ffi/WIRE_FORMAT.md, "Payloads"), both directions: from Triton's request
 * handles to the EXECUTE payload in the parent's half of the arena, and from
 * the stub's RESULT/RESPONSE bytes back to Triton's responses. What is where
 * (the same sections, in the same order, in batch_codec.c):
 *
 * 1. The EXECUTE encoder: tdn_batch_measure and tdn_batch_encode write
 *    plain descriptions of the requests as the EXECUTE payload. They call
 *    nothing of Triton's.
 * 2. Parameters in the wire's form, both ways: written from a request's or
 *    a response's parameters (Triton glue), read back and checked from what
 *    the stub wrote (no Triton).
 * 3. Reading Triton's requests: tdn_batch_collect reads what Execute was
 *    handed (TRITONBACKEND_Request handles) into the descriptions. Names,
 *    shapes and input buffers are Triton's and stay valid until the
 *    requests are released, which happens after the batch is done; only an
 *    input buffer in GPU memory is copied, to the host (cuda_copy.h). A
 *    request that cannot be sent (a GPU input without a CUDA runtime, an
 *    API error) gets its own error and is left out of the batch; the others
 *    go ahead. The request's parameters are written in the wire's form here.
 * 4. The RESULT/RESPONSE decoder, the trust boundary: what the stub wrote is
 *    untrusted, validated and copied into plain C structs ("What the parent
 *    trusts"). Everything is copied out of the arena once: numbers into the
 *    structs, names, error text and parameters (read from the wire's form)
 *    into our own memory. Tensor data stays in the arena and is described
 *    by a checked (offset, size).
 * 5. The BLS_RESPONSE encoder: the one-response layout the parent writes
 *    (tdn_result_header, tdn_response, tdn_tensor[output_count], the shapes
 *    (int64[rank] each), then the strings (error message, output names,
 *    parameters)). The output data is placed by the caller; the encoder
 *    writes only the structs and strings, into memory it is handed.
 * 6. Filling Triton's responses: one final response per request, built
 *    from a decoded response or from an error, with its outputs copied from
 *    the arena into Triton's buffers (the one place tensor bytes leave the
 *    arena); for decoupled models, any number of responses per request
 *    through its response factory.
 *
 * The encoders and the decoder (1, 4, 5, and the parameter reader of 2) call
 * nothing of Triton's, so tests/wire/golden_c.c fills the descriptions from
 * a fixed sample and runs the very code the backend runs, both ways (its
 * build links no Triton and keeps only the code it reaches, so its link
 * fails if an encoder or the decoder ever reaches a Triton function); only
 * the Triton glue (the parameter writer of 2, 3 and 6) talks to Triton.
 *
 * EXECUTE payload layout (deterministic, so golden bytes can pin it): the
 * batch header at 0, then uint64 request_offsets[], then per request, in
 * order: its tdn_request, tdn_tensor inputs[], tdn_str requested_outputs[],
 * the id and correlation id string bytes, the requested output name bytes,
 * and then per input: its int64 shape[], its name bytes and its data.
 * Structs and shapes sit on 8-byte boundaries, data on TDN_TENSOR_ALIGN
 * (64); strings are packed. An empty string, array or data block has offset
 * 0. Alignment gaps are zero-filled. arena_used is the end rounded up to
 * TDN_TENSOR_ALIGN.
 *
 * Parameters on the wire ("Parameters"): a JSON object whose members are
 * the parameters in order, each {"type": "STRING"|"INT"|"BOOL"|"DOUBLE",
 * "value": "<text>"}, every value a string (an INT in decimal, a DOUBLE as
 * printed by %.17g or "nan"/"inf"/"-inf", a BOOL "true" or "false"). This
 * module writes that form (a request's parameters, and a BLS response's for
 * bls_payload.c) and reads it back (a response's here, a BLS request's for
 * bls_request.c).
 */
#ifndef TDN_BATCH_CODEC_H
#define TDN_BATCH_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena_view.h"
#include "diag.h"
#include "tdn_wire.h"
#include "triton_api.h"

/* ---- 1. Descriptions and the EXECUTE encoder (no Triton) ----------------- */

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
  const char* parameters_json; /* the wire's parameter form (above), or NULL */
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

/* ---- 2. Parameters in the wire's form, both ways ------------------------- */

/* The parameters of another model's response (BLS, bls_payload.c) as wire
 * JSON; *json NULL (length 0) when it has none. BYTES parameters are
 * skipped. The caller frees *json. */
TRITONSERVER_Error* tdn_parameters_from_response(
    TRITONSERVER_InferenceResponse* response, char** json, size_t* length);

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

/* ---- 3. Reading Triton's requests into descriptions ---------------------- */

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

/* ---- 4. The RESULT/RESPONSE decoder: the trust boundary (no Triton) ------ */

/* A tensor header the stub wrote, checked: an output of a response here, an
 * input of a BLS request (bls_request.h). */
typedef struct tdn_tensor_view {
  char* name;      /* valid UTF-8, 1..TDN_MAX_NAME_LENGTH bytes */
  uint32_t datatype; /* a valid TRITONSERVER_DataType */
  uint32_t rank;
  int64_t* shape;  /* rank dims, each >= 0; NULL when rank is 0 */
  uint64_t element_count;
  uint64_t data_offset; /* arena-relative; [offset, offset + size) is inside the rules' region */
  uint64_t data_size;   /* matches the shape and datatype */
} tdn_tensor_view;

/* What differs between the readers of a tdn_tensor. */
typedef struct tdn_tensor_rules {
  const char* kind;     /* begins each message: "returned output", "input" */
  const char* where;    /* follows the index while the name is unknown: " of response 2", "" */
  const char* region;   /* where the data must lie: "the arena", "the stub's half" */
  uint64_t data_start;  /* the region is [data_start, arena size) */
  bool aligned;         /* data_offset must be a multiple of TDN_TENSOR_ALIGN */
} tdn_tensor_rules;

/* The one place a tensor header the stub wrote is checked: name, datatype,
 * rank, shape (copied), element count, data region and size. BYTES data is
 * checked in place when `bytes_copy` is NULL (the caller checks its own copy
 * again before anyone reads it); otherwise it is first copied into
 * *bytes_copy (ours to free) and the copy is checked, so the stub cannot
 * change it after. False with `why` naming the tensor and the field; `out`
 * (zeroed by the caller) is then partly filled, still freeable. */
bool tdn_tensor_decode(
    const arena_view* arena, const tdn_tensor* tensor, uint32_t index,
    const tdn_tensor_rules* rules, tdn_tensor_view* out, uint8_t** bytes_copy, tdn_diag* why);

typedef struct tdn_response_view {
  /* NULL when the response is well-formed; otherwise what was wrong with
   * it, phrased to follow "stub for instance 'X' " (the rest is unset). */
  char* problem;
  uint32_t status;      /* TDN_STATUS_OK or TDN_STATUS_ERROR */
  uint32_t error_code;  /* a TRITONSERVER_Error_Code */
  bool reschedule;      /* TDN_RESPONSE_RESCHEDULE: no response, release with RESCHEDULE */
  char* error_message;  /* NUL-terminated; invalid UTF-8 and NULs replaced by '?' */
  uint32_t output_count;
  tdn_tensor_view* outputs;
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

/* ---- 5. The BLS_RESPONSE encoder (no Triton) ----------------------------- */

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

/* ---- 6. Filling Triton's responses --------------------------------------- */

/* NULL when the result's tensor bytes (of its well-formed responses) are
 * within `limit` (deno.max_output_bytes); otherwise logs a warning and
 * returns the error for the batch's clients (the caller's). */
TRITONSERVER_Error* tdn_result_check_volume(
    const tdn_result_view* result, uint64_t limit, const char* model_name,
    const char* instance_name);

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

#endif /* TDN_BATCH_CODEC_H */
