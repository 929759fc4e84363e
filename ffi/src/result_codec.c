/*
 * result_codec.c: see result_codec.h. On the decoding side every read from
 * the arena goes through read_struct(), which bounds-checks and copies, so
 * the stub can neither send us out of bounds nor change a value between our
 * check and our use of it.
 */
#include "result_codec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena_view.h"
#include "cuda_copy.h"
#include "datatype.h"
#include "errors.h"
#include "json_reader.h"
#include "log.h"
#include "utf8.h"
#include "tensor_copy.h"

/* ---- Parameters, read from the wire's form ------------------------------- */

static bool parse_value(tdn_parameter* parameter, const char* type, const char* text, tdn_diag* diag)
{
  char* end = NULL;
  if (strcmp(type, "STRING") == 0) {
    parameter->type = TRITONSERVER_PARAMETER_STRING;
    parameter->string_value = strdup(text);
    return parameter->string_value != NULL || tdn_diag_set(diag, "out of memory");
  }
  if (strcmp(type, "INT") == 0) {
    errno = 0;
    const long long value = strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0') {
      return tdn_diag_set(diag, "INT parameter '%s' has value '%.64s'", parameter->key, text);
    }
    parameter->type = TRITONSERVER_PARAMETER_INT;
    parameter->int_value = value;
    return true;
  }
  if (strcmp(type, "BOOL") == 0) {
    if (strcmp(text, "true") != 0 && strcmp(text, "false") != 0) {
      return tdn_diag_set(diag, "BOOL parameter '%s' has value '%.64s'", parameter->key, text);
    }
    parameter->type = TRITONSERVER_PARAMETER_BOOL;
    parameter->bool_value = text[0] == 't';
    return true;
  }
  if (strcmp(type, "DOUBLE") == 0) {
    errno = 0;
    const double value = strtod(text, &end);
    if (errno == ERANGE || end == text || *end != '\0') {
      return tdn_diag_set(diag, "DOUBLE parameter '%s' has value '%.64s'", parameter->key, text);
    }
    parameter->type = TRITONSERVER_PARAMETER_DOUBLE;
    parameter->double_value = value;
    return true;
  }
  return tdn_diag_set(
      diag, "parameter '%s' has type '%.32s'; expected STRING, INT, BOOL or DOUBLE",
      parameter->key, type);
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

/* ---- Decoding ------------------------------------------------------------ */

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

/* Copies a string out of the arena, NUL-terminated. With `strict` it must be
 * valid UTF-8 without NULs; otherwise such bytes become '?'. */
static char* copy_string(const arena_view* arena, const tdn_str* str, bool strict)
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
  if (strict && !tdn_utf8_is_valid_text((const uint8_t*)copy, str->length)) {
    free(copy);
    return NULL;
  }
  tdn_utf8_sanitize(copy, str->length);
  return copy;
}

