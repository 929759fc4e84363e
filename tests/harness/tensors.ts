/**
 * Tensor values as the test host exchanges them: Triton datatype names and
 * codes, encoding of request inputs into the bytes Triton hands a backend,
 * and decoding of output bytes into typed arrays (or byte strings for
 * BYTES).
 *
 * @example Encode a BYTES input and decode it back
 * ```ts
 * import { decodeOutput, encodeInput } from "./tensors.ts";
 *
 * const bytes = encodeInput({ name: "IN", datatype: "BYTES", shape: [2], data: ["a", "bc"] });
 * const out = decodeOutput("OUT", "BYTES", [2], bytes);
 * console.log(out.kind === "bytes" && out.strings); // ["a", "bc"]
 * ```
 *
 * @module
 */

import {
  DATA_TYPE_NAMES,
  dataTypeByteSize,
  dataTypeCode,
  type DataTypeName,
} from "../../runtime/api/datatype.ts";

export type { DataTypeName };

/** `TRITONSERVER_DataType` codes by name, from the model API's one table. */
export const DATATYPE_CODES: Readonly<Record<DataTypeName, number>> = Object.freeze(
  Object.fromEntries(DATA_TYPE_NAMES.map((name) => [name, dataTypeCode(name)])) as Record<
    DataTypeName,
    number
  >,
);

/** Element size in bytes (0 for BYTES, whose elements vary). */
export const DATATYPE_SIZES: Readonly<Record<DataTypeName, number>> = Object.freeze(
  Object.fromEntries(DATA_TYPE_NAMES.map((name) => [name, dataTypeByteSize(name)])) as Record<
    DataTypeName,
    number
  >,
);

/** A typed array of any numeric Triton datatype (FP16/BF16 as raw Uint16). */
export type NumericArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | BigUint64Array
  | BigInt64Array
  | Float32Array
  | Float64Array;

/** One input tensor of a request. */
export interface InputTensor {
  /** Input name, as in the model configuration. */
  name: string;
  /** Triton datatype. */
  datatype: DataTypeName;
  /** Shape, including any batch dimension. */
  shape: readonly number[];
  /** Values: a typed array for numeric types; strings or byte strings for BYTES. */
  data: NumericArray | readonly (string | Uint8Array)[];
  /** Split the data into this many separately allocated buffers (default 1). */
  bufferCount?: number;
  /**
   * Tell the backend its buffers are in this GPU's memory (simulated: the
   * memory is the host's; the stand-in core only, see
   * `host_request_place_in_gpu`).
   */
  gpu?: number;
}

/** A decoded numeric output. */
export interface NumericOutput {
  /** Discriminates numeric from BYTES outputs. */
  kind: "numeric";
  /** Output name. */
  name: string;
  /** Datatype name as the backend declared it. */
  datatype: DataTypeName;
  /** Shape as the backend declared it. */
  shape: number[];
  /** The output's bytes exactly as the backend wrote them. */
  raw: Uint8Array;
  /** The bytes viewed as the datatype's typed array (whole elements only). */
  data: NumericArray;
  /** Whether the byte size equals the element count of `shape` times the element size. */
  byteSizeMatchesShape: boolean;
}

/** A decoded BYTES output. */
export interface BytesOutput {
  /** Discriminates numeric from BYTES outputs. */
  kind: "bytes";
  /** Output name. */
  name: string;
  /** Always "BYTES". */
  datatype: "BYTES";
  /** Shape as the backend declared it. */
  shape: number[];
  /** The output's bytes exactly as the backend wrote them. */
  raw: Uint8Array;
  /** The elements, or as many as could be decoded. */
  data: Uint8Array[];
  /** The elements decoded as UTF-8. */
  strings: string[];
  /** Whether the length-prefixed elements exactly fill the bytes and match the shape. */
  byteSizeMatchesShape: boolean;
}

/** An output tensor as the host recorded it. */
export type OutputTensor = NumericOutput | BytesOutput;

/** Whether a string names a Triton datatype. */
export function isDataTypeName(name: string): name is DataTypeName {
  return Object.hasOwn(DATATYPE_CODES, name);
}

