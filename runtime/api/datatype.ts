/**
 * Triton's tensor datatypes: names, numeric codes, element sizes, the typed
 * array that holds each one, and the matching `TYPE_*` value of config.pbtxt.
 *
 * @module
 */

import { DataType } from "../model_config/data_type.ts";

/**
 * The name of a Triton tensor datatype, as Triton's inference protocol spells
 * it. `BYTES` is config.pbtxt's `TYPE_STRING`: each element is a byte string.
 *
 * @example
 * ```ts
 * import type { DataTypeName } from "@triton/deno";
 *
 * const datatype: DataTypeName = "FP32";
 * console.log(datatype);
 * ```
 */
export type DataTypeName =
  | "BOOL"
  | "UINT8"
  | "UINT16"
  | "UINT32"
  | "UINT64"
  | "INT8"
  | "INT16"
  | "INT32"
  | "INT64"
  | "FP16"
  | "FP32"
  | "FP64"
  | "BYTES"
  | "BF16";

/**
 * Every datatype except `BYTES`: the ones with a fixed element size, which a
 * model can write straight into shared memory with `allocateOutput`.
 *
 * @example
 * ```ts
 * import type { FixedSizeDataTypeName } from "@triton/deno";
 *
 * const datatype: FixedSizeDataTypeName = "INT64";
 * console.log(datatype);
 * ```
 */
export type FixedSizeDataTypeName = Exclude<DataTypeName, "BYTES">;

/**
 * The typed array behind each datatype. `FP16` and `BF16` are raw 16-bit
 * patterns; `BOOL` is one byte per element (0 or 1); `BYTES` is the serialized
 * Triton layout (per element: a little-endian u32 length, then the bytes).
 *
 * @example
 * ```ts
 * import type { TensorDataMap } from "@triton/deno";
 *
 * const data: TensorDataMap["INT64"] = new BigInt64Array([1n, 2n]);
 * console.log(data.length); // 2
 * ```
 */
export interface TensorDataMap {
  /** One byte per element, 0 or 1. */
  BOOL: Uint8Array;
  /** Unsigned 8-bit integers. */
  UINT8: Uint8Array;
  /** Unsigned 16-bit integers. */
  UINT16: Uint16Array;
  /** Unsigned 32-bit integers. */
  UINT32: Uint32Array;
  /** Unsigned 64-bit integers. */
  UINT64: BigUint64Array;
  /** Signed 8-bit integers. */
  INT8: Int8Array;
  /** Signed 16-bit integers. */
  INT16: Int16Array;
  /** Signed 32-bit integers. */
  INT32: Int32Array;
  /** Signed 64-bit integers. */
  INT64: BigInt64Array;
  /** IEEE half precision, raw bit patterns. */
  FP16: Uint16Array;
  /** IEEE single precision. */
  FP32: Float32Array;
  /** IEEE double precision. */
  FP64: Float64Array;
  /** The serialized element list: u32 little-endian length, then the bytes, per element. */
  BYTES: Uint8Array;
  /** bfloat16, raw bit patterns (the upper half of an FP32). */
  BF16: Uint16Array;
}

/**
 * The typed array type holding a tensor of datatype `D`.
 *
 * @example
 * ```ts
 * import type { TensorData } from "@triton/deno";
 *
 * const data: TensorData<"FP32"> = new Float32Array(4);
 * console.log(data.length); // 4
 * ```
 */
export type TensorData<D extends DataTypeName = DataTypeName> = TensorDataMap[D];

/** A constructor of one of the typed arrays in {@linkcode TensorDataMap}. */
export type TensorArrayConstructor =
  | Uint8ArrayConstructor
  | Int8ArrayConstructor
  | Uint16ArrayConstructor
  | Int16ArrayConstructor
  | Uint32ArrayConstructor
  | Int32ArrayConstructor
  | BigUint64ArrayConstructor
  | BigInt64ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor;

interface DataTypeInfo {
  /** `TRITONSERVER_DataType` and, equally, config.pbtxt's `DataType` value. */
  readonly code: number;
  /** Bytes per element; 0 for `BYTES`, as `TRITONSERVER_DataTypeByteSize` says. */
  readonly byteSize: number;
  readonly arrayType: TensorArrayConstructor;
}

// Codes are TRITONSERVER_DataType. Triton keeps config.pbtxt's DataType enum
// numerically identical (TYPE_STRING = 13 = BYTES), which datatype_test.ts checks.
const DATA_TYPES: Readonly<Record<DataTypeName, DataTypeInfo>> = Object.freeze({
  BOOL: { code: 1, byteSize: 1, arrayType: Uint8Array },
  UINT8: { code: 2, byteSize: 1, arrayType: Uint8Array },
  UINT16: { code: 3, byteSize: 2, arrayType: Uint16Array },
  UINT32: { code: 4, byteSize: 4, arrayType: Uint32Array },
  UINT64: { code: 5, byteSize: 8, arrayType: BigUint64Array },
  INT8: { code: 6, byteSize: 1, arrayType: Int8Array },
  INT16: { code: 7, byteSize: 2, arrayType: Int16Array },
  INT32: { code: 8, byteSize: 4, arrayType: Int32Array },
  INT64: { code: 9, byteSize: 8, arrayType: BigInt64Array },
  FP16: { code: 10, byteSize: 2, arrayType: Uint16Array },
  FP32: { code: 11, byteSize: 4, arrayType: Float32Array },
  FP64: { code: 12, byteSize: 8, arrayType: Float64Array },
  BYTES: { code: 13, byteSize: 0, arrayType: Uint8Array },
  BF16: { code: 14, byteSize: 2, arrayType: Uint16Array },
});

