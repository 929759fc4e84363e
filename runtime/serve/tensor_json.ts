/**
 * Tensor data as JSON, the way Triton's HTTP frontend reads and writes it:
 * `data` is a flat or nested array in row-major order; BOOL is `true`/`false`,
 * integers and floats are numbers, BYTES elements are strings. FP16 and BF16
 * travel only as binary data.
 *
 * 64-bit integers beyond 2^53 cannot survive `JSON.parse` as numbers: the
 * reader throws {@linkcode InexactIntegerError} so the caller can parse the
 * header again with {@linkcode parseJsonExact}, which keeps them exact.
 *
 * @module
 */

import type { DataTypeName } from "../api/datatype.ts";
import { dataTypeByteSize } from "../api/datatype.ts";
import { ErrorCode, invalidArg, ServeError } from "./errors.ts";

/** A 64-bit integer input held a number JSON.parse could not keep exact. */
export class InexactIntegerError extends Error {
  /** @param input The input's name. */
  constructor(input: string) {
    super(`input '${input}' holds an integer beyond 2^53; parse the JSON exactly`);
    this.name = "InexactIntegerError";
  }
}

/** A number literal of an integer, for {@linkcode parseJsonExact}. */
const INTEGER_LITERAL = /^-?[0-9]+$/;

/**
 * `JSON.parse`, but integer literals that a double cannot hold exactly become
 * `bigint`s (using the reviver's access to the source text).
 *
 * @example
 * ```ts
 * import { parseJsonExact } from "./tensor_json.ts";
 *
 * console.log(parseJsonExact("[9007199254740993]")); // [9007199254740993n]
 * ```
 */
export function parseJsonExact(text: string): unknown {
  return JSON.parse(text, function (_key, value: unknown, context?: { source?: string }) {
    if (typeof value === "string") return reviveNonFinite(value);
    if (
      typeof value === "number" && !Number.isSafeInteger(value) &&
      context?.source !== undefined && INTEGER_LITERAL.test(context.source)
    ) {
      return BigInt(context.source);
    }
    return value;
  });
}

const INTEGER_RANGES: Partial<Record<DataTypeName, readonly [number, number]>> = {
  UINT8: [0, 0xff],
  UINT16: [0, 0xffff],
  UINT32: [0, 0xffff_ffff],
  INT8: [-0x80, 0x7f],
  INT16: [-0x8000, 0x7fff],
  INT32: [-0x8000_0000, 0x7fff_ffff],
};

const INT64_RANGE = [-(1n << 63n), (1n << 63n) - 1n] as const;
const UINT64_RANGE = [0n, (1n << 64n) - 1n] as const;

const encoder = new TextEncoder();

/**
 * Converts an input's JSON `data` into the tensor's bytes (Triton's binary
 * layout: little-endian, BYTES as u32 length + bytes per element).
 *
 * @param input The input's name, for messages.
 * @param datatype The input's datatype.
 * @param data The `data` member as parsed.
 * @param elementCount The element count its shape implies.
 * @throws {ServeError} `INVALID_ARG` naming the input and the problem.
 * @throws {InexactIntegerError} When a 64-bit integer lost precision in parsing.
 *
 * @example
 * ```ts
 * import { jsonToTensorBytes } from "./tensor_json.ts";
 *
 * const bytes = jsonToTensorBytes("X", "INT32", [[1, 2], [3, 4]], 4);
 * console.log(new Int32Array(bytes.buffer)); // Int32Array [1, 2, 3, 4]
 * ```
 */
