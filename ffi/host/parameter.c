/*
 * parameter.c: TRITONSERVER_Parameter, a named typed value the caller
 * creates and deletes; the host uses them as metric labels. The object
 * keeps its own copy of the value, as Triton's does, except BYTES, whose
 * bytes stay the caller's. Also: where the getters of request and
 * response parameters point for a typed value.
 */
#include <stdlib.h>

#include "host_server.h"

TRITONSERVER_Parameter* TRITONSERVER_ParameterNew(const char* name,
                                                  const TRITONSERVER_ParameterType type,
                                                  const void* value) {
  /* BYTES parameters come from TRITONSERVER_ParameterBytesNew in Triton. */
  if (name == NULL || value == NULL || type > TRITONSERVER_PARAMETER_DOUBLE) return NULL;
  TRITONSERVER_Parameter* parameter = host_alloc(sizeof *parameter);
  parameter->name = host_strdup(name);
  parameter->type = type;
  switch (type) {
    case TRITONSERVER_PARAMETER_STRING: parameter->string_value = host_strdup(value); break;
    case TRITONSERVER_PARAMETER_INT: parameter->int_value = *(const int64_t*)value; break;
    case TRITONSERVER_PARAMETER_BOOL: parameter->bool_value = *(const bool*)value; break;
    default: parameter->double_value = *(const double*)value; break;
  }
  host_handle_add(HOST_HANDLE_PARAMETER, parameter);
  return parameter;
}

TRITONSERVER_Parameter* TRITONSERVER_ParameterBytesNew(const char* name, const void* byte_ptr,
                                                       const uint64_t size) {
  if (name == NULL || (byte_ptr == NULL && size > 0)) return NULL;
  TRITONSERVER_Parameter* parameter = host_alloc(sizeof *parameter);
  parameter->name = host_strdup(name);
  parameter->type = TRITONSERVER_PARAMETER_BYTES;
  parameter->bytes = byte_ptr;
  parameter->byte_size = size;
  host_handle_add(HOST_HANDLE_PARAMETER, parameter);
  return parameter;
}

const void* host_typed_value_pointer(const host_typed_value* value) {
  switch (value->type) {
    case TRITONSERVER_PARAMETER_INT: return &value->int_value;
    case TRITONSERVER_PARAMETER_BOOL: return &value->bool_value;
    case TRITONSERVER_PARAMETER_DOUBLE: return &value->double_value;
    default: return value->string_value;
  }
}

void TRITONSERVER_ParameterDelete(TRITONSERVER_Parameter* parameter) {
  if (parameter == NULL) return; /* Triton deletes NULL as a no-op */
  if (!host_handle_remove(HOST_HANDLE_PARAMETER, parameter, "ParameterDelete")) return;
  free(parameter->name);
  free(parameter->string_value);
  free(parameter);
}
