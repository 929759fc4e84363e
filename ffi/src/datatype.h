/*
 * datatype.h: facts about TRITONSERVER_DataType values that the wire codec
 * needs without calling into Triton (the golden test has no Triton).
 * The numbering is Triton's (tdn_wire.h: BOOL 1 ... BYTES 13, BF16 14).
 */
#ifndef TDN_DATATYPE_H
#define TDN_DATATYPE_H

#include <stdbool.h>
#include <stdint.h>

#define TDN_DATATYPE_BYTES 13u
#define TDN_DATATYPE_FIRST 1u
#define TDN_DATATYPE_LAST 14u

static inline bool tdn_datatype_is_valid(uint32_t datatype)
{
  return datatype >= TDN_DATATYPE_FIRST && datatype <= TDN_DATATYPE_LAST;
}

/* Bytes per element; 0 for BYTES (variable length) and invalid values. */
static inline uint32_t tdn_datatype_size(uint32_t datatype)
{
  static const uint8_t sizes[TDN_DATATYPE_LAST + 1] = {
      0, /* INVALID */ 1, /* BOOL */ 1, /* UINT8 */ 2, /* UINT16 */
      4, /* UINT32 */  8, /* UINT64 */ 1, /* INT8 */ 2, /* INT16 */
      4, /* INT32 */   8, /* INT64 */ 2, /* FP16 */ 4, /* FP32 */
      8, /* FP64 */    0, /* BYTES */ 2, /* BF16 */
  };
  return tdn_datatype_is_valid(datatype) ? sizes[datatype] : 0;
}

/* Triton's spelling ("FP32"), for messages. */
static inline const char* tdn_datatype_name(uint32_t datatype)
{
  static const char* const names[TDN_DATATYPE_LAST + 1] = {
      "INVALID", "BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16",
      "INT32",   "INT64", "FP16", "FP32",   "FP64",   "BYTES",  "BF16",
  };
  return tdn_datatype_is_valid(datatype) ? names[datatype] : "INVALID";
}

#endif /* TDN_DATATYPE_H */
