import { DataType } from "../model_config/mod.ts";
import { assert, assertEquals, assertStrictEquals } from "./_test_assert.ts";
import {
  configDataTypeName,
  DATA_TYPE_NAMES,
  dataTypeArrayType,
  dataTypeByteSize,
  dataTypeCode,
  dataTypeFromCode,
  dataTypeFromConfig,
  dataTypeToConfig,
  isDataTypeName,
} from "./datatype.ts";

// TRITONSERVER_DataType, from Triton's tritonserver.h.
const SERVER_CODES = {
  BOOL: 1,
  UINT8: 2,
  UINT16: 3,
  UINT32: 4,
  UINT64: 5,
  INT8: 6,
  INT16: 7,
  INT32: 8,
  INT64: 9,
  FP16: 10,
  FP32: 11,
  FP64: 12,
  BYTES: 13,
  BF16: 14,
} as const;

Deno.test("datatype codes are TRITONSERVER_DataType and round-trip", () => {
  assertEquals<readonly string[]>(DATA_TYPE_NAMES, Object.keys(SERVER_CODES));
  for (const [name, code] of Object.entries(SERVER_CODES)) {
    assert(isDataTypeName(name));
    assertEquals(dataTypeCode(name), code);
    assertEquals(dataTypeFromCode(code), name);
  }
  assertEquals(dataTypeFromCode(0), undefined);
  assertEquals(dataTypeFromCode(15), undefined);
  assertEquals(dataTypeFromCode(1.5), undefined);
  assertEquals(isDataTypeName("float32"), false);
  assertEquals(isDataTypeName("toString"), false);
  assertEquals(isDataTypeName(11), false);
});

Deno.test("datatypes map to config.pbtxt TYPE_* values, BYTES to TYPE_STRING", () => {
  for (const name of DATA_TYPE_NAMES) {
    const expected = name === "BYTES" ? "TYPE_STRING" : `TYPE_${name}`;
    assertEquals(configDataTypeName(dataTypeToConfig(name)), expected);
    assertEquals(dataTypeFromConfig(dataTypeToConfig(name)), name);
  }
  assertEquals(dataTypeFromConfig(DataType.TYPE_INVALID), undefined);
  assertEquals(configDataTypeName(99 as DataType), "DataType(99)");
});

Deno.test("byte sizes and typed arrays match each datatype", () => {
  const expected: Record<string, [number, unknown]> = {
    BOOL: [1, Uint8Array],
    UINT8: [1, Uint8Array],
    UINT16: [2, Uint16Array],
    UINT32: [4, Uint32Array],
    UINT64: [8, BigUint64Array],
    INT8: [1, Int8Array],
    INT16: [2, Int16Array],
    INT32: [4, Int32Array],
    INT64: [8, BigInt64Array],
    FP16: [2, Uint16Array],
    FP32: [4, Float32Array],
    FP64: [8, Float64Array],
    BYTES: [0, Uint8Array],
    BF16: [2, Uint16Array],
  };
  for (const name of DATA_TYPE_NAMES) {
    assertEquals(dataTypeByteSize(name), expected[name][0], name);
    assertStrictEquals(dataTypeArrayType(name), expected[name][1], name);
  }
});
