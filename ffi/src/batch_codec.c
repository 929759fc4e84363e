/*
 * batch_codec.c: see batch_codec.h. The codec of a batch's exchange with the
 * stub, both directions, in the header's six sections and order:
 *
 *   1. The EXECUTE encoder            descriptions -> EXECUTE bytes (no Triton)
 *   2. Parameters                     the wire's JSON form: written from
 *                                     Triton's getters, read back and checked
 *   3. Reading Triton's requests      TRITONBACKEND_Request -> descriptions
 *   4. The RESULT/RESPONSE decoder    the trust boundary: untrusted stub bytes
 *                                     -> checked views (no Triton)
 *   5. The BLS_RESPONSE encoder       one response -> arena bytes (no Triton)
 *   6. Filling Triton's responses     checked views -> TRITONBACKEND_Response
 *
 * A request's path through this file: 3 (tdn_batch_collect, with 2 writing
 * its parameters), 1 (tdn_batch_encode, called by the supervisor), then,
 * once the stub has answered, 4 (tdn_result_decode, with 2 reading the
 * response's parameters) and 6 (tdn_respond_result). 5 serves BLS: another
 * model's response, written for the stub (bls_payload.c).
 */
#include "batch_codec.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena_view.h"
#include "cuda_copy.h"
#include "datatype.h"
#include "errors.h"
#include "json_reader.h"
#include "json_writer.h"
#include "log.h"
#include "tensor_copy.h"
#include "utf8.h"

/* ==== 1. The EXECUTE encoder (no Triton) =====================================
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

/* A tdn_str: `length` bytes at `offset` (lengths are checked by the callers'
 * limits). Both encoders (EXECUTE, BLS_RESPONSE) describe strings with it. */
static tdn_str str_at(uint64_t offset, size_t length)
{
  tdn_str str;
  memset(&str, 0, sizeof(str));
  str.offset = offset;
  str.length = (uint32_t)length;
  return str;
}

