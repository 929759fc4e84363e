/*
 * datatype.c: TRITONSERVER_DataType names and sizes, spelled as Triton
 * spells them ("FP32", "BYTES", ...).
 */
#include <string.h>

#include "host_internal.h"

static const struct {
  TRITONSERVER_DataType type;
  const char* name;
  uint32_t size;
} host_datatypes[] = {
    {TRITONSERVER_TYPE_BOOL, "BOOL", 1},    {TRITONSERVER_TYPE_UINT8, "UINT8", 1},
    {TRITONSERVER_TYPE_UINT16, "UINT16", 2}, {TRITONSERVER_TYPE_UINT32, "UINT32", 4},
    {TRITONSERVER_TYPE_UINT64, "UINT64", 8}, {TRITONSERVER_TYPE_INT8, "INT8", 1},
    {TRITONSERVER_TYPE_INT16, "INT16", 2},   {TRITONSERVER_TYPE_INT32, "INT32", 4},
    {TRITONSERVER_TYPE_INT64, "INT64", 8},   {TRITONSERVER_TYPE_FP16, "FP16", 2},
    {TRITONSERVER_TYPE_FP32, "FP32", 4},     {TRITONSERVER_TYPE_FP64, "FP64", 8},
    {TRITONSERVER_TYPE_BYTES, "BYTES", 0},   {TRITONSERVER_TYPE_BF16, "BF16", 2},
};

#define HOST_DATATYPE_COUNT (sizeof host_datatypes / sizeof host_datatypes[0])

const char* TRITONSERVER_DataTypeString(TRITONSERVER_DataType datatype) {
  for (size_t i = 0; i < HOST_DATATYPE_COUNT; i++) {
    if (host_datatypes[i].type == datatype) return host_datatypes[i].name;
  }
  return "<invalid>";
}

TRITONSERVER_DataType TRITONSERVER_StringToDataType(const char* dtype) {
  if (dtype == NULL) return TRITONSERVER_TYPE_INVALID;
  for (size_t i = 0; i < HOST_DATATYPE_COUNT; i++) {
    if (strcmp(host_datatypes[i].name, dtype) == 0) return host_datatypes[i].type;
  }
  return TRITONSERVER_TYPE_INVALID;
}

uint32_t host_datatype_size(TRITONSERVER_DataType datatype) {
  for (size_t i = 0; i < HOST_DATATYPE_COUNT; i++) {
    if (host_datatypes[i].type == datatype) return host_datatypes[i].size;
  }
  return 0;
}

uint32_t TRITONSERVER_DataTypeByteSize(TRITONSERVER_DataType datatype) {
  return host_datatype_size(datatype);
}
