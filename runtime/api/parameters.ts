/**
 * Request and response parameters, and their wire form, which the parent
 * writes and reads as it is (ffi/src/batch_codec.c writes a request's and
 * reads a response's; ffi/WIRE_FORMAT.md): a JSON
 * object whose members are the parameters in order, each
 * `{"type": T, "value": "<text>"}` where `T` is one of Triton's parameter
 * types (`TRITONSERVER_ParameterType`) `STRING`, `INT`, `BOOL` or `DOUBLE`
 * and every value is text: an `INT` in decimal (a JSON number cannot hold
 * every int64), a `BOOL` `true` or `false`, a `DOUBLE` as a number or
 * `nan`, `inf`, `-inf`; no parameters is the empty string. Requests,
 * responses and calls to other models all use this one form, decoded once
 * ({@linkcode parametersFromWire}) and encoded once
 * ({@linkcode parametersToWire}).
 *
 * @module
 */

import { describeValue } from "./describe.ts";
import { ErrorCode, TritonError } from "./error.ts";

/**
 * The value of one parameter. Integers that fit a double exactly are
 * `number`s; larger int64 values are `bigint`s.
 *
 * @example
 * ```ts
 * import type { ParameterValue } from "@triton/deno";
 *
 * const values: ParameterValue[] = ["text", 3, 2n ** 60n, 0.5, true];
 * console.log(values.length); // 5
 * ```
 */
export type ParameterValue = string | number | bigint | boolean;

/**
 * A set of named parameters, as `request.parameters` and
 * `response.parameters` hold them.
 *
 * @example
 * ```ts
 * import type { InferenceParameters } from "@triton/deno";
 *
 * const parameters: InferenceParameters = { temperature: 0.7, max_tokens: 64, stream: true };
 * console.log(Object.keys(parameters)); // ["temperature", "max_tokens", "stream"]
 * ```
 */
export type InferenceParameters = Readonly<Record<string, ParameterValue>>;

/**
 * Most parameters a response (or BLS request) may carry.
 *
 * @example
 * ```ts
 * import { MAX_PARAMETERS } from "@triton/deno";
 *
 * console.log(MAX_PARAMETERS); // 256
 * ```
 */
export const MAX_PARAMETERS = 256;

/**
 * Longest `STRING` parameter value, and longest key, in UTF-8 bytes (64 KiB).
 *
 * @example
 * ```ts
 * import { MAX_PARAMETER_STRING_BYTES } from "@triton/deno";
 *
 * console.log(MAX_PARAMETER_STRING_BYTES); // 65536
 * ```
 */
export const MAX_PARAMETER_STRING_BYTES = 64 * 1024;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** The frozen empty parameter set, shared by everything that has none. */
export const NO_PARAMETERS: InferenceParameters = Object.freeze({});

/** A parameter's type on the wire: Triton's `TRITONSERVER_ParameterType` names. */
type WireType = "STRING" | "INT" | "BOOL" | "DOUBLE";

/** How the wire spells the doubles a JSON number cannot hold (C's `strtod` reads them back). */
const NON_FINITE_TEXT: Readonly<Record<string, number>> = {
  nan: NaN,
  inf: Infinity,
  "-inf": -Infinity,
};

/** A number as C's `%.17g` and JavaScript's `String` write one (no hex, no blanks). */
const DECIMAL_NUMBER = /^-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$/;

/**
 * Decodes parameters from the wire's form (what the parent writes for a
 * request or a called model's response; see the module documentation). It
 * is the one parse they get: `INT` values become `number`s when they are
 * safe integers and `bigint`s otherwise; `DOUBLE` values become `number`s.
 *
 * @param json The wire form, or "" for none.
 * @param owner Starts every message, e.g. `"request parameter"`.
 * @returns A frozen record, keys in wire order (the shared empty set for none).
 * @throws {TritonError} `INVALID_ARG` naming the key, if the text is not the
 * wire form or a value does not read as its type (an `INT` outside int64).
 *
 * @internal Used by the Worker runtime through internal.ts.
 *
 * @example
 * ```ts
 * import { parametersFromWire } from "./parameters.ts";
 *
 * const parameters = parametersFromWire(
 *   '{"n":{"type":"INT","value":"9007199254740993"},"t":{"type":"DOUBLE","value":"0.5"}}',
 *   "request parameter",
 * );
 * console.log(parameters); // { n: 9007199254740993n, t: 0.5 }
 * ```
 */