/* Reserves and writes `length` bytes as a string (checked by check_limits). */
static tdn_str put_bytes(cursor* c, const char* text, size_t length)
{
  const tdn_str str = str_at(reserve(c, length, 1), length);
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

/* ==== 2. Parameters in the wire's form, both ways ============================
 * Written from Triton's getters (a request's, another model's response's);
 * read back, checked, from what the stub wrote (no Triton). */

/* The kinds a parameter may have on the wire, by their wire names: the one
 * table both directions use, so the writer and the reader cannot disagree. */
static const struct parameter_kind {
  TRITONSERVER_ParameterType type;
  const char* name;
} parameter_kinds[] = {
    {TRITONSERVER_PARAMETER_STRING, "STRING"},
    {TRITONSERVER_PARAMETER_INT, "INT"},
    {TRITONSERVER_PARAMETER_BOOL, "BOOL"},
    {TRITONSERVER_PARAMETER_DOUBLE, "DOUBLE"},
};

/* The wire name of `type`; NULL for a kind the wire does not carry (BYTES). */
static const char* type_name(TRITONSERVER_ParameterType type)
{
  for (size_t i = 0; i < sizeof(parameter_kinds) / sizeof(parameter_kinds[0]); ++i) {
    if (parameter_kinds[i].type == type) {
      return parameter_kinds[i].name;
    }
  }
  return NULL;
}

/* The kind whose wire name is `name`; false if there is none. */
static bool type_from_name(const char* name, TRITONSERVER_ParameterType* type)
{
  for (size_t i = 0; i < sizeof(parameter_kinds) / sizeof(parameter_kinds[0]); ++i) {
    if (strcmp(parameter_kinds[i].name, name) == 0) {
      *type = parameter_kinds[i].type;
      return true;
    }
  }
  return false;
}

/* ---- Written in the wire's form ------------------------------------------ */

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

/* ---- Read from the wire's form (no Triton) ------------------------------- */

static bool parse_value(tdn_parameter* parameter, const char* type, const char* text, tdn_diag* diag)
{
  if (!type_from_name(type, &parameter->type)) {
    return tdn_diag_set(
        diag, "parameter '%s' has type '%.32s'; expected STRING, INT, BOOL or DOUBLE",
        parameter->key, type);
  }
  char* end = NULL;
  switch (parameter->type) {
    case TRITONSERVER_PARAMETER_STRING:
      parameter->string_value = strdup(text);
      return parameter->string_value != NULL || tdn_diag_set(diag, "out of memory");
    case TRITONSERVER_PARAMETER_INT: {
      errno = 0;
      const long long value = strtoll(text, &end, 10);
      if (errno != 0 || end == text || *end != '\0') {
        return tdn_diag_set(diag, "INT parameter '%s' has value '%.64s'", parameter->key, text);
      }
      parameter->int_value = value;
      return true;
    }
    case TRITONSERVER_PARAMETER_BOOL:
      if (strcmp(text, "true") != 0 && strcmp(text, "false") != 0) {
        return tdn_diag_set(diag, "BOOL parameter '%s' has value '%.64s'", parameter->key, text);
      }
      parameter->bool_value = text[0] == 't';
      return true;
    default: {
      errno = 0;
      const double value = strtod(text, &end);
      if (errno == ERANGE || end == text || *end != '\0') {
        return tdn_diag_set(
            diag, "DOUBLE parameter '%s' has value '%.64s'", parameter->key, text);
      }
      parameter->double_value = value;
      return true;
    }
  }
}

bool tdn_parameters_parse(
    const char* text, size_t length, tdn_parameter_list* list, tdn_diag* diag)
{
  memset(list, 0, sizeof(*list));
  if (length == 0) {
    return true;
  }
  tdn_diag why;
  tdn_json_value* root = tdn_json_parse(text, length, 2, &why);
  if (root == NULL) {
    return tdn_diag_set(diag, "parameters are not valid: %s", why.text);
  }
  bool ok = true;
  if (root->kind != TDN_JSON_OBJECT) {
    ok = tdn_diag_set(diag, "parameters must be a JSON object");
  } else if (root->member_count > TDN_MAX_PARAMETERS) {
    ok = tdn_diag_set(
        diag, "%zu parameters, at most %u allowed", root->member_count, TDN_MAX_PARAMETERS);
  } else if (root->member_count > 0) {
    list->items = calloc(root->member_count, sizeof(tdn_parameter));
    ok = list->items != NULL || tdn_diag_set(diag, "out of memory");
  }
  for (size_t i = 0; ok && root->kind == TDN_JSON_OBJECT && i < root->member_count; ++i) {
    const tdn_json_member* member = &root->members[i];
    tdn_parameter* parameter = &list->items[i];
    parameter->key = strdup(member->key);
    list->count++;
    if (parameter->key == NULL) {
      ok = tdn_diag_set(diag, "out of memory");
      break;
    }
    if (member->key[0] == '\0' || strlen(member->key) > TDN_MAX_PARAMETER_TEXT) {
      ok = tdn_diag_set(diag, "a parameter name is empty or longer than %u bytes",
                        TDN_MAX_PARAMETER_TEXT);
      break;
    }
    const tdn_json_value* type = tdn_json_member_value(member->value, "type");
    const tdn_json_value* value = tdn_json_member_value(member->value, "value");
    if (member->value->kind != TDN_JSON_OBJECT || type == NULL || value == NULL ||
        type->kind != TDN_JSON_STRING || value->kind != TDN_JSON_STRING ||
        member->value->member_count != 2) {
      ok = tdn_diag_set(
          diag, "parameter '%s' must be {\"type\": ..., \"value\": ...} with string members",
          member->key);
      break;
    }
    if (strlen(value->string) > TDN_MAX_PARAMETER_TEXT) {
      ok = tdn_diag_set(
          diag, "parameter '%s' is longer than %u bytes", member->key, TDN_MAX_PARAMETER_TEXT);
      break;
    }
    ok = parse_value(parameter, type->string, value->string, diag);
  }
  tdn_json_free(root);
  if (!ok) {
    tdn_parameter_list_free(list);
  }
  return ok;
}

void tdn_parameter_list_free(tdn_parameter_list* list)
{
  for (uint32_t i = 0; i < list->count; ++i) {
    free(list->items[i].key);
    free(list->items[i].string_value);
  }
  free(list->items);
  memset(list, 0, sizeof(*list));
}

/* ==== 3. Reading Triton's requests into descriptions ====================== */

struct tdn_host_copy {
  tdn_host_copy* next;
  unsigned char data[];
};

/* Memory the parent reads and writes directly (inputs here, outputs in 6). */
static bool is_host_memory(TRITONSERVER_MemoryType memory_type)
{
  return memory_type == TRITONSERVER_MEMORY_CPU || memory_type == TRITONSERVER_MEMORY_CPU_PINNED;
}

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
    } else if (!is_host_memory(memory_type)) {
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

/* ==== 4. The RESULT/RESPONSE decoder: the trust boundary (no Triton) =========
 * Everything here reads bytes the stub wrote, which are untrusted. Every read
 * from the arena goes through read_struct() (arena_view.h), which
 * bounds-checks and copies, so the stub can neither send us out of bounds nor
 * change a value between our check and our use of it. */

void tdn_format_shape(char* text, size_t capacity, const int64_t* shape, uint32_t rank)
{
  size_t at = 0;
  int written = snprintf(text, capacity, "[");
  for (uint32_t i = 0; written >= 0 && i < rank; ++i) {
    at += (size_t)written;
    if (at >= capacity) {
      return;
    }
    written = snprintf(text + at, capacity - at, i == 0 ? "%lld" : ",%lld", (long long)shape[i]);
  }
  if (written >= 0) {
    at += (size_t)written;
    if (at < capacity) {
      snprintf(text + at, capacity - at, "]");
    }
  }
}

bool tdn_bytes_layout_is_valid(const uint8_t* data, uint64_t size, uint64_t element_count)
{
  uint64_t at = 0;
  for (uint64_t element = 0; element < element_count; ++element) {
    uint32_t length;
    if (size - at < sizeof(length)) {
      return false;
    }
    memcpy(&length, data + at, sizeof(length));
    at += sizeof(length);
    if (size - at < length) {
      return false;
    }
    at += length;
  }
  return at == size;
}

/* Copies a string out of the arena, NUL-terminated; NULL if it lies outside
 * or memory runs out. With `sanitize`, invalid UTF-8 and NULs become '?';
 * without, the caller checks the copy (never the arena, which can change). */
static char* copy_string(const arena_view* arena, const tdn_str* str, bool sanitize)
{
  if (!in_bounds(arena, str->offset, str->length)) {
    return NULL;
  }
  char* copy = malloc((size_t)str->length + 1);
  if (copy == NULL) {
    return NULL;
  }
  memcpy(copy, arena->base + str->offset, str->length);
  copy[str->length] = '\0';
  if (sanitize) {
    tdn_utf8_sanitize(copy, str->length);
  }
  return copy;
}

/* The one checker of a stub's tensor header (see batch_codec.h): an output
 * of a RESULT/RESPONSE here, an input of a BLS_REQUEST for bls_request.c. */
bool tdn_tensor_decode(
    const arena_view* arena, const tdn_tensor* tensor, uint32_t index,
    const tdn_tensor_rules* rules, tdn_tensor_view* out, uint8_t** bytes_copy, tdn_diag* why)
{
  const char* kind = rules->kind;
  if (tensor->name.length == 0 || tensor->name.length > TDN_MAX_NAME_LENGTH) {
    return tdn_diag_set(
        why, "%s %u%s with a name of %u bytes, expected 1 to %u", kind, index, rules->where,
        tensor->name.length, TDN_MAX_NAME_LENGTH);
  }
  if (!in_bounds(arena, tensor->name.offset, tensor->name.length)) {
    return tdn_diag_set(
        why, "%s %u%s with its name outside the arena", kind, index, rules->where);
  }
  out->name = copy_string(arena, &tensor->name, false);
  if (out->name == NULL) {
    return tdn_diag_set(
        why, "%s %u%s that could not be decoded: out of memory", kind, index, rules->where);
  }
  if (!tdn_utf8_is_valid_text((const uint8_t*)out->name, tensor->name.length)) {
    return tdn_diag_set(
        why, "%s %u%s with a name that is not UTF-8 text without NUL bytes", kind, index,
        rules->where);
  }
  const char* name = out->name;
  if (!tdn_datatype_is_valid(tensor->datatype)) {
    return tdn_diag_set(
        why, "%s '%s' with datatype %u, expected %u to %u", kind, name, tensor->datatype,
        TDN_DATATYPE_FIRST, TDN_DATATYPE_LAST);
  }
  out->datatype = tensor->datatype;
  if (tensor->rank > TDN_MAX_RANK) {
    return tdn_diag_set(
        why, "%s '%s' with rank %u, at most %u allowed", kind, name, tensor->rank, TDN_MAX_RANK);
  }
  out->rank = tensor->rank;
  if (tensor->rank > 0) {
    out->shape = malloc((size_t)tensor->rank * sizeof(int64_t));
    if (out->shape == NULL) {
      return tdn_diag_set(why, "%s '%s' that could not be decoded: out of memory", kind, name);
    }
    if (!read_struct(arena, tensor->shape_offset, out->shape, (uint64_t)tensor->rank * 8)) {
      return tdn_diag_set(
          why, "%s '%s' with shape_offset %llu outside the arena", kind, name,
          (unsigned long long)tensor->shape_offset);
    }
  }
  uint64_t elements = 1;
  for (uint32_t d = 0; d < out->rank; ++d) {
    if (out->shape[d] < 0) {
      return tdn_diag_set(
          why, "%s '%s' with dimension %u = %lld, expected >= 0", kind, name, d,
          (long long)out->shape[d]);
    }
    if (__builtin_mul_overflow(elements, (uint64_t)out->shape[d], &elements)) {
      return tdn_diag_set(why, "%s '%s' whose element count overflows", kind, name);
    }
  }
  out->element_count = elements;
  if (rules->aligned && tensor->data_offset % TDN_TENSOR_ALIGN != 0) {
    return tdn_diag_set(
        why, "%s '%s' with data_offset %llu, expected a multiple of %u", kind, name,
        (unsigned long long)tensor->data_offset, TDN_TENSOR_ALIGN);
  }
  if (tensor->data_offset < rules->data_start ||
      !in_bounds(arena, tensor->data_offset, tensor->data_size)) {
    return tdn_diag_set(
        why, "%s '%s' with data [%llu, +%llu) outside %s [%llu, %llu)", kind, name,
        (unsigned long long)tensor->data_offset, (unsigned long long)tensor->data_size,
        rules->region, (unsigned long long)rules->data_start, (unsigned long long)arena->size);
  }
  out->data_offset = tensor->data_offset;
  out->data_size = tensor->data_size;

  /* The shape in words, for the two messages below only (not on every tensor). */
  char shape_text[256];
  if (out->datatype == TDN_DATATYPE_BYTES) {
    const uint8_t* data = arena->base + out->data_offset;
    if (bytes_copy != NULL) {
      /* Checked on our own copy: the stub cannot rewrite a length after. */
      *bytes_copy = malloc(out->data_size > 0 ? out->data_size : 1);
      if (*bytes_copy == NULL) {
        return tdn_diag_set(why, "%s '%s' that could not be copied: out of memory", kind, name);
      }
      memcpy(*bytes_copy, data, out->data_size);
      data = *bytes_copy;
    }
    if (!tdn_bytes_layout_is_valid(data, out->data_size, elements)) {
      tdn_format_shape(shape_text, sizeof(shape_text), out->shape, out->rank);
      return tdn_diag_set(
          why, "%s '%s' whose BYTES data (%llu bytes) is not %llu length-prefixed elements for "
          "shape %s",
          kind, name, (unsigned long long)out->data_size, (unsigned long long)elements, shape_text);
    }
    return true;
  }
  uint64_t expected;
  if (__builtin_mul_overflow(elements, tdn_datatype_size(out->datatype), &expected)) {
    return tdn_diag_set(why, "%s '%s' whose byte size overflows", kind, name);
  }
  if (expected != out->data_size) {
    tdn_format_shape(shape_text, sizeof(shape_text), out->shape, out->rank);
    return tdn_diag_set(
        why, "%s '%s' with data_size %llu, expected %llu for %s %s", kind, name,
        (unsigned long long)out->data_size, (unsigned long long)expected,
        tdn_datatype_name(out->datatype), shape_text);
  }
  return true;
}

/* Decodes one response; false with the problem described. */
static bool decode_response(
    const arena_view* arena, uint64_t offset, uint32_t index, tdn_response_view* out,
    tdn_diag* problem)
{
  tdn_response wire;
  if (!read_struct(arena, offset, &wire, sizeof(wire))) {
    return tdn_diag_set(problem, "returned response %u outside the arena", index);
  }
  if (wire.status != TDN_STATUS_OK && wire.status != TDN_STATUS_ERROR) {
    return tdn_diag_set(
        problem, "returned response %u with status %u, expected 0 (OK) or 1 (ERROR)",
        index, wire.status);
  }
  out->status = wire.status;
  if ((wire.flags & ~TDN_RESPONSE_RESCHEDULE) != 0) {
    return tdn_diag_set(
        problem, "returned response %u with flags %u, expected 0 or %u (RESCHEDULE)", index,
        wire.flags, TDN_RESPONSE_RESCHEDULE);
  }
  out->reschedule = (wire.flags & TDN_RESPONSE_RESCHEDULE) != 0;
  if (out->reschedule &&
      (wire.status != TDN_STATUS_OK || wire.output_count != 0 || wire.parameters_json.length != 0)) {
    return tdn_diag_set(
        problem,
        "returned response %u flagged RESCHEDULE with a status, outputs or parameters; a "
        "rescheduled request has no response",
        index);
  }
  if (wire.error_code > 7) {
    return tdn_diag_set(
        problem, "returned response %u with error_code %u, expected 0 to 7",
        index, wire.error_code);
  }
  out->error_code = wire.error_code;
  if (wire.error_message.length > TDN_MAX_ERROR_LENGTH) {
    return tdn_diag_set(
        problem, "returned response %u with an error message of %u bytes, at most %u allowed",
        index,
        wire.error_message.length, TDN_MAX_ERROR_LENGTH);
  }
  out->error_message = copy_string(arena, &wire.error_message, true);
  if (out->error_message == NULL) {
    return tdn_diag_set(problem, "returned response %u with its error message outside the arena",
    index);
  }
  if (wire.parameters_json.length > 0) {
    char* json = copy_string(arena, &wire.parameters_json, true);
    if (json == NULL) {
      return tdn_diag_set(problem, "returned response %u with its parameters outside the arena",
                          index);
    }
    tdn_diag why;
    const bool parsed =
        tdn_parameters_parse(json, wire.parameters_json.length, &out->parameters, &why);
    free(json);
    if (!parsed) {
      return tdn_diag_set(problem, "returned response %u with bad parameters: %s", index, why.text);
    }
  }
  if (wire.output_count > TDN_MAX_OUTPUTS) {
    return tdn_diag_set(
        problem, "returned response %u with %u outputs, at most %u allowed",
        index, wire.output_count,
        TDN_MAX_OUTPUTS);
  }
  if (wire.output_count == 0) {
    return true;
  }
  out->outputs = calloc(wire.output_count, sizeof(tdn_tensor_view));
  if (out->outputs == NULL) {
    return tdn_diag_set(problem, "returned response %u that could not be decoded: out of memory",
    index);
  }
  out->output_count = wire.output_count;
  char where[32];
  snprintf(where, sizeof(where), " of response %u", index);
  const tdn_tensor_rules rules = {
      .kind = "returned output", .where = where, .region = "the arena", .aligned = true};
  for (uint32_t k = 0; k < wire.output_count; ++k) {
    tdn_tensor tensor;
    const uint64_t tensor_offset = wire.outputs_offset + (uint64_t)k * sizeof(tdn_tensor);
    if (tensor_offset < wire.outputs_offset ||
        !read_struct(arena, tensor_offset, &tensor, sizeof(tensor))) {
      return tdn_diag_set(
          problem, "returned response %u with outputs_offset %llu: output %u is outside the arena",
          index,
          (unsigned long long)wire.outputs_offset, k);
    }
    /* BYTES data is checked in place; add_output checks Triton's copy again. */
    if (!tdn_tensor_decode(arena, &tensor, k, &rules, &out->outputs[k], NULL, problem)) {
      return false;
    }
    for (uint32_t earlier = 0; earlier < k; ++earlier) {
      if (strcmp(out->outputs[earlier].name, out->outputs[k].name) == 0) {
        return tdn_diag_set(
            problem, "returned output '%s' twice in response %u", out->outputs[k].name, index);
      }
    }
  }
  return true;
}

static void free_response(tdn_response_view* response)
{
  for (uint32_t k = 0; k < response->output_count; ++k) {
    free(response->outputs[k].name);
    free(response->outputs[k].shape);
  }
  free(response->outputs);
  tdn_parameter_list_free(&response->parameters);
  free(response->error_message);
  free(response->problem);
}

bool tdn_result_decode(
    const uint8_t* arena_base, uint64_t arena_size, uint64_t offset, uint64_t length,
    uint32_t expected_response_count, tdn_result_view* result, tdn_diag* diag)
{
  memset(result, 0, sizeof(*result));
  const arena_view arena = {.base = arena_base, .size = arena_size};
  if (length < sizeof(tdn_result_header) || !in_bounds(&arena, offset, length)) {
    return tdn_diag_set(
        diag, "returned a RESULT at [%llu, +%llu) that is not a result header inside the %llu-byte "
        "arena",
        (unsigned long long)offset, (unsigned long long)length, (unsigned long long)arena_size);
  }
  tdn_result_header header;
  read_struct(&arena, offset, &header, sizeof(header));
  if (header.response_count != expected_response_count) {
    return tdn_diag_set(
        diag, "returned a RESULT with response_count %u for a batch of %u requests",
        header.response_count, expected_response_count);
  }
  const uint64_t table_bytes = (uint64_t)header.response_count * sizeof(tdn_response);
  if (!in_bounds(&arena, header.responses_offset, table_bytes)) {
    return tdn_diag_set(
        diag, "returned a RESULT with responses_offset %llu: %u responses do not fit in the arena",
        (unsigned long long)header.responses_offset, header.response_count);
  }
  if (header.response_count > 0) {
    result->responses = calloc(header.response_count, sizeof(tdn_response_view));
    if (result->responses == NULL) {
      return tdn_diag_set(diag, "returned a RESULT the parent could not decode: out of memory");
    }
  }
  result->response_count = header.response_count;
  for (uint32_t r = 0; r < header.response_count; ++r) {
    tdn_response_view* response = &result->responses[r];
    tdn_diag problem;
    if (!decode_response(
            &arena, header.responses_offset + (uint64_t)r * sizeof(tdn_response), r, response,
            &problem)) {
      /* A bad response keeps only its problem: nothing half-decoded is used. */
      free_response(response);
      memset(response, 0, sizeof(*response));
      response->problem = strdup(problem.text);
      if (response->problem == NULL) {
        tdn_result_view_free(result);
        return tdn_diag_set(diag, "returned a RESULT the parent could not decode: out of memory");
      }
    }
  }
  return true;
}

void tdn_result_view_free(tdn_result_view* result)
{
  for (uint32_t r = 0; r < result->response_count; ++r) {
    free_response(&result->responses[r]);
  }
  free(result->responses);
  memset(result, 0, sizeof(*result));
}

/* ==== 5. The BLS_RESPONSE encoder (no Triton) ============================= */

uint64_t tdn_one_response_size(const tdn_encoded_response* response)
{
  uint64_t bytes = sizeof(tdn_result_header) + sizeof(tdn_response) +
                   (uint64_t)response->output_count * sizeof(tdn_tensor) +
                   response->message_length + response->parameters_length;
  for (uint32_t i = 0; i < response->output_count; ++i) {
    bytes += (uint64_t)response->outputs[i].rank * sizeof(int64_t) +
             strlen(response->outputs[i].name);
  }
  return bytes;
}

/* Writes `length` bytes at *at, which it advances. Unlike the EXECUTE
 * encoder's put_bytes, an empty string keeps the offset it is written at
 * (the BLS_RESPONSE's golden bytes pin that), so the two stay apart. */
static void put_str(uint8_t* arena, uint64_t* at, const void* text, size_t length, tdn_str* str)
{
  *str = str_at(*at, length);
  if (length > 0) {
    memcpy(arena + *at, text, length);
  }
  *at += length;
}

uint64_t tdn_one_response_encode(
    uint8_t* arena, uint64_t base, const tdn_encoded_response* response)
{
  const uint64_t response_at = base + sizeof(tdn_result_header);
  const uint64_t tensors_at = response_at + sizeof(tdn_response);
  uint64_t at = tensors_at + (uint64_t)response->output_count * sizeof(tdn_tensor);

  const tdn_result_header header = {
      .response_count = 1, .reserved = 0, .responses_offset = response_at};
  memcpy(arena + base, &header, sizeof(header));
  tdn_response wire;
  memset(&wire, 0, sizeof(wire));
  wire.status = response->status;
  wire.error_code = response->error_code;
  wire.output_count = response->output_count;
  wire.outputs_offset = tensors_at;
  /* The shapes, then the strings: the message, the output names, the parameters. */
  uint64_t shapes_end = at;
  for (uint32_t i = 0; i < response->output_count; ++i) {
    shapes_end += (uint64_t)response->outputs[i].rank * sizeof(int64_t);
  }
  uint64_t names = shapes_end + response->message_length;
  for (uint32_t i = 0; i < response->output_count; ++i) {
    const tdn_encoded_output* output = &response->outputs[i];
    tdn_tensor tensor;
    memset(&tensor, 0, sizeof(tensor));
    tensor.datatype = output->datatype;
    tensor.rank = output->rank;
    tensor.shape_offset = at;
    if (output->rank > 0) {
      memcpy(arena + at, output->shape, (size_t)output->rank * sizeof(int64_t));
    }
    at += (uint64_t)output->rank * sizeof(int64_t);
    tensor.data_offset = output->data_offset;
    tensor.data_size = output->data_size;
    put_str(arena, &names, output->name, strlen(output->name), &tensor.name);
    memcpy(arena + tensors_at + (uint64_t)i * sizeof(tdn_tensor), &tensor, sizeof(tensor));
  }
  put_str(arena, &at, response->message, response->message_length, &wire.error_message);
  at = names;
  put_str(arena, &at, response->parameters, response->parameters_length,
          &wire.parameters_json);
  memcpy(arena + response_at, &wire, sizeof(wire));
  return at - base;
}

/* ==== 6. Filling Triton's responses ==========================================
 * From the checked views (and errors) to Triton's responses and releases.
 * add_output is the one place tensor bytes leave the arena, one memcpy per
 * output into the buffer Triton hands us. */

/* Tensor bytes of every well-formed response (the model's output volume),
 * saturating at UINT64_MAX. */
static uint64_t output_bytes(const tdn_result_view* result)
{
  uint64_t total = 0;
  for (uint32_t r = 0; r < result->response_count; ++r) {
    const tdn_response_view* response = &result->responses[r];
    if (response->problem != NULL) {
      continue;
    }
    for (uint32_t o = 0; o < response->output_count; ++o) {
      /* Each size lies inside the arena, so the sum cannot overflow 64 bits
       * for any realistic count; saturate anyway. */
      if (__builtin_add_overflow(total, response->outputs[o].data_size, &total)) {
        return UINT64_MAX;
      }
    }
  }
  return total;
}

TRITONSERVER_Error* tdn_result_check_volume(
    const tdn_result_view* result, uint64_t limit, const char* model_name,
    const char* instance_name)
{
  const uint64_t bytes = output_bytes(result);
  if (bytes <= limit) {
    return NULL;
  }
  TDN_LOG_WARN(
      "model '%s', instance '%s': outputs of %llu bytes refused (deno.max_output_bytes is %llu)",
      model_name, instance_name, (unsigned long long)bytes, (unsigned long long)limit);
  return tdn_error(
      TRITONSERVER_ERROR_INTERNAL,
      "instance '%s': the model's outputs for this batch are %llu bytes, above its limit of %llu "
      "bytes (deno.max_output_bytes)",
      instance_name, (unsigned long long)bytes, (unsigned long long)limit);
}

/* Sends `error` as `response` with `flags`, or, when the response could not
 * be created (`failure`), logs both; then deletes `error`. */
static void send_error(
    TRITONBACKEND_Response* response, TRITONSERVER_Error* failure, TRITONSERVER_Error* error,
    uint32_t flags)
{
  if (failure != NULL) {
    tdn_log_and_delete(__FILE__, __LINE__, "cannot create an error response", failure);
    TDN_LOG_ERROR("the lost error was: %s", TRITONSERVER_ErrorMessage(error));
  } else {
    TDN_LOG_IF_ERROR(
        TRITONBACKEND_ResponseSend(response, flags, error), "cannot send an error response");
  }
  /* ResponseSend does not take the error: it is still ours. */
  TRITONSERVER_ErrorDelete(error);
}

void tdn_respond_error(TRITONBACKEND_Request* request, TRITONSERVER_Error* error)
{
  TRITONBACKEND_Response* response = NULL;
  TRITONSERVER_Error* failure = TRITONBACKEND_ResponseNew(&response, request);
  send_error(response, failure, error, TRITONSERVER_RESPONSE_COMPLETE_FINAL);
}

bool tdn_release_request(
    TRITONBACKEND_Request* request, uint32_t release_flags, const char* instance_name)
{
  TRITONSERVER_Error* refused = TRITONBACKEND_RequestRelease(request, release_flags);
  if (refused == NULL) {
    return true;
  }
  if (release_flags == TRITONSERVER_REQUEST_RELEASE_ALL) {
    tdn_log_and_delete(__FILE__, __LINE__, "cannot release a request", refused);
    return false;
  }
  TDN_LOG_WARN(
      "instance '%s': Triton refused to reschedule a request: %s", instance_name,
      TRITONSERVER_ErrorMessage(refused));
  tdn_respond_error(
      request, tdn_error(
                   TRITONSERVER_ErrorCode(refused),
                   "instance '%s': the model rescheduled the request, and Triton refused: %s",
                   instance_name, TRITONSERVER_ErrorMessage(refused)));
  TRITONSERVER_ErrorDelete(refused);
  TDN_LOG_IF_ERROR(
      TRITONBACKEND_RequestRelease(request, TRITONSERVER_REQUEST_RELEASE_ALL),
      "cannot release a request");
  return false;
}

static bool is_requested(const tdn_request_desc* desc, const char* name)
{
  if (desc->requested_output_count == 0) {
    return true;
  }
  for (uint32_t i = 0; i < desc->requested_output_count; ++i) {
    if (strcmp(desc->requested_outputs[i], name) == 0) {
      return true;
    }
  }
  return false;
}

static TRITONSERVER_Error* add_output(
    TRITONBACKEND_Response* response, const tdn_tensor_view* output, const uint8_t* arena,
    const char* instance_name)
{
  TRITONBACKEND_Output* handle = NULL;
  TDN_RETURN_IF_ERROR_CTX(
      TRITONBACKEND_ResponseOutput(
          response, &handle, output->name, (TRITONSERVER_DataType)output->datatype,
          output->shape, output->rank),
      "cannot create output '%s'", output->name);
  void* buffer = NULL;
  TRITONSERVER_MemoryType memory_type = TRITONSERVER_MEMORY_CPU;
  int64_t memory_type_id = 0;
  TDN_RETURN_IF_ERROR_CTX(
      TRITONBACKEND_OutputBuffer(handle, &buffer, output->data_size, &memory_type, &memory_type_id),
      "cannot allocate %llu bytes for output '%s'", (unsigned long long)output->data_size,
      output->name);
  if (output->data_size == 0) {
    return NULL;
  }
  if (buffer == NULL) {
    return tdn_error(
        TRITONSERVER_ERROR_INTERNAL, "Triton gave no buffer for output '%s'", output->name);
  }
  const bool on_gpu = memory_type == TRITONSERVER_MEMORY_GPU;
  if (!on_gpu && !is_host_memory(memory_type)) {
    return tdn_error(
        TRITONSERVER_ERROR_UNSUPPORTED, "Triton offered memory of unknown type %d for output '%s'",
        (int)memory_type, output->name);
  }
  /* A GPU buffer is filled from a host copy: the check below reads it. */
  void* host = on_gpu ? malloc(output->data_size) : buffer;
  if (host == NULL) {
    return tdn_error(
        TRITONSERVER_ERROR_INTERNAL, "output '%s': no host memory for %llu bytes", output->name,
        (unsigned long long)output->data_size);
  }
  tdn_tensor_copy(host, arena + output->data_offset, output->data_size);
  TRITONSERVER_Error* error = NULL;
  /* The stub could have changed BYTES data after validation; check the copy
   * Triton will actually read. */
  if (output->datatype == TDN_DATATYPE_BYTES &&
      !tdn_bytes_layout_is_valid(host, output->data_size, output->element_count)) {
    error = tdn_error(
        TRITONSERVER_ERROR_INTERNAL,
        "stub for instance '%s' changed the BYTES data of output '%s' while it was being read",
        instance_name, output->name);
  }
  tdn_diag why;
  if (error == NULL && on_gpu &&
      !tdn_cuda_copy_to_device(buffer, host, output->data_size, memory_type_id, &why)) {
    error = tdn_error(
        TRITONSERVER_ERROR_UNSUPPORTED,
        "output '%s' goes to the memory of GPU %lld and cannot be copied there: %s", output->name,
        (long long)memory_type_id, why.text);
  }
  if (on_gpu) {
    free(host);
  }
  return error;
}

/* Sets each parameter on a response. */
static TRITONSERVER_Error* apply_parameters(
    TRITONBACKEND_Response* response, const tdn_parameter_list* list)
{
  for (uint32_t i = 0; i < list->count; ++i) {
    const tdn_parameter* p = &list->items[i];
    TRITONSERVER_Error* error = NULL;
    switch (p->type) {
      case TRITONSERVER_PARAMETER_STRING:
        error = TRITONBACKEND_ResponseSetStringParameter(response, p->key, p->string_value);
        break;
      case TRITONSERVER_PARAMETER_INT:
        error = TRITONBACKEND_ResponseSetIntParameter(response, p->key, p->int_value);
        break;
      case TRITONSERVER_PARAMETER_BOOL:
        error = TRITONBACKEND_ResponseSetBoolParameter(response, p->key, p->bool_value);
        break;
      default:
        error = TRITONBACKEND_ResponseSetDoubleParameter(response, p->key, p->double_value);
        break;
    }
    if (error != NULL) {
      return tdn_error_context(error, "cannot set response parameter '%s'", p->key);
    }
  }
  return NULL;
}

/* Fills `response` with the view's outputs (only the requested ones) and
 * sends it with `flags`. Returns true if the outputs went out. */
static bool fill_and_send(
    TRITONBACKEND_Response* response, const tdn_request_desc* desc,
    const tdn_response_view* view, uint32_t flags, const uint8_t* arena,
    const char* instance_name)
{
  TRITONSERVER_Error* error = NULL;
  if (view->problem != NULL) {
    error = tdn_error(
        TRITONSERVER_ERROR_INTERNAL, "stub for instance '%s' %s", instance_name, view->problem);
  } else if (view->status == TDN_STATUS_ERROR) {
    error = tdn_error((TRITONSERVER_Error_Code)view->error_code, "%s", view->error_message);
  }
  for (uint32_t k = 0; error == NULL && k < view->output_count; ++k) {
    if (is_requested(desc, view->outputs[k].name)) {
      error = add_output(response, &view->outputs[k], arena, instance_name);
    }
  }
  if (error == NULL) {
    error = apply_parameters(response, &view->parameters);
  }
  const bool success = error == NULL;
  TDN_LOG_IF_ERROR(TRITONBACKEND_ResponseSend(response, flags, error), "cannot send a response");
  if (error != NULL) {
    TRITONSERVER_ErrorDelete(error);
  }
  return success;
}

bool tdn_respond_result(
    TRITONBACKEND_Request* request, const tdn_request_desc* desc,
    const tdn_response_view* view, const uint8_t* arena, const char* instance_name)
{
  TRITONBACKEND_Response* response = NULL;
  TRITONSERVER_Error* error = TRITONBACKEND_ResponseNew(&response, request);
  if (error != NULL) {
    tdn_log_and_delete(__FILE__, __LINE__, "cannot create a response", error);
    return false;
  }
  return fill_and_send(
      response, desc, view, TRITONSERVER_RESPONSE_COMPLETE_FINAL, arena, instance_name);
}

bool tdn_respond_streamed(
    TRITONBACKEND_ResponseFactory* factory, const tdn_request_desc* desc,
    const tdn_response_view* view, uint32_t flags, const uint8_t* arena,
    const char* instance_name)
{
  if (view == NULL) {
    TRITONSERVER_Error* error = TRITONBACKEND_ResponseFactorySendFlags(factory, flags);
    if (error != NULL) {
      tdn_log_and_delete(__FILE__, __LINE__, "cannot send the final flag", error);
      return false;
    }
    return true;
  }
  TRITONBACKEND_Response* response = NULL;
  TRITONSERVER_Error* error = TRITONBACKEND_ResponseNewFromFactory(&response, factory);
  if (error != NULL) {
    tdn_log_and_delete(__FILE__, __LINE__, "cannot create a response", error);
    return false;
  }
  return fill_and_send(response, desc, view, flags, arena, instance_name);
}

void tdn_respond_streamed_error(
    TRITONBACKEND_ResponseFactory* factory, TRITONSERVER_Error* error, uint32_t flags)
{
  TRITONBACKEND_Response* response = NULL;
  TRITONSERVER_Error* failure = TRITONBACKEND_ResponseNewFromFactory(&response, factory);
  send_error(response, failure, error, flags);
}
