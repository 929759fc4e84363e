/*
 * batch_writer.c: EXECUTE payload encoder (see batch_writer.h for the
 * layout). One walk serves both measuring and writing, so the two can never
 * disagree about where something goes.
 */
#include "batch_writer.h"

#include <string.h>

#include "tdn_wire.h"

/* A bump cursor over the arena. With arena == NULL it only counts. */
typedef struct cursor {
  uint8_t* arena;
  uint64_t limit;
  uint64_t end;
  bool overflow;
} cursor;

/* Reserves `size` bytes aligned to `align` (a power of two) and returns their
 * offset; zero-fills the alignment gap so the bytes are deterministic. An
 * empty reservation returns 0 and does not move the cursor. */
static uint64_t reserve(cursor* c, uint64_t size, uint64_t align)
{
  if (size == 0 || c->overflow) {
    return 0;
  }
  const uint64_t start = (c->end + (align - 1)) & ~(align - 1);
  uint64_t end;
  if (start < c->end || __builtin_add_overflow(start, size, &end) || end > c->limit) {
    c->overflow = true;
    return 0;
  }
  if (c->arena != NULL) {
    memset(c->arena + c->end, 0, start - c->end);
  }
  c->end = end;
  return start;
}

static void put(cursor* c, uint64_t offset, const void* bytes, uint64_t size)
{
  if (c->arena != NULL && !c->overflow && size > 0) {
    memcpy(c->arena + offset, bytes, size);
  }
}

/* Reserves and writes `length` bytes as a string (checked by check_limits). */
static tdn_str put_bytes(cursor* c, const char* text, size_t length)
{
  tdn_str str;
  memset(&str, 0, sizeof(str));
  str.length = (uint32_t)length;
  str.offset = reserve(c, length, 1);
  put(c, str.offset, text, length);
  return str;
}

/* Reserves and writes a string (lengths were checked by check_limits). */
static tdn_str put_string(cursor* c, const char* text)
{
  return put_bytes(c, text, strlen(text));
}

/* Multiplies for an array size, flagging overflow on the cursor. */
static uint64_t array_bytes(cursor* c, uint64_t count, uint64_t element_size)
{
  uint64_t bytes;
  if (__builtin_mul_overflow(count, element_size, &bytes)) {
    c->overflow = true;
    return 0;
  }
  return bytes;
}

static bool check_limits(const tdn_request_desc* request, uint32_t index, tdn_diag* diag)
{
  if (strlen(request->id) > UINT32_MAX || strlen(request->correlation_id_string) > UINT32_MAX ||
      request->parameters_json_length > UINT32_MAX) {
    return tdn_diag_set(
        diag, "request %u: id, correlation id or parameters longer than 4 GiB", index);
  }
  for (uint32_t i = 0; i < request->input_count; ++i) {
    const tdn_input_desc* input = &request->inputs[i];
    if (strlen(input->name) > TDN_MAX_NAME_LENGTH) {
      return tdn_diag_set(
          diag, "request %u: an input name is longer than %u bytes", index, TDN_MAX_NAME_LENGTH);
    }
    if (input->rank > TDN_MAX_RANK) {
      return tdn_diag_set(
          diag, "request %u: input '%s' has rank %u, more than the %u supported", index,
          input->name, input->rank, TDN_MAX_RANK);
    }
  }
  for (uint32_t i = 0; i < request->requested_output_count; ++i) {
    if (strlen(request->requested_outputs[i]) > TDN_MAX_NAME_LENGTH) {
      return tdn_diag_set(
          diag, "request %u: a requested output name is longer than %u bytes", index,
          TDN_MAX_NAME_LENGTH);
    }
  }
  return true;
}

/* Places one input's shape, name and data and writes its tdn_tensor. */
static void walk_input(cursor* c, const tdn_input_desc* input, uint64_t tensor_offset)
{
  tdn_tensor tensor;
  memset(&tensor, 0, sizeof(tensor));

  const uint64_t shape_bytes = array_bytes(c, input->rank, sizeof(int64_t));
  tensor.shape_offset = reserve(c, shape_bytes, 8);
  put(c, tensor.shape_offset, input->shape, shape_bytes);

  tensor.name = put_string(c, input->name);
  tensor.datatype = input->datatype;
  tensor.rank = input->rank;

  uint64_t data_size = 0;
  for (uint32_t b = 0; b < input->buffer_count; ++b) {
    if (__builtin_add_overflow(data_size, input->buffers[b].size, &data_size)) {
      c->overflow = true;
    }
  }
  tensor.data_size = data_size;
  tensor.data_offset = reserve(c, data_size, TDN_TENSOR_ALIGN);
  /* Each buffer is copied exactly once, straight into the arena. */
  uint64_t at = tensor.data_offset;
  for (uint32_t b = 0; b < input->buffer_count; ++b) {
    put(c, at, input->buffers[b].data, input->buffers[b].size);
    at += input->buffers[b].size;
  }
  put(c, tensor_offset, &tensor, sizeof(tensor));
}

