/*
 * parameters.c: see parameters.h. The Triton-facing half: reading a
 * request's parameters and setting a response's. parameter_list.c parses
 * what the stub wrote (without Triton, so tests/wire/golden_c.c can use it).
 */
#include "parameters.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "errors.h"
#include "json_writer.h"

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

TRITONSERVER_Error* tdn_parameters_from_request(
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

TRITONSERVER_Error* tdn_parameters_apply(
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
