/**
 * Turns what a model passes as a tensor's data (a typed array, or a plain
 * array of numbers, bigints, booleans or strings) into the one typed array
 * each datatype is stored as, checking every element.
 *
 * @module
 */

import type { Owner } from "./shape.ts";
import { countBytesElements, encodeBytesTensor } from "./bytes.ts";
import {
  dataTypeArrayType,
  type DataTypeName,
  type TensorArrayConstructor,
  type TensorData,
} from "./datatype.ts";
import { describeValue } from "./describe.ts";
import { ErrorCode, TritonError } from "./error.ts";
import { typedArrayFacts } from "./typed_array.ts";

/**
 * What `new Tensor(...)` accepts as data for datatype `D`: the datatype's typed
 * array (kept, not copied), or a plain array that is converted:
 * - `BYTES`: `string`s and `Uint8Array`s, serialized once (or an already
 *   serialized `Uint8Array`);
 * - `BOOL`: booleans (or 0 and 1);
 * - `INT64`, `UINT64`: bigints or safe integers;
 * - `FP16`, `BF16`: numbers, rounded to nearest-even (a `Float16Array` is also
 *   accepted for `FP16` and viewed as raw bits without a copy);
 * - any other: numbers, integers in range for the integer types.
 *
 * @example
 * ```ts
 * import type { TensorValues } from "@triton/deno";
 *
 * const strings: TensorValues<"BYTES"> = ["a", "b"];
 * const halves: TensorValues<"FP16"> = [0.5, 1.5];
 * console.log(strings.length, halves.length); // 2 2
 * ```
 */
export type TensorValues<D extends DataTypeName> = D extends "BYTES"
  ? Uint8Array | readonly (string | Uint8Array)[]
  : D extends "BOOL" ? Uint8Array | readonly (boolean | number)[]
  : D extends "INT64" | "UINT64" ? TensorData<D> | readonly (bigint | number)[]
  : D extends "FP16" ? Uint16Array | Float16Array | readonly number[]
  : TensorData<D> | readonly number[];

const INTEGER_RANGES: Readonly<Partial<Record<DataTypeName, readonly [number, number]>>> = {
  UINT8: [0, 0xff],
  INT8: [-0x80, 0x7f],
  UINT16: [0, 0xffff],
  INT16: [-0x8000, 0x7fff],
  UINT32: [0, 0xffff_ffff],
  INT32: [-0x8000_0000, 0x7fff_ffff],
};

const BIGINT_RANGES: Readonly<Partial<Record<DataTypeName, readonly [bigint, bigint]>>> = {
  INT64: [-(2n ** 63n), 2n ** 63n - 1n],
  UINT64: [0n, 2n ** 64n - 1n],
};

/**
 * Converts and checks `data` for a tensor of `datatype` with `elementCount`
 * elements.
 *
 * @param owner Names the tensor in errors, e.g. `"tensor 'OUTPUT0'"`.
 * @throws {TritonError} `INVALID_ARG` naming `owner` when the data has the
 * wrong kind, a value out of range, or the wrong number of elements.
 *
 * @example
 * ```ts
 * import { toTensorData } from "./values.ts";
 *
 * console.log(toTensorData("tensor 'X'", "INT64", 2, [1, 2n])); // BigInt64Array [1n, 2n]
 * ```
 */
export function toTensorData<D extends DataTypeName>(
  owner: Owner,
  datatype: D,
  elementCount: number,
  data: unknown,
): TensorData<D> {
  const converted = datatype === "BYTES"
    ? toBytesData(owner, elementCount, data)
    : toFixedSizeData(owner, datatype, elementCount, data);
  return converted as TensorData<D>;
}

function toBytesData(owner: Owner, elementCount: number, data: unknown): Uint8Array {
  let serialized: Uint8Array;
  if (Array.isArray(data)) {
    try {
      serialized = encodeBytesTensor(data);
    } catch (error) {
      throw new TritonError(`${owner}: ${messageOf(error)}`, ErrorCode.INVALID_ARG);
    }
  } else {
    const facts = typedArrayFacts(data);
    if (facts?.kind !== "Uint8Array") {
      throw new TritonError(
        `${owner} has datatype BYTES, which needs an array of strings or Uint8Arrays ` +
          `(or the serialized layout as one Uint8Array); got ${describeValue(data)}`,
        ErrorCode.INVALID_ARG,
      );
    }
    serialized = new Uint8Array(facts.buffer, facts.byteOffset, facts.length);
  }
  const count = countBytesElements(serialized);
  if (typeof count === "string") {
    throw new TritonError(`${owner}: ${count}`, ErrorCode.INVALID_ARG);
  }
  if (count !== elementCount) {
    throw new TritonError(
      `${owner} has ${elementCount} elements by its shape but its BYTES data holds ${count}`,
      ErrorCode.INVALID_ARG,
    );
  }
  return serialized;
}