/* Decodes and checks one output; false with the problem described. */
static bool decode_output(
    const arena_view* arena, const tdn_tensor* tensor, uint32_t response_index,
    uint32_t output_index, tdn_output_view* out, tdn_diag* problem)
{
  if (tensor->name.length == 0 || tensor->name.length > TDN_MAX_NAME_LENGTH) {
    return tdn_diag_set(
        problem, "returned output %u of response %u with a name of %u bytes, expected 1 to %u",
        output_index, response_index, tensor->name.length, TDN_MAX_NAME_LENGTH);
  }
  if (!in_bounds(arena, tensor->name.offset, tensor->name.length)) {
    return tdn_diag_set(
        problem, "returned output %u of response %u with its name outside the arena", output_index,
        response_index);
  }
  out->name = copy_string(arena, &tensor->name, true);
  if (out->name == NULL) {
    return tdn_diag_set(
        problem, "returned output %u of response %u with a name that is not UTF-8 text",
        output_index, response_index);
  }
  const char* name = out->name;
  if (!tdn_datatype_is_valid(tensor->datatype)) {
    return tdn_diag_set(
        problem, "returned output '%s' with datatype %u, expected %u to %u", name, tensor->datatype,
        TDN_DATATYPE_FIRST, TDN_DATATYPE_LAST);
  }
  out->datatype = tensor->datatype;
  if (tensor->rank > TDN_MAX_RANK) {
    return tdn_diag_set(
        problem, "returned output '%s' with rank %u, at most %u allowed",
        name, tensor->rank, TDN_MAX_RANK);
  }
  out->rank = tensor->rank;
  if (tensor->rank > 0) {
    out->shape = malloc((size_t)tensor->rank * sizeof(int64_t));
    if (out->shape == NULL) {
      return tdn_diag_set(
          problem, "returned output '%s' that could not be decoded: out of memory", name);
    }
    if (!read_struct(arena, tensor->shape_offset, out->shape, (uint64_t)tensor->rank * 8)) {
      return tdn_diag_set(
          problem, "returned output '%s' with shape_offset %llu outside the arena", name,
          (unsigned long long)tensor->shape_offset);
    }
  }
  uint64_t elements = 1;
  for (uint32_t d = 0; d < out->rank; ++d) {
    if (out->shape[d] < 0) {
      return tdn_diag_set(
          problem, "returned output '%s' with dimension %u = %lld, expected >= 0", name, d,
          (long long)out->shape[d]);
    }
    if (__builtin_mul_overflow(elements, (uint64_t)out->shape[d], &elements)) {
      return tdn_diag_set(problem, "returned output '%s' whose element count overflows", name);
    }
  }
  out->element_count = elements;
  if (tensor->data_offset % TDN_TENSOR_ALIGN != 0) {
    return tdn_diag_set(
        problem, "returned output '%s' with data_offset %llu, expected a multiple of %u", name,
        (unsigned long long)tensor->data_offset, TDN_TENSOR_ALIGN);
  }
  if (!in_bounds(arena, tensor->data_offset, tensor->data_size)) {
    return tdn_diag_set(
        problem, "returned output '%s' with data [%llu, +%llu) outside the %llu-byte arena", name,
        (unsigned long long)tensor->data_offset, (unsigned long long)tensor->data_size,
        (unsigned long long)arena->size);
  }
  out->data_offset = tensor->data_offset;
  out->data_size = tensor->data_size;

  char shape_text[256];
  tdn_format_shape(shape_text, sizeof(shape_text), out->shape, out->rank);
  if (out->datatype == TDN_DATATYPE_BYTES) {
    if (!tdn_bytes_layout_is_valid(arena->base + out->data_offset, out->data_size, elements)) {
      return tdn_diag_set(
          problem, "returned output '%s' whose BYTES data (%llu bytes) is not %llu length-prefixed "
          "elements for shape %s",
          name, (unsigned long long)out->data_size, (unsigned long long)elements, shape_text);
    }
    return true;
  }
  uint64_t expected;
  if (__builtin_mul_overflow(elements, tdn_datatype_size(out->datatype), &expected)) {
    return tdn_diag_set(problem, "returned output '%s' whose byte size overflows", name);
  }
  if (expected != out->data_size) {
    return tdn_diag_set(
        problem, "returned output '%s' with data_size %llu, expected %llu for %s %s", name,
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
  out->error_message = copy_string(arena, &wire.error_message, false);
  if (out->error_message == NULL) {
    return tdn_diag_set(problem, "returned response %u with its error message outside the arena",
    index);
  }
  if (wire.parameters_json.length > 0) {
    char* json = copy_string(arena, &wire.parameters_json, false);
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
  out->outputs = calloc(wire.output_count, sizeof(tdn_output_view));
  if (out->outputs == NULL) {
    return tdn_diag_set(problem, "returned response %u that could not be decoded: out of memory",
    index);
  }
  out->output_count = wire.output_count;
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
    if (!decode_output(arena, &tensor, index, k, &out->outputs[k], problem)) {
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

void tdn_result_view_free(tdn_result_view* result)
{
  for (uint32_t r = 0; r < result->response_count; ++r) {
    free_response(&result->responses[r]);
  }
  free(result->responses);
  memset(result, 0, sizeof(*result));
}

/* ---- Encoding ------------------------------------------------------------ */

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

static void put_str(uint8_t* arena, uint64_t* cursor, const void* text, size_t length, tdn_str* str)
{
  str->offset = *cursor;
  str->length = (uint32_t)length;
  str->reserved = 0;
  if (length > 0) {
    memcpy(arena + *cursor, text, length);
  }
  *cursor += length;
}

uint64_t tdn_one_response_encode(
    uint8_t* arena, uint64_t base, const tdn_encoded_response* response)
{
  const uint64_t response_at = base + sizeof(tdn_result_header);
  const uint64_t tensors_at = response_at + sizeof(tdn_response);
  uint64_t cursor = tensors_at + (uint64_t)response->output_count * sizeof(tdn_tensor);

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
  uint64_t shapes_end = cursor;
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
    tensor.shape_offset = cursor;
    if (output->rank > 0) {
      memcpy(arena + cursor, output->shape, (size_t)output->rank * sizeof(int64_t));
    }
    cursor += (uint64_t)output->rank * sizeof(int64_t);
    tensor.data_offset = output->data_offset;
    tensor.data_size = output->data_size;
    put_str(arena, &names, output->name, strlen(output->name), &tensor.name);
    memcpy(arena + tensors_at + (uint64_t)i * sizeof(tdn_tensor), &tensor, sizeof(tensor));
  }
  put_str(arena, &cursor, response->message, response->message_length, &wire.error_message);
  cursor = names;
  put_str(arena, &cursor, response->parameters, response->parameters_length,
          &wire.parameters_json);
  memcpy(arena + response_at, &wire, sizeof(wire));
  return cursor - base;
}

/* ---- Answering Triton: the one place tensor bytes leave the arena, one
 * memcpy per output into the buffer Triton hands us. ---------------------- */

void tdn_respond_error(TRITONBACKEND_Request* request, TRITONSERVER_Error* error)
{
  TRITONBACKEND_Response* response = NULL;
  TRITONSERVER_Error* failure = TRITONBACKEND_ResponseNew(&response, request);
  if (failure != NULL) {
    tdn_log_and_delete(__FILE__, __LINE__, "cannot create an error response", failure);
    TDN_LOG_ERROR("the lost error was: %s", TRITONSERVER_ErrorMessage(error));
  } else {
    TDN_LOG_IF_ERROR(
        TRITONBACKEND_ResponseSend(response, TRITONSERVER_RESPONSE_COMPLETE_FINAL, error),
        "cannot send an error response");
  }
  /* ResponseSend does not take the error: it is still ours. */
  TRITONSERVER_ErrorDelete(error);
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
    TRITONBACKEND_Response* response, const tdn_output_view* output, const uint8_t* arena,
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
  if (!on_gpu && memory_type != TRITONSERVER_MEMORY_CPU &&
      memory_type != TRITONSERVER_MEMORY_CPU_PINNED) {
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
  if (failure != NULL) {
    tdn_log_and_delete(__FILE__, __LINE__, "cannot create an error response", failure);
    TDN_LOG_ERROR("the lost error was: %s", TRITONSERVER_ErrorMessage(error));
  } else {
    TDN_LOG_IF_ERROR(
        TRITONBACKEND_ResponseSend(response, flags, error), "cannot send an error response");
  }
  TRITONSERVER_ErrorDelete(error);
}