export function jsonToTensorBytes(
  input: string,
  datatype: DataTypeName,
  data: unknown,
  elementCount: number,
): Uint8Array<ArrayBuffer> {
  if (datatype === "FP16" || datatype === "BF16") {
    throw invalidArg(
      `receiving ${datatype} data via JSON is not supported. ` +
        `Please use the binary data format for input ${input}`,
    );
  }
  if (!Array.isArray(data)) {
    throw invalidArg(`Unable to parse 'data' of input '${input}': expected an array`);
  }
  const elements = flatten(data, input);
  if (elements.length !== elementCount) {
    throw invalidArg(
      `Unable to parse 'data' of input '${input}': shape does not match true shape of ` +
        `'data' field (${elements.length} elements given, the shape needs ${elementCount})`,
    );
  }
  if (datatype === "BYTES") return encodeStrings(input, elements);

  const out = new Uint8Array(elementCount * dataTypeByteSize(datatype));
  const fail = (index: number, want: string): never => {
    throw invalidArg(
      `Unable to parse 'data' of input '${input}': element ${index} must be ${want}, ` +
        `got ${show(elements[index])}`,
    );
  };
  switch (datatype) {
    case "BOOL":
      for (let i = 0; i < elementCount; i++) {
        const value = elements[i];
        if (typeof value !== "boolean") fail(i, "true or false");
        out[i] = value ? 1 : 0;
      }
      return out;
    case "FP32":
    case "FP64": {
      const view = datatype === "FP32"
        ? new Float32Array(out.buffer)
        : new Float64Array(out.buffer);
      for (let i = 0; i < elementCount; i++) {
        const value = elements[i];
        if (typeof value !== "number") fail(i, "a number");
        view[i] = value as number;
      }
      return out;
    }
    case "INT64":
    case "UINT64": {
      const [low, high] = datatype === "INT64" ? INT64_RANGE : UINT64_RANGE;
      const view = datatype === "INT64"
        ? new BigInt64Array(out.buffer)
        : new BigUint64Array(out.buffer);
      for (let i = 0; i < elementCount; i++) {
        const value = elements[i];
        let exact: bigint;
        if (typeof value === "bigint") {
          exact = value;
        } else if (typeof value === "number" && Number.isInteger(value)) {
          if (!Number.isSafeInteger(value)) throw new InexactIntegerError(input);
          exact = BigInt(value);
        } else {
          return fail(i, `an integer (${datatype})`);
        }
        if (exact < low || exact > high) fail(i, `within the range of ${datatype}`);
        view[i] = exact;
      }
      return out;
    }
    default: {
      const range = INTEGER_RANGES[datatype];
      if (range === undefined) throw invalidArg(`invalid datatype for input ${input}`);
      const view = integerView(datatype, out.buffer);
      for (let i = 0; i < elementCount; i++) {
        const value = elements[i];
        if (typeof value !== "number" || !Number.isInteger(value)) {
          fail(i, `an integer (${datatype})`);
        }
        if ((value as number) < range[0] || (value as number) > range[1]) {
          fail(i, `within the range of ${datatype}`);
        }
        view[i] = value as number;
      }
      return out;
    }
  }
}

/**
 * Converts an output's bytes into the JSON `data` array Triton returns.
 * 64-bit integers beyond 2^53 are written exactly (as raw JSON numbers).
 *
 * @throws {ServeError} `INVALID_ARG` for FP16/BF16 (binary only), `INTERNAL`
 * when the bytes do not fit the shape.
 *
 * @example
 * ```ts
 * import { tensorBytesToJson } from "./tensor_json.ts";
 *
 * const bytes = new Uint8Array(new Float32Array([0.5, 2]).buffer);
 * console.log(tensorBytesToJson("Y", "FP32", bytes, 2)); // [0.5, 2]
 * ```
 */
export function tensorBytesToJson(
  output: string,
  datatype: DataTypeName,
  bytes: Uint8Array,
  elementCount: number,
): unknown[] {
  if (datatype === "FP16" || datatype === "BF16") {
    throw invalidArg(
      `sending ${datatype} data via JSON is not supported. ` +
        "Please use the binary data format for output",
    );
  }
  const mismatch = () =>
    new ServeError(
      ErrorCode.INTERNAL,
      `output tensor shape does not match size of output for '${output}'`,
    );
  if (datatype === "BYTES") return decodeStrings(bytes, elementCount, mismatch);
  if (bytes.byteLength !== elementCount * dataTypeByteSize(datatype)) throw mismatch();
  const buffer = alignedCopy(bytes, dataTypeByteSize(datatype));
  switch (datatype) {
    case "BOOL": {
      const result: boolean[] = new Array(elementCount);
      for (let i = 0; i < elementCount; i++) result[i] = buffer[i] !== 0;
      return result;
    }
    case "FP32":
      return markNonFinite(
        Array.from(new Float32Array(buffer.buffer, buffer.byteOffset, elementCount)),
      );
    case "FP64":
      return markNonFinite(
        Array.from(new Float64Array(buffer.buffer, buffer.byteOffset, elementCount)),
      );
    case "INT64":
    case "UINT64": {
      const view = datatype === "INT64"
        ? new BigInt64Array(buffer.buffer, buffer.byteOffset, elementCount)
        : new BigUint64Array(buffer.buffer, buffer.byteOffset, elementCount);
      const result: unknown[] = new Array(elementCount);
      for (let i = 0; i < elementCount; i++) {
        const value = view[i];
        const asNumber = Number(value);
        result[i] = Number.isSafeInteger(asNumber) ? asNumber : rawJson(value.toString());
      }
      return result;
    }
    default:
      return Array.from(integerView(datatype, buffer.buffer, buffer.byteOffset, elementCount));
  }
}

