/*
 * batch_codec.c: see batch_codec.h. Three parts: the EXECUTE encoder (no
 * Triton: the golden test runs it), parameters written in the wire's form,
 * and the reading of Triton's requests into the descriptions the encoder
 * takes.
 */
#include "batch_codec.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_copy.h"
#include "errors.h"
#include "json_writer.h"
#include "tdn_wire.h"
#include "tensor_copy.h"

/* ---- The EXECUTE encoder -------------------------------------------------
 * One walk serves both measuring and writing, so the two can never disagree
 * about where something goes. */

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

/* A tensor's bytes: like put, but large copies stream (tensor_copy.h). */
static void put_tensor_bytes(cursor* c, uint64_t offset, const void* bytes, uint64_t size)
{
  if (c->arena != NULL && !c->overflow && size > 0) {
    tdn_tensor_copy(c->arena + offset, bytes, size);
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
    put_tensor_bytes(c, at, input->buffers[b].data, input->buffers[b].size);
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

/* ---- Parameters, written in the wire's form ------------------------------ */

static const char* type_name(TRITONSERVER_ParameterType type)
{
  switch (type) {
    case TRITONSERVER_PARAMETER_STRING:
      return "STRING";
    case TRITONSERVER_PARAMETER_INT:
      return "INT";
    case TRITONSERVER_PARAMETER_BOOL:
      return "BOOL";
    case TRITONSERVER_PARAMETER_DOUBLE:
      return "DOUBLE";
    default:
      return NULL;
  }
}

static void format_double(double value, char* text, size_t capacity)
{
  if (isnan(value)) {
    snprintf(text, capacity, "nan");
  } else if (isinf(value)) {
    snprintf(text, capacity, value > 0 ? "inf" : "-inf");
  } else {
    snprintf(text, capacity, "%.17g", value);
  }
}

/* Reads parameter `index` of whatever holds them (a request, a response). */
typedef TRITONSERVER_Error* (*parameter_getter)(
    void* holder, uint32_t index, const char** key, TRITONSERVER_ParameterType* type,
    const void** value);

/* The wire JSON of `count` parameters; NULL (length 0) when none is kept. */
static TRITONSERVER_Error* parameters_to_json(
    void* holder, uint32_t count, parameter_getter get, const char* whose, char** json,
    size_t* length)
{
  tdn_json_writer writer = {0};
  tdn_json_raw(&writer, "{");
  bool first = true;
  for (uint32_t i = 0; i < count; ++i) {
    const char* key = NULL;
    TRITONSERVER_ParameterType type = TRITONSERVER_PARAMETER_STRING;
    const void* value = NULL;
    TRITONSERVER_Error* error = get(holder, i, &key, &type, &value);
    if (error != NULL) {
      tdn_json_writer_free(&writer);
      return tdn_error_context(error, "cannot read parameter %u", i);
    }
    const char* name = type_name(type);
    if (name == NULL || key == NULL || value == NULL) {
      continue;
    }
    char number[64];
    const char* text = number;
    switch (type) {
      case TRITONSERVER_PARAMETER_STRING:
        text = value;
        break;
      case TRITONSERVER_PARAMETER_INT:
        snprintf(number, sizeof(number), "%" PRId64, *(const int64_t*)value);
        break;
      case TRITONSERVER_PARAMETER_BOOL:
        text = *(const bool*)value ? "true" : "false";
        break;
      default:
        format_double(*(const double*)value, number, sizeof(number));
        break;
    }
    tdn_json_raw(&writer, first ? "" : ",");
    first = false;
    tdn_json_string(&writer, key);
    tdn_json_raw(&writer, ":{");
    tdn_json_string_member(&writer, true, "type", name);
    tdn_json_string_member(&writer, false, "value", text);
    tdn_json_raw(&writer, "}");
  }
  tdn_json_raw(&writer, "}");
  if (first) {
    tdn_json_writer_free(&writer);
    return NULL;
  }
  const char* failure = writer.failure;
  *json = tdn_json_take(&writer, length);
  if (*json == NULL) {
    return tdn_error(
        TRITONSERVER_ERROR_INVALID_ARG, "cannot pass the %s parameters to the model: %s", whose,
        failure != NULL ? failure : "out of memory");
  }
  return NULL;
}

static TRITONSERVER_Error* request_parameter(
    void* holder, uint32_t index, const char** key, TRITONSERVER_ParameterType* type,
    const void** value)
{
  return TRITONBACKEND_RequestParameter(holder, index, key, type, value);
}

static TRITONSERVER_Error* response_parameter(
    void* holder, uint32_t index, const char** key, TRITONSERVER_ParameterType* type,
    const void** value)
{
  return TRITONSERVER_InferenceResponseParameter(holder, index, key, type, value);
}

static TRITONSERVER_Error* parameters_from_request(
    TRITONBACKEND_Request* request, char** json, size_t* length)
{
  *json = NULL;
  *length = 0;
  uint32_t count = 0;
  TDN_RETURN_IF_ERROR_CTX(
      TRITONBACKEND_RequestParameterCount(request, &count), "cannot count the parameters");
  return parameters_to_json(request, count, request_parameter, "request's", json, length);
}

TRITONSERVER_Error* tdn_parameters_from_response(
    TRITONSERVER_InferenceResponse* response, char** json, size_t* length)
{
  *json = NULL;
  *length = 0;
  uint32_t count = 0;
  TDN_RETURN_IF_ERROR_CTX(
      TRITONSERVER_InferenceResponseParameterCount(response, &count),
      "cannot count the response's parameters");
  return parameters_to_json(response, count, response_parameter, "response's", json, length);
}

/* ---- Triton's requests -> descriptions ----------------------------------- */

struct tdn_host_copy {
  tdn_host_copy* next;
  unsigned char data[];
};

/* Copies a GPU input buffer to the host; the copy lives as long as the
 * collected request. */
static TRITONSERVER_Error* copy_to_host(
    tdn_collected_request* owner, const char* input_name, int64_t device_id,
    tdn_input_buffer* buffer)
{
  tdn_host_copy* copy = malloc(sizeof(*copy) + (size_t)buffer->size);
  if (copy == NULL) {
    return tdn_error(
        TRITONSERVER_ERROR_INTERNAL, "input '%s': no host memory for a copy of %llu bytes",
        input_name, (unsigned long long)buffer->size);
  }
  tdn_diag why;
  if (buffer->size > 0 &&
      !tdn_cuda_copy_to_host(copy->data, buffer->data, (size_t)buffer->size, device_id, &why)) {
    free(copy);
    return tdn_error(
        TRITONSERVER_ERROR_UNSUPPORTED,
        "input '%s' is in the memory of GPU %lld and cannot be copied to the host: %s",
        input_name, (long long)device_id, why.text);
  }
  copy->next = owner->host_copies;
  owner->host_copies = copy;
  buffer->data = copy->data;
  return NULL;
}

static TRITONSERVER_Error* out_of_memory(void)
{
  return tdn_error(TRITONSERVER_ERROR_INTERNAL, "deno backend: out of memory");
}

static TRITONSERVER_Error* collect_input(
    TRITONBACKEND_Request* request, uint32_t index, tdn_input_desc* input,
    tdn_collected_request* owner)
{
  TRITONBACKEND_Input* handle = NULL;
  TDN_RETURN_IF_ERROR_CTX(
      TRITONBACKEND_RequestInputByIndex(request, index, &handle), "cannot read input %u", index);
  TRITONSERVER_DataType datatype;
  uint64_t byte_size = 0;
  uint32_t buffer_count = 0;
  TDN_RETURN_IF_ERROR_CTX(
      TRITONBACKEND_InputProperties(
          handle, &input->name, &datatype, &input->shape, &input->rank, &byte_size,
          &buffer_count),
      "cannot read the properties of input %u", index);
  input->datatype = (uint32_t)datatype;
  if (strlen(input->name) > TDN_MAX_NAME_LENGTH || input->rank > TDN_MAX_RANK) {
    return tdn_error(
        TRITONSERVER_ERROR_INVALID_ARG,
        "input '%.64s' has a name of %zu bytes and rank %u; at most %u bytes and rank %u are "
        "supported",
        input->name, strlen(input->name), input->rank, TDN_MAX_NAME_LENGTH, TDN_MAX_RANK);
  }
  if (buffer_count == 0) {
    return NULL;
  }
  tdn_input_buffer* buffers = calloc(buffer_count, sizeof(*buffers));
  if (buffers == NULL) {
    return out_of_memory();
  }
  input->buffers = buffers;
  input->buffer_count = buffer_count;
  uint64_t total = 0;
  for (uint32_t b = 0; b < buffer_count; ++b) {
    TRITONSERVER_MemoryType memory_type = TRITONSERVER_MEMORY_CPU;
    int64_t memory_type_id = 0;
    TDN_RETURN_IF_ERROR_CTX(
        TRITONBACKEND_InputBuffer(
            handle, b, &buffers[b].data, &buffers[b].size, &memory_type, &memory_type_id),
        "cannot read buffer %u of input '%s'", b, input->name);
    if (buffers[b].size > 0 && buffers[b].data == NULL) {
      return tdn_error(
          TRITONSERVER_ERROR_INTERNAL, "buffer %u of input '%s' has no data", b, input->name);
    }
    if (memory_type == TRITONSERVER_MEMORY_GPU) {
      TDN_RETURN_IF_ERROR(copy_to_host(owner, input->name, memory_type_id, &buffers[b]));
    } else if (memory_type != TRITONSERVER_MEMORY_CPU &&
               memory_type != TRITONSERVER_MEMORY_CPU_PINNED) {
      return tdn_error(
          TRITONSERVER_ERROR_UNSUPPORTED, "input '%s' is in memory of unknown type %d",
          input->name, (int)memory_type);
    }
    if (__builtin_add_overflow(total, buffers[b].size, &total)) {
      return tdn_error(TRITONSERVER_ERROR_INTERNAL, "input '%s' is too large", input->name);
    }
  }
  if (total != byte_size) {
    return tdn_error(
        TRITONSERVER_ERROR_INTERNAL, "input '%s' has %llu bytes in its buffers but declares %llu",
        input->name, (unsigned long long)total, (unsigned long long)byte_size);
  }
  return NULL;
}

static TRITONSERVER_Error* collect_identity(TRITONBACKEND_Request* request, tdn_request_desc* desc)
{
  TDN_RETURN_IF_ERROR_CTX(
      TRITONBACKEND_RequestId(request, &desc->id), "cannot read the request id");
  if (desc->id == NULL) {
    desc->id = "";
  }
  desc->correlation_id_string = "";
  /* The numeric form fails when the id is a string; then ask for that. */
  TRITONSERVER_Error* numeric = TRITONBACKEND_RequestCorrelationId(request, &desc->correlation_id);
  if (numeric != NULL) {
    TRITONSERVER_ErrorDelete(numeric);
    desc->correlation_id = 0;
    TDN_RETURN_IF_ERROR_CTX(
        TRITONBACKEND_RequestCorrelationIdString(request, &desc->correlation_id_string),
        "cannot read the correlation id");
    if (desc->correlation_id_string == NULL) {
      desc->correlation_id_string = "";
    }
  }
  TDN_RETURN_IF_ERROR_CTX(
      TRITONBACKEND_RequestFlags(request, &desc->flags), "cannot read the request flags");
  TDN_RETURN_IF_ERROR_CTX(
      TRITONBACKEND_InferenceRequestTimeoutMicroseconds(request, &desc->timeout_us),
      "cannot read the request timeout");
  return NULL;
}

static TRITONSERVER_Error* collect_request(
    TRITONBACKEND_Request* request, tdn_request_desc* desc, tdn_collected_request* owner)
{
  TDN_RETURN_IF_ERROR(collect_identity(request, desc));
  uint32_t input_count = 0;
  TDN_RETURN_IF_ERROR_CTX(
      TRITONBACKEND_RequestInputCount(request, &input_count), "cannot count the inputs");
  if (input_count > 0) {
    tdn_input_desc* inputs = calloc(input_count, sizeof(*inputs));
    if (inputs == NULL) {
      return out_of_memory();
    }
    desc->inputs = inputs;
    desc->input_count = input_count;
    for (uint32_t i = 0; i < input_count; ++i) {
      TDN_RETURN_IF_ERROR(collect_input(request, i, &inputs[i], owner));
    }
  }
  uint32_t output_count = 0;
  TDN_RETURN_IF_ERROR_CTX(
      TRITONBACKEND_RequestOutputCount(request, &output_count),
      "cannot count the requested outputs");
  if (output_count > 0) {
    const char** names = calloc(output_count, sizeof(*names));
    if (names == NULL) {
      return out_of_memory();
    }
    desc->requested_outputs = names;
    desc->requested_output_count = output_count;
    for (uint32_t i = 0; i < output_count; ++i) {
      TDN_RETURN_IF_ERROR_CTX(
          TRITONBACKEND_RequestOutputName(request, i, &names[i]),
          "cannot read requested output %u", i);
      if (strlen(names[i]) > TDN_MAX_NAME_LENGTH) {
        return tdn_error(
            TRITONSERVER_ERROR_INVALID_ARG,
            "requested output '%.64s...' has a name longer than %u bytes", names[i],
            TDN_MAX_NAME_LENGTH);
      }
    }
  }
  char* parameters = NULL;
  size_t parameters_length = 0;
  TDN_RETURN_IF_ERROR(parameters_from_request(request, &parameters, &parameters_length));
  desc->parameters_json = parameters;
  desc->parameters_json_length = parameters_length;
  return NULL;
}

/* A batching model's request: every input's first dimension is the
 * request's batch size, at least 1 and at most max_batch_size. */
static TRITONSERVER_Error* batch_dimension(
    const tdn_request_desc* desc, uint64_t max_batch_size, uint64_t* size)
{
  *size = 1;
  for (uint32_t i = 0; i < desc->input_count; ++i) {
    const tdn_input_desc* input = &desc->inputs[i];
    if (input->rank == 0) {
      return tdn_error(
          TRITONSERVER_ERROR_INVALID_ARG,
          "input '%s' has no batch dimension, but the model batches (max_batch_size %llu)",
          input->name, (unsigned long long)max_batch_size);
    }
    const int64_t dimension = input->shape[0];
    if (i == 0) {
      *size = dimension < 0 ? 0 : (uint64_t)dimension;
    } else if ((uint64_t)dimension != *size) {
      return tdn_error(
          TRITONSERVER_ERROR_INVALID_ARG,
          "input '%s' has batch dimension %lld but input '%s' has %llu", input->name,
          (long long)dimension, desc->inputs[0].name, (unsigned long long)*size);
    }
  }
  if (*size < 1 || *size > max_batch_size) {
    return tdn_error(
        TRITONSERVER_ERROR_INVALID_ARG,
        "the request's batch dimension is %llu; the model takes 1 to max_batch_size %llu",
        (unsigned long long)*size, (unsigned long long)max_batch_size);
  }
  return NULL;
}

TRITONSERVER_Error* tdn_batch_collect(
    TRITONBACKEND_Request** requests, uint32_t count, uint64_t max_batch_size,
    tdn_collected_batch* batch)
{
  memset(batch, 0, sizeof(*batch));
  if (count == 0) {
    return NULL;
  }
  batch->requests = calloc(count, sizeof(*batch->requests));
  batch->sendable = calloc(count, sizeof(*batch->sendable));
  batch->sendable_index = calloc(count, sizeof(*batch->sendable_index));
  batch->sendable_requests = calloc(count, sizeof(*batch->sendable_requests));
  batch->cancel_sent = calloc(count, sizeof(*batch->cancel_sent));
  if (batch->requests == NULL || batch->sendable == NULL || batch->sendable_index == NULL ||
      batch->sendable_requests == NULL || batch->cancel_sent == NULL) {
    tdn_collected_batch_free(batch);
    return out_of_memory();
  }
  batch->count = count;
  for (uint32_t r = 0; r < count; ++r) {
    tdn_collected_request* collected = &batch->requests[r];
    collected->request = requests[r];
    collected->error = collect_request(requests[r], &collected->desc, collected);
    uint64_t size = 1;
    if (collected->error == NULL && max_batch_size > 0) {
      collected->error = batch_dimension(&collected->desc, max_batch_size, &size);
    }
    if (collected->error != NULL && collected->desc.id != NULL && collected->desc.id[0] != '\0') {
      collected->error = tdn_error_context(collected->error, "request '%s'", collected->desc.id);
    }
    if (collected->error == NULL) {
      batch->sendable[batch->sendable_count] = collected->desc;
      batch->sendable_index[batch->sendable_count] = r;
      batch->sendable_requests[batch->sendable_count] = requests[r];
      batch->sendable_count++;
      batch->batch_size += size;
    }
  }
  return NULL;
}

void tdn_collected_batch_free(tdn_collected_batch* batch)
{
  for (uint32_t r = 0; r < batch->count; ++r) {
    tdn_collected_request* collected = &batch->requests[r];
    for (uint32_t i = 0; i < collected->desc.input_count; ++i) {
      free((void*)collected->desc.inputs[i].buffers);
    }
    free((void*)collected->desc.inputs);
    free((void*)collected->desc.requested_outputs);
    free((void*)collected->desc.parameters_json);
    while (collected->host_copies != NULL) {
      tdn_host_copy* next = collected->host_copies->next;
      free(collected->host_copies);
      collected->host_copies = next;
    }
    if (collected->error != NULL) {
      TRITONSERVER_ErrorDelete(collected->error);
    }
  }
  free(batch->requests);
  free(batch->sendable);
  free(batch->sendable_index);
  free(batch->sendable_requests);
  free(batch->cancel_sent);
  memset(batch, 0, sizeof(*batch));
}