function toFixedSizeData(
  owner: Owner,
  datatype: DataTypeName,
  elementCount: number,
  data: unknown,
): Exclude<TensorData, Uint8Array> | Uint8Array {
  const arrayType = dataTypeArrayType(datatype);
  let typed: TensorData;
  let length: number;
  if (Array.isArray(data)) {
    typed = fromPlainArray(owner, datatype, arrayType, data);
    length = typed.length;
  } else {
    const facts = typedArrayFacts(data);
    if (facts === undefined) {
      throw new TritonError(
        `${owner} has datatype ${datatype}, which needs a ${arrayType.name} or a plain array; ` +
          `got ${describeValue(data)}`,
        ErrorCode.INVALID_ARG,
      );
    }
    if (datatype === "FP16" && facts.kind === "Float16Array") {
      // The same memory seen as raw bits: no copy.
      typed = new Uint16Array(facts.buffer, facts.byteOffset, facts.length);
    } else if (facts.kind === arrayType.name) {
      // Keep the caller's array; a subclass instance is swapped for a plain
      // view of the same memory, dropping whatever the subclass overrides.
      typed = Object.getPrototypeOf(data) === arrayType.prototype
        ? data as TensorData
        : viewOf(arrayType, facts.buffer, facts.byteOffset, facts.length);
    } else {
      const bits = datatype === "FP16" || datatype === "BF16" ? " of raw 16-bit patterns" : "";
      throw new TritonError(
        `${owner} has datatype ${datatype}, which needs a ${arrayType.name}${bits}; ` +
          `got a ${facts.kind}`,
        ErrorCode.INVALID_ARG,
      );
    }
    length = facts.length;
  }
  if (length !== elementCount) {
    throw new TritonError(
      `${owner} has ${elementCount} elements by its shape but its data holds ${length}`,
      ErrorCode.INVALID_ARG,
    );
  }
  return typed;
}

function fromPlainArray(
  owner: Owner,
  datatype: DataTypeName,
  arrayType: TensorArrayConstructor,
  values: readonly unknown[],
): TensorData {
  const count = values.length;
  const bigintRange = BIGINT_RANGES[datatype];
  if (bigintRange !== undefined) {
    const out = new (arrayType as BigInt64ArrayConstructor | BigUint64ArrayConstructor)(count);
    for (let i = 0; i < count; i++) {
      const value = values[i];
      const big = typeof value === "bigint"
        ? value
        : typeof value === "number" && Number.isSafeInteger(value)
        ? BigInt(value)
        : undefined;
      if (big === undefined || big < bigintRange[0] || big > bigintRange[1]) {
        throw badElement(owner, datatype, i, value);
      }
      out[i] = big;
    }
    return out;
  }
  const numbers = new Float64Array(count);
  const range = INTEGER_RANGES[datatype];
  for (let i = 0; i < count; i++) {
    let value = values[i];
    if (datatype === "BOOL" && typeof value === "boolean") value = value ? 1 : 0;
    if (typeof value !== "number") throw badElement(owner, datatype, i, value);
    if (datatype === "BOOL" && value !== 0 && value !== 1) {
      throw badElement(owner, datatype, i, value);
    }
    if (
      range !== undefined && (!Number.isInteger(value) || value < range[0] || value > range[1])
    ) {
      throw badElement(owner, datatype, i, value);
    }
    numbers[i] = value;
  }
  if (datatype === "FP16") return new Uint16Array(Float16Array.from(numbers).buffer);
  if (datatype === "BF16") return bfloat16Bits(numbers);
  return new (arrayType as Exclude<
    TensorArrayConstructor,
    BigInt64ArrayConstructor | BigUint64ArrayConstructor
  >)(numbers);
}

/**
 * A view of `length` elements of `arrayType` at `byteOffset` in `buffer` (no
 * copy). The caller guarantees alignment and bounds.
 *
 * @example
 * ```ts
 * import { viewOf } from "./values.ts";
 *
 * console.log(viewOf(Float32Array, new ArrayBuffer(16), 4, 3).length); // 3
 * ```
 */
export function viewOf(
  arrayType: TensorArrayConstructor,
  buffer: ArrayBufferLike,
  byteOffset: number,
  length: number,
): TensorData {
  // Every member of the union has this constructor signature; TypeScript
  // cannot call through a union of generic constructors.
  const construct = arrayType as unknown as new (
    buffer: ArrayBufferLike,
    byteOffset: number,
    length: number,
  ) => TensorData;
  return new construct(buffer, byteOffset, length);
}

/** Rounds each value to bfloat16 (nearest, ties to even) and returns the bit patterns. */
function bfloat16Bits(values: Float64Array): Uint16Array {
  const single = new Float32Array(values);
  const words = new Uint32Array(single.buffer);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < words.length; i++) {
    const bits = words[i];
    if (Number.isNaN(single[i])) {
      out[i] = (bits >>> 16) | 0x0040; // keep the sign, force a quiet NaN
    } else {
      // bfloat16 is the top half of an FP32: add just under half an ULP, plus
      // one when the kept half is odd (ties to even), and keep the top half.
      // The sum stays below 2^32 for every non-NaN pattern, so >>> is exact.
      out[i] = (bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16;
    }
  }
  return out;
}

function badElement(owner: Owner, datatype: string, index: number, value: unknown): TritonError {
  const what = datatype === "BOOL"
    ? "a boolean (or 0 or 1)"
    : datatype === "INT64" || datatype === "UINT64"
    ? `a bigint or safe integer in range for ${datatype}`
    : datatype in INTEGER_RANGES
    ? `an integer in range for ${datatype}`
    : "a number";
  return new TritonError(
    `${owner}: element ${index} must be ${what}, got ${describeValue(value)}`,
    ErrorCode.INVALID_ARG,
  );
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