static uint64_t walk_request(cursor* c, const tdn_request_desc* request)
{
  const uint64_t request_offset = reserve(c, sizeof(tdn_request), 8);
  const uint64_t inputs_offset =
      reserve(c, array_bytes(c, request->input_count, sizeof(tdn_tensor)), 8);
  const uint64_t outputs_offset =
      reserve(c, array_bytes(c, request->requested_output_count, sizeof(tdn_str)), 8);

  tdn_request wire;
  memset(&wire, 0, sizeof(wire));
  wire.id = put_string(c, request->id);
  wire.correlation_id_string = put_string(c, request->correlation_id_string);
  wire.correlation_id = request->correlation_id;
  wire.flags = request->flags;
  wire.input_count = request->input_count;
  wire.inputs_offset = inputs_offset;
  wire.requested_output_count = request->requested_output_count;
  wire.requested_outputs_offset = outputs_offset;
  wire.timeout_us = request->timeout_us;
  if (request->parameters_json != NULL && request->parameters_json_length > 0) {
    wire.parameters_json = put_bytes(c, request->parameters_json, request->parameters_json_length);
  }

  for (uint32_t i = 0; i < request->requested_output_count; ++i) {
    const tdn_str name = put_string(c, request->requested_outputs[i]);
    put(c, outputs_offset + (uint64_t)i * sizeof(tdn_str), &name, sizeof(name));
  }
  for (uint32_t i = 0; i < request->input_count; ++i) {
    walk_input(c, &request->inputs[i], inputs_offset + (uint64_t)i * sizeof(tdn_tensor));
  }
  put(c, request_offset, &wire, sizeof(wire));
  return request_offset;
}

static bool walk_batch(
    cursor* c, const tdn_request_desc* requests, uint32_t request_count, uint64_t* arena_used,
    tdn_diag* diag)
{
  for (uint32_t r = 0; r < request_count; ++r) {
    if (!check_limits(&requests[r], r, diag)) {
      return false;
    }
  }
  const uint64_t header_offset = reserve(c, sizeof(tdn_batch_header), 8);
  const uint64_t offsets_offset = reserve(c, (uint64_t)request_count * sizeof(uint64_t), 8);
  for (uint32_t r = 0; r < request_count; ++r) {
    const uint64_t request_offset = walk_request(c, &requests[r]);
    put(c, offsets_offset + (uint64_t)r * sizeof(uint64_t), &request_offset,
        sizeof(request_offset));
  }
  /* Pad to the tensor boundary (zero-filled, like every gap): the payload
   * is a whole number of alignment units. */
  const uint64_t end = c->end;
  const uint64_t padded = (end + (TDN_TENSOR_ALIGN - 1)) & ~(uint64_t)(TDN_TENSOR_ALIGN - 1);
  if (padded < end || padded > c->limit) {
    c->overflow = true;
  }
  if (c->overflow) {
    return c->arena == NULL
               ? tdn_diag_set(diag, "the batch is larger than the wire format can describe")
               : tdn_diag_set(
                     diag, "the batch does not fit in %llu arena bytes",
                     (unsigned long long)c->limit);
  }
  if (c->arena != NULL) {
    memset(c->arena + end, 0, padded - end);
  }
  tdn_batch_header header;
  memset(&header, 0, sizeof(header));
  header.request_count = request_count;
  header.arena_used = padded;
  put(c, header_offset, &header, sizeof(header));
  *arena_used = padded;
  return true;
}

bool tdn_batch_measure(
    const tdn_request_desc* requests, uint32_t request_count, uint64_t* arena_used,
    tdn_diag* diag)
{
  cursor c = {.arena = NULL, .limit = UINT64_MAX, .end = 0, .overflow = false};
  return walk_batch(&c, requests, request_count, arena_used, diag);
}

bool tdn_batch_encode(
    uint8_t* arena, uint64_t base, uint64_t size, const tdn_request_desc* requests,
    uint32_t request_count, uint64_t* arena_used, tdn_diag* diag)
{
  /* Measure first so a batch that does not fit writes nothing at all. */
  uint64_t needed;
  if (!tdn_batch_measure(requests, request_count, &needed, diag)) {
    return false;
  }
  if (needed > size || base % TDN_TENSOR_ALIGN != 0) {
    return tdn_diag_set(
        diag, "the batch needs %llu arena bytes but the block at %llu has %llu",
        (unsigned long long)needed, (unsigned long long)base, (unsigned long long)size);
  }
  cursor c = {.arena = arena, .limit = base + size, .end = base, .overflow = false};
  return walk_batch(&c, requests, request_count, arena_used, diag);
}