/**
 * Non-finite numbers travel in JSON as Triton's JSON library (RapidJSON with
 * its NaN-and-Inf flags) writes and reads them: `NaN`, `Infinity`,
 * `-Infinity` (read also: `Inf`, `-Inf`). `JSON` knows none of them, so they
 * are carried through `JSON.stringify`/`JSON.parse` as strings holding this
 * process's random mark, which no client or model can know.
 */
const NON_FINITE_MARK = `\u0001nf-${crypto.randomUUID()}:`;
/** The mark as `JSON.stringify` writes it inside a string. */
const WRITTEN_MARK = JSON.stringify(NON_FINITE_MARK).slice(1, -1);
const WRITTEN_NON_FINITE = new RegExp(
  `"${WRITTEN_MARK.replaceAll("\\", "\\\\")}(NaN|Infinity|-Infinity)"`,
  "g",
);

/** The numbers as they are, with non-finite ones replaced by marked strings. */
function markNonFinite(values: number[]): unknown[] {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      return values.map((value) => Number.isFinite(value) ? value : NON_FINITE_MARK + value);
    }
  }
  return values;
}

/**
 * `JSON.stringify` for an answer holding tensor data: non-finite numbers
 * come out as `NaN`, `Infinity` and `-Infinity`, as Triton writes them.
 *
 * @example
 * ```ts
 * import { stringifyTritonJson, tensorBytesToJson } from "./tensor_json.ts";
 *
 * const data = tensorBytesToJson("Y", "FP32", new Uint8Array(new Float32Array([NaN, 1]).buffer), 2);
 * console.log(stringifyTritonJson({ data })); // {"data":[NaN,1]}
 * ```
 */
export function stringifyTritonJson(value: unknown): string {
  const text = JSON.stringify(value);
  return text.includes(WRITTEN_MARK) ? text.replace(WRITTEN_NON_FINITE, "$1") : text;
}

/** `NaN`, `Inf` or `Infinity` (optionally negative) where a JSON value may start. */
const NON_FINITE_TOKEN = /-?(?:NaN|Infinity|Inf)(?![A-Za-z0-9_])/y;

/**
 * The JSON text with Triton's non-finite literals outside strings turned
 * into marked strings (for {@linkcode reviveNonFinite}); undefined when
 * there are none.
 */
export function markNonFiniteLiterals(text: string): string | undefined {
  let out = "";
  let copied = 0;
  for (let i = 0; i < text.length;) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // Skip a string, escapes included.
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
      i++;
      continue;
    }
    if (c === 0x2d || c === 0x4e || c === 0x49) { // '-', 'N', 'I'
      NON_FINITE_TOKEN.lastIndex = i;
      const match = NON_FINITE_TOKEN.exec(text);
      if (match !== null) {
        const token = match[0];
        const value = token.endsWith("NaN")
          ? "NaN"
          : token.startsWith("-")
          ? "-Infinity"
          : "Infinity";
        out += text.slice(copied, i) + JSON.stringify(NON_FINITE_MARK + value);
        i += token.length;
        copied = i;
        continue;
      }
    }
    i++;
  }
  return copied === 0 ? undefined : out + text.slice(copied);
}

/** A `JSON.parse` reviver step: a marked string back to its number. */
export function reviveNonFinite(value: unknown): unknown {
  if (typeof value !== "string" || !value.startsWith(NON_FINITE_MARK)) return value;
  return Number(value.slice(NON_FINITE_MARK.length));
}

/** `JSON.rawJSON` (V8 has it; TypeScript's lib does not declare it yet). */
const rawJson = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON.bind(JSON);

/**
 * A value `JSON.stringify` can write: a `bigint` becomes its exact number
 * literal; anything else is returned as is.
 *
 * @example
 * ```ts
 * import { jsonNumber } from "./tensor_json.ts";
 *
 * console.log(JSON.stringify({ n: jsonNumber(9007199254740993n) })); // {"n":9007199254740993}
 * ```
 */
export function jsonNumber(value: unknown): unknown {
  return typeof value === "bigint" ? rawJson(value.toString()) : value;
}