/** The element count of a shape (1 for a scalar shape []). */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((product, dim) => product * dim, 1);
}

/** Encodes BYTES elements in Triton's layout: u32 little-endian length, then the bytes. */
export function encodeBytesElements(elements: readonly (string | Uint8Array)[]): Uint8Array {
  const encoder = new TextEncoder();
  const parts = elements.map((element) =>
    typeof element === "string" ? encoder.encode(element) : element
  );
  const total = parts.reduce((sum, part) => sum + 4 + part.byteLength, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const part of parts) {
    view.setUint32(at, part.byteLength, true);
    out.set(part, at + 4);
    at += 4 + part.byteLength;
  }
  return out;
}

/** The bytes of an input tensor as Triton would hand them to a backend. */
export function encodeInput(input: InputTensor): Uint8Array {
  if (input.datatype === "BYTES") {
    if (!Array.isArray(input.data)) {
      throw new TypeError(`input '${input.name}': BYTES data must be an array of elements`);
    }
    return encodeBytesElements(input.data as readonly (string | Uint8Array)[]);
  }
  if (Array.isArray(input.data) || !ArrayBuffer.isView(input.data)) {
    throw new TypeError(`input '${input.name}': ${input.datatype} data must be a typed array`);
  }
  const view = input.data as NumericArray;
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

function numericView(datatype: DataTypeName, buffer: ArrayBuffer, count: number): NumericArray {
  switch (datatype) {
    case "BOOL":
    case "UINT8":
      return new Uint8Array(buffer, 0, count);
    case "INT8":
      return new Int8Array(buffer, 0, count);
    case "UINT16":
    case "FP16":
    case "BF16":
      return new Uint16Array(buffer, 0, count);
    case "INT16":
      return new Int16Array(buffer, 0, count);
    case "UINT32":
      return new Uint32Array(buffer, 0, count);
    case "INT32":
      return new Int32Array(buffer, 0, count);
    case "UINT64":
      return new BigUint64Array(buffer, 0, count);
    case "INT64":
      return new BigInt64Array(buffer, 0, count);
    case "FP32":
      return new Float32Array(buffer, 0, count);
    case "FP64":
      return new Float64Array(buffer, 0, count);
    case "BYTES":
      throw new TypeError("BYTES has no numeric view");
  }
}

/** Splits Triton's BYTES layout into elements; `complete` is false if the bytes are malformed. */
export function decodeBytesElements(
  raw: Uint8Array,
): { elements: Uint8Array[]; complete: boolean } {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const elements: Uint8Array[] = [];
  let at = 0;
  while (at < raw.byteLength) {
    if (raw.byteLength - at < 4) return { elements, complete: false };
    const length = view.getUint32(at, true);
    at += 4;
    if (raw.byteLength - at < length) return { elements, complete: false };
    elements.push(raw.slice(at, at + length));
    at += length;
  }
  return { elements, complete: true };
}

/**
 * Decodes an output's bytes. Never throws on a size mismatch: the result says
 * whether the bytes match the shape, so a test can assert on it.
 */
export function decodeOutput(
  name: string,
  datatype: string,
  shape: number[],
  raw: Uint8Array,
): OutputTensor {
  if (!isDataTypeName(datatype)) {
    throw new TypeError(`output '${name}' has an unknown datatype '${datatype}'`);
  }
  const count = elementCount(shape);
  if (datatype === "BYTES") {
    const { elements, complete } = decodeBytesElements(raw);
    const decoder = new TextDecoder();
    return {
      kind: "bytes",
      name,
      datatype,
      shape,
      raw,
      data: elements,
      strings: elements.map((element) => decoder.decode(element)),
      byteSizeMatchesShape: complete && elements.length === count,
    };
  }
  const size = DATATYPE_SIZES[datatype];
  const aligned = new ArrayBuffer(raw.byteLength);
  new Uint8Array(aligned).set(raw);
  return {
    kind: "numeric",
    name,
    datatype,
    shape,
    raw,
    data: numericView(datatype, aligned, Math.floor(raw.byteLength / size)),
    byteSizeMatchesShape: raw.byteLength === count * size,
  };
}