/**
 * Every datatype name, in code order (`BOOL` = 1 ... `BF16` = 14).
 *
 * @example
 * ```ts
 * import { DATA_TYPE_NAMES } from "@triton/deno";
 *
 * console.log(DATA_TYPE_NAMES.length); // 14
 * ```
 */
export const DATA_TYPE_NAMES: readonly DataTypeName[] = Object.freeze(
  (Object.keys(DATA_TYPES) as DataTypeName[]).sort((a, b) =>
    DATA_TYPES[a].code - DATA_TYPES[b].code
  ),
);

const NAME_BY_CODE: ReadonlyMap<number, DataTypeName> = new Map(
  DATA_TYPE_NAMES.map((name) => [DATA_TYPES[name].code, name]),
);

/**
 * Whether `value` is one of the {@linkcode DataTypeName}s.
 *
 * @example
 * ```ts
 * import { isDataTypeName } from "@triton/deno";
 *
 * console.log(isDataTypeName("FP32"), isDataTypeName("float")); // true false
 * ```
 */
export function isDataTypeName(value: unknown): value is DataTypeName {
  return typeof value === "string" && Object.hasOwn(DATA_TYPES, value);
}

/**
 * The `TRITONSERVER_DataType` code of a datatype (`BOOL` 1 ... `BF16` 14).
 *
 * @example
 * ```ts
 * import { dataTypeCode } from "@triton/deno";
 *
 * console.log(dataTypeCode("FP32")); // 11
 * ```
 */
export function dataTypeCode(datatype: DataTypeName): number {
  return DATA_TYPES[datatype].code;
}

/**
 * The datatype with `TRITONSERVER_DataType` code `code`, or `undefined` for
 * `INVALID` (0) and any unknown code.
 *
 * @example
 * ```ts
 * import { dataTypeFromCode } from "@triton/deno";
 *
 * console.log(dataTypeFromCode(13), dataTypeFromCode(0)); // "BYTES" undefined
 * ```
 */
export function dataTypeFromCode(code: number): DataTypeName | undefined {
  return NAME_BY_CODE.get(code);
}

/**
 * Bytes per element; 0 for `BYTES`, whose elements vary in size.
 *
 * @example
 * ```ts
 * import { dataTypeByteSize } from "@triton/deno";
 *
 * console.log(dataTypeByteSize("FP16"), dataTypeByteSize("BYTES")); // 2 0
 * ```
 */
export function dataTypeByteSize(datatype: DataTypeName): number {
  return DATA_TYPES[datatype].byteSize;
}

/**
 * The typed array constructor that holds a datatype's data.
 *
 * @example
 * ```ts
 * import { dataTypeArrayType } from "@triton/deno";
 *
 * console.log(dataTypeArrayType("BF16") === Uint16Array); // true
 * ```
 */
export function dataTypeArrayType(datatype: DataTypeName): TensorArrayConstructor {
  return DATA_TYPES[datatype].arrayType;
}

/**
 * The config.pbtxt `data_type` value for a datatype (`"FP32"` ->
 * `DataType.TYPE_FP32`, `"BYTES"` -> `DataType.TYPE_STRING`).
 *
 * @example
 * ```ts
 * import { dataTypeToConfig } from "@triton/deno";
 * import { DataType } from "../model_config/config.ts";
 *
 * console.log(dataTypeToConfig("BYTES") === DataType.TYPE_STRING); // true
 * ```
 */
export function dataTypeToConfig(datatype: DataTypeName): DataType {
  return DATA_TYPES[datatype].code as DataType;
}

/**
 * The datatype for a config.pbtxt `data_type` value, or `undefined` for
 * `TYPE_INVALID` and unknown values.
 *
 * @example
 * ```ts
 * import { dataTypeFromConfig } from "@triton/deno";
 * import { DataType } from "../model_config/config.ts";
 *
 * console.log(dataTypeFromConfig(DataType.TYPE_STRING)); // "BYTES"
 * ```
 */
export function dataTypeFromConfig(type: DataType): DataTypeName | undefined {
  return NAME_BY_CODE.get(type);
}

/**
 * The config.pbtxt spelling of a `data_type` value, for messages:
 * `"TYPE_FP32"`, `"TYPE_STRING"`, or `"DataType(99)"` for an unknown value.
 *
 * @example
 * ```ts
 * import { configDataTypeName } from "@triton/deno";
 * import { DataType } from "../model_config/config.ts";
 *
 * console.log(configDataTypeName(DataType.TYPE_FP32)); // "TYPE_FP32"
 * ```
 */
export function configDataTypeName(type: DataType): string {
  const name: string | undefined = DataType[type];
  return name ?? `DataType(${type})`;
}