export function parametersFromWire(json: string, owner: string): InferenceParameters {
  if (typeof json !== "string") {
    throw invalid(`${owner}s must be JSON text, got ${describeValue(json)}`);
  }
  if (json === "") return NO_PARAMETERS;
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    throw invalid(`${owner}s are not valid JSON: ${(error as Error).message}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw invalid(`${owner}s must be a JSON object, got ${describeValue(raw)}`);
  }
  const entries: [string, ParameterValue][] = [];
  for (const [key, item] of Object.entries(raw)) {
    entries.push([key, decodeWireValue(item, `${owner} '${clip(key)}'`)]);
  }
  if (entries.length === 0) return NO_PARAMETERS;
  // fromEntries defines own data properties, so a key such as "__proto__"
  // stays an ordinary key instead of replacing the prototype.
  return Object.freeze(Object.fromEntries(entries));
}

/** One member's `{"type", "value"}`, checked explicitly (the Worker loads no schema library). */
function decodeWireValue(item: unknown, where: string): ParameterValue {
  if (typeof item !== "object" || item === null || Array.isArray(item)) {
    throw invalid(`${where} is malformed: expected an object, got ${describeValue(item)}`);
  }
  const extra = Object.keys(item).find((name) => name !== "type" && name !== "value");
  if (extra !== undefined) throw invalid(`${where} is malformed: unknown field '${extra}'`);
  const { type, value } = item as { type?: unknown; value?: unknown };
  if (typeof value !== "string") {
    throw invalid(`${where} is malformed: its value must be text, got ${describeValue(value)}`);
  }
  switch (type) {
    case "STRING":
      return value;
    case "BOOL":
      if (value === "true" || value === "false") return value === "true";
      throw invalid(`${where} is malformed: BOOL value must be "true" or "false"`);
    case "INT": {
      if (!/^-?[0-9]+$/.test(value)) {
        throw invalid(`${where} is malformed: INT value must be a decimal integer`);
      }
      // More digits than int64 has: no need to convert to know it does not fit.
      const digits = value.replace(/^(-?)0+(?=[0-9])/, "$1");
      const exact = digits.length > 20 ? INT64_MAX + 1n : BigInt(digits);
      if (exact < INT64_MIN || exact > INT64_MAX) {
        throw invalid(`${where}: INT value ${value} is outside int64`);
      }
      const asNumber = Number(exact);
      return Number.isSafeInteger(asNumber) ? asNumber : exact;
    }
    case "DOUBLE": {
      if (Object.hasOwn(NON_FINITE_TEXT, value)) return NON_FINITE_TEXT[value];
      if (!DECIMAL_NUMBER.test(value)) {
        throw invalid(`${where} is malformed: DOUBLE value must be a number, nan, inf or -inf`);
      }
      return Number(value);
    }
    default:
      throw invalid(`${where} is malformed: type must be one of STRING, INT, BOOL, DOUBLE`);
  }
}

/**
 * Encodes parameters already checked by {@linkcode checkParameters} in the
 * wire's form: a string becomes `STRING`, a boolean `BOOL`, a `bigint` or a
 * whole-number `number` `INT` (as decimal text), any other number `DOUBLE`
 * (`nan`, `inf` and `-inf` for the values a JSON number cannot hold).
 *
 * @param parameters The checked parameters.
 * @returns The wire form, or "" when there are none.
 *
 * @internal Used by the Worker runtime through internal.ts, and by `BlsRequest`.
 *
 * @example
 * ```ts
 * import { parametersToWire } from "./parameters.ts";
 *
 * console.log(parametersToWire({ n: 3, p: 0.5, big: 2n ** 62n, ok: true }));
 * // {"n":{"type":"INT","value":"3"},"p":{"type":"DOUBLE","value":"0.5"},
 * //  "big":{"type":"INT","value":"4611686018427387904"},"ok":{"type":"BOOL","value":"true"}}
 * ```
 */
export function parametersToWire(parameters: InferenceParameters): string {
  const members = Object.entries(parameters).map(([key, value]) => {
    const [type, text] = wireValueOf(value);
    return [key, { type, value: text }] as const;
  });
  // fromEntries keeps a key such as "__proto__" an own member.
  return members.length === 0 ? "" : JSON.stringify(Object.fromEntries(members));
}

function wireValueOf(value: ParameterValue): [WireType, string] {
  switch (typeof value) {
    case "string":
      return ["STRING", value];
    case "boolean":
      return ["BOOL", String(value)];
    case "bigint":
      return ["INT", value.toString()];
    default:
      if (Number.isInteger(value)) return ["INT", BigInt(value).toString()];
      if (Number.isFinite(value)) return ["DOUBLE", String(value)];
      return ["DOUBLE", Number.isNaN(value) ? "nan" : value > 0 ? "inf" : "-inf"];
  }
}

/**
 * Checks parameters a model gives (to a response or a BLS request) and
 * returns a frozen copy: keys must be non-empty, at most
 * {@linkcode MAX_PARAMETERS} of them, strings (keys and values) at most
 * {@linkcode MAX_PARAMETER_STRING_BYTES} bytes of UTF-8, integers (a
 * whole-number `number`, or a `bigint`) within int64.
 *
 * @param value What the model passed.
 * @param owner Starts every message, e.g. `"response parameter"`.
 * @throws {TritonError} `INVALID_ARG` naming the key at fault.
 *
 * @internal Used by `InferenceResponse` and `BlsRequest`.
 *
 * @example
 * ```ts
 * import { checkParameters } from "./parameters.ts";
 *
 * console.log(checkParameters({ a: 1, b: "x" }, "response parameter")); // { a: 1, b: "x" }
 * ```
 */
export function checkParameters(value: unknown, owner: string): InferenceParameters {
  if (value === undefined) return NO_PARAMETERS;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalid(`${owner}s must be an object of key/value pairs, got ${describeValue(value)}`);
  }
  if (Object.getOwnPropertySymbols(value).length > 0) {
    throw invalid(`${owner}s must have string keys; found a symbol key`);
  }
  const keys = Object.keys(value);
  if (keys.length > MAX_PARAMETERS) {
    throw invalid(`${owner}s: ${keys.length} given; the limit is ${MAX_PARAMETERS}`);
  }
  const entries: [string, ParameterValue][] = [];
  // Object keys cannot repeat; the Set guards the copy against a Proxy that
  // reports the same key twice.
  const seen = new Set<string>();
  for (const key of keys) {
    if (key === "") throw invalid(`${owner} keys must not be empty`);
    const where = `${owner} '${clip(key)}'`;
    if (tooLong(key)) {
      throw invalid(`${where}: the key is longer than ${MAX_PARAMETER_STRING_BYTES} bytes`);
    }
    if (seen.has(key)) throw invalid(`${where} appears more than once`);
    seen.add(key);
    const item: unknown = (value as Record<string, unknown>)[key];
    entries.push([key, checkValue(item, where)]);
  }
  return entries.length === 0 ? NO_PARAMETERS : Object.freeze(Object.fromEntries(entries));
}

function checkValue(item: unknown, where: string): ParameterValue {
  switch (typeof item) {
    case "string":
      if (tooLong(item)) {
        throw invalid(`${where}: the string is longer than ${MAX_PARAMETER_STRING_BYTES} bytes`);
      }
      return item;
    case "boolean":
      return item;
    case "bigint":
      if (item < INT64_MIN || item > INT64_MAX) {
        throw invalid(`${where}: ${item}n is outside int64`);
      }
      return item;
    case "number":
      if (Number.isInteger(item)) {
        // Every double beyond 2^53 is whole, so the check must be on the exact value.
        const exact = BigInt(item);
        if (exact < INT64_MIN || exact > INT64_MAX) {
          throw invalid(
            `${where}: ${item} is a whole number outside int64 (whole numbers are sent as INT)`,
          );
        }
      }
      return item;
    default:
      throw invalid(
        `${where} must be a string, number, bigint or boolean, got ${describeValue(item)}`,
      );
  }
}

function invalid(message: string): TritonError {
  return new TritonError(message, ErrorCode.INVALID_ARG);
}

function clip(text: string): string {
  return text.length > 64 ? `${text.slice(0, 64)}...` : text;
}

const encoder = new TextEncoder();

/** Whether `text` takes more than MAX_PARAMETER_STRING_BYTES bytes of UTF-8. */
function tooLong(text: string): boolean {
  // At most 3 bytes per UTF-16 unit: short strings need no encoding.
  if (text.length * 3 <= MAX_PARAMETER_STRING_BYTES) return false;
  return encoder.encode(text).byteLength > MAX_PARAMETER_STRING_BYTES;
}