/** Integer literals long enough that `JSON.parse` may round them. */
const LONG_INTEGER = /[0-9]{16,}/;

/**
 * `JSON.parse` for text that may hold 64-bit integers: exact
 * ({@linkcode parseJsonExact}) only when the text has a long digit run, so
 * the common case stays fast.
 *
 * @example
 * ```ts
 * import { parseJsonMaybeExact } from "./tensor_json.ts";
 *
 * console.log(parseJsonMaybeExact('{"n":9007199254740993}')); // { n: 9007199254740993n }
 * ```
 */
export function parseJsonMaybeExact(text: string): unknown {
  return LONG_INTEGER.test(text) ? parseJsonExact(text) : JSON.parse(text);
}

type IntegerArray = Uint8Array | Uint16Array | Uint32Array | Int8Array | Int16Array | Int32Array;

function integerView(
  datatype: DataTypeName,
  buffer: ArrayBufferLike,
  byteOffset = 0,
  length?: number,
): IntegerArray {
  switch (datatype) {
    case "UINT8":
      return new Uint8Array(buffer, byteOffset, length);
    case "UINT16":
      return new Uint16Array(buffer, byteOffset, length);
    case "UINT32":
      return new Uint32Array(buffer, byteOffset, length);
    case "INT8":
      return new Int8Array(buffer, byteOffset, length);
    case "INT16":
      return new Int16Array(buffer, byteOffset, length);
    case "INT32":
      return new Int32Array(buffer, byteOffset, length);
    default:
      throw new ServeError(ErrorCode.INTERNAL, `not an integer datatype: ${datatype}`);
  }
}

/** The bytes themselves when suitably aligned for a typed-array view, else a copy. */
function alignedCopy(bytes: Uint8Array, alignment: number): Uint8Array {
  return bytes.byteOffset % alignment === 0 ? bytes : bytes.slice();
}

/** A JSON value for an error message (bigints and non-finite numbers included). */
function show(value: unknown): string {
  if (typeof value === "bigint" || typeof value === "number") return String(value);
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** How deep `data` may nest: Triton refuses deeper arrays. */
export const MAX_DATA_DEPTH = 100;

/**
 * Flattens nested arrays (row-major); the fast path is an already flat array.
 *
 * @throws {ServeError} `INVALID_ARG` when arrays nest deeper than {@linkcode MAX_DATA_DEPTH}.
 */
function flatten(data: unknown[], input: string): unknown[] {
  let nested = false;
  for (let i = 0; i < data.length; i++) {
    if (Array.isArray(data[i])) {
      nested = true;
      break;
    }
  }
  if (!nested) return data;
  const out: unknown[] = [];
  const visit = (items: unknown[], depth: number) => {
    if (depth > MAX_DATA_DEPTH) {
      throw invalidArg(
        `Unable to parse 'data' of input '${input}': arrays nested deeper than ` +
          `${MAX_DATA_DEPTH} levels`,
      );
    }
    for (const item of items) {
      if (Array.isArray(item)) visit(item, depth + 1);
      else out.push(item);
    }
  };
  visit(data, 1);
  return out;
}

function encodeStrings(input: string, elements: unknown[]): Uint8Array<ArrayBuffer> {
  const encoded: Uint8Array[] = new Array(elements.length);
  let total = 0;
  for (let i = 0; i < elements.length; i++) {
    const value = elements[i];
    if (typeof value !== "string") {
      throw invalidArg(
        `Unable to parse 'data' of input '${input}': element ${i} must be a string (BYTES), ` +
          `got ${show(value)}`,
      );
    }
    encoded[i] = encoder.encode(value);
    total += 4 + encoded[i].byteLength;
  }
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let position = 0;
  for (const element of encoded) {
    view.setUint32(position, element.byteLength, true);
    out.set(element, position + 4);
    position += 4 + element.byteLength;
  }
  return out;
}

const decoder = new TextDecoder();

function decodeStrings(bytes: Uint8Array, count: number, mismatch: () => Error): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const result: string[] = new Array(count);
  let position = 0;
  for (let i = 0; i < count; i++) {
    if (position + 4 > bytes.byteLength) throw mismatch();
    const length = view.getUint32(position, true);
    position += 4;
    if (position + length > bytes.byteLength) throw mismatch();
    result[i] = decoder.decode(bytes.subarray(position, position + length));
    position += length;
  }
  if (position !== bytes.byteLength) throw mismatch();
  return result;
}
