/**
 * Request and response parameters, and their wire form: a JSON array of
 * `{"key", "type", "value"}` entries whose `type` is one of Triton's
 * parameter types (`TRITONSERVER_ParameterType`) `STRING`, `INT`, `BOOL` or
 * `DOUBLE`. An `INT` value travels as a decimal string, because a JSON number
 * cannot hold every int64; a `DOUBLE` value is a JSON number, or `"NaN"`,
 * `"Infinity"` or `"-Infinity"`, which JSON numbers cannot express.
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

const NON_FINITE = ["NaN", "Infinity", "-Infinity"] as const;

/** One parameter as the wire carries it. */
export type WireParameter =
  | { key: string; type: "STRING"; value: string }
  | { key: string; type: "INT"; value: string }
  | { key: string; type: "BOOL"; value: boolean }
  | { key: string; type: "DOUBLE"; value: number | (typeof NON_FINITE)[number] };

const WIRE_VALUE_CHECKS: Readonly<Record<WireParameter["type"], (value: unknown) => string>> = {
  STRING: (value) => typeof value === "string" ? "" : `STRING value must be a string`,
  INT: (value) =>
    typeof value === "string" && /^-?[0-9]+$/.test(value)
      ? ""
      : "INT value must be a decimal integer string",
  BOOL: (value) => typeof value === "boolean" ? "" : "BOOL value must be a boolean",
  DOUBLE: (value) =>
    typeof value === "number" || (NON_FINITE as readonly unknown[]).includes(value)
      ? ""
      : `DOUBLE value must be a number or one of ${NON_FINITE.join(", ")}`,
};

/**
 * Checks one wire entry (exactly `key`, `type`, `value`), explicitly rather
 * than with a schema library: the Worker loads this module with every model.
 *
 * @returns The entry, or the problem in words.
 */
function readWireEntry(item: unknown): WireParameter | string {
  if (typeof item !== "object" || item === null || Array.isArray(item)) {
    return `expected an object, got ${describeValue(item)}`;
  }
  const entry = item as Record<string, unknown>;
  const extra = Object.keys(entry).find((name) => !["key", "type", "value"].includes(name));
  if (extra !== undefined) return `unknown field '${extra}'`;
  if (typeof entry.key !== "string") return "key must be a string";
  const type = entry.type;
  if (typeof type !== "string" || !Object.hasOwn(WIRE_VALUE_CHECKS, type)) {
    return `type must be one of ${Object.keys(WIRE_VALUE_CHECKS).join(", ")}`;
  }
  const problem = WIRE_VALUE_CHECKS[type as WireParameter["type"]](entry.value);
  return problem === "" ? entry as unknown as WireParameter : `${problem} (at value)`;
}

/**
 * Decodes the parameters of a request from their wire JSON. `INT` values
 * become `number`s when they are safe integers and `bigint`s otherwise;
 * `DOUBLE` values become `number`s.
 *
 * @param json The wire JSON: an array of `{"key","type","value"}` entries.
 * @returns A frozen record, keys in wire order.
 * @throws {TritonError} `INVALID_ARG` if the JSON does not parse, is not an
 * array of well-formed entries, holds an `INT` outside int64, or repeats a
 * key; the message names the key (or the entry's index when it has none).
 *
 * @internal Used by the Worker runtime through internal.ts.
 *
 * @example
 * ```ts
 * import { parseRequestParameters } from "./parameters.ts";
 *
 * const parameters = parseRequestParameters(
 *   '[{"key":"n","type":"INT","value":"9007199254740993"},{"key":"t","type":"DOUBLE","value":0.5}]',
 * );
 * console.log(parameters); // { n: 9007199254740993n, t: 0.5 }
 * ```
 */
export function parseRequestParameters(json: string): InferenceParameters {
  return parseParameters(json, "request parameter");
}

/**
 * Decodes parameters from their wire JSON; `owner` starts every message
 * (e.g. `"BLS response parameter"`).
 *
 * @internal Shared by request and BLS response decoding.
 *
 * @example
 * ```ts
 * import { parseParameters } from "./parameters.ts";
 *
 * console.log(parseParameters('[{"key":"ok","type":"BOOL","value":true}]', "BLS response parameter"));
 * // { ok: true }
 * ```
 */
export function parseParameters(json: string, owner: string): InferenceParameters {
  if (typeof json !== "string") {
    throw invalid(`${owner}s must be JSON text, got ${describeValue(json)}`);
  }
  if (json === "" || json === "[]") return NO_PARAMETERS;
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    throw invalid(`${owner}s are not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(raw)) {
    throw invalid(`${owner}s must be a JSON array, got ${describeValue(raw)}`);
  }
  return parametersFromEntries(raw, owner);
}

/**
 * Decodes parameters already in the entry-list form (`{key, type, value}`
 * items, as the wire decoder returns them), checking each: the one parse a
 * request's parameters get.
 *
 * @internal For the Worker runtime.
 *
 * @example
 * ```ts
 * import { parametersFromEntries } from "./parameters.ts";
 *
 * console.log(parametersFromEntries([{ key: "n", type: "INT", value: "7" }], "request parameter"));
 * // { n: 7n }
 * ```
 *
 * @param raw The entries.
 * @param owner What starts every message, e.g. `"request parameter"`.
 * @returns The frozen record.
 * @throws {TritonError} `INVALID_ARG` naming a bad entry.
 */
export function parametersFromEntries(
  raw: readonly unknown[],
  owner: string,
): InferenceParameters {
  const entries: [string, ParameterValue][] = [];
  const seen = new Set<string>();
  raw.forEach((item: unknown, index) => {
    const where = entryName(owner, item, index);
    const entry = readWireEntry(item);
    if (typeof entry === "string") throw invalid(`${where} is malformed: ${entry}`);
    if (seen.has(entry.key)) throw invalid(`${where} appears more than once`);
    seen.add(entry.key);
    entries.push([entry.key, decodeValue(entry, where)]);
  });
  if (entries.length === 0) return NO_PARAMETERS;
  // fromEntries defines own data properties, so a key such as "__proto__"
  // stays an ordinary key instead of replacing the prototype.
  return Object.freeze(Object.fromEntries(entries));
}

function entryName(owner: string, item: unknown, index: number): string {
  if (typeof item === "object" && item !== null && "key" in item) {
    const key: unknown = item.key;
    if (typeof key === "string") return `${owner} '${key}'`;
  }
  return `${owner} ${index}`;
}

function decodeValue(entry: WireParameter, where: string): ParameterValue {
  switch (entry.type) {
    case "STRING":
    case "BOOL":
      return entry.value;
    case "INT": {
      // More digits than int64 has: no need to convert to know it does not fit.
      const digits = entry.value.replace(/^(-?)0+(?=[0-9])/, "$1");
      const value = digits.length > 20 ? INT64_MAX + 1n : BigInt(digits);
      if (value < INT64_MIN || value > INT64_MAX) {
        throw invalid(`${where}: INT value ${entry.value} is outside int64`);
      }
      const asNumber = Number(value);
      return Number.isSafeInteger(asNumber) ? asNumber : value;
    }
    case "DOUBLE":
      if (typeof entry.value === "number") return entry.value;
      return entry.value === "NaN" ? NaN : entry.value === "Infinity" ? Infinity : -Infinity;
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

/**
 * Encodes parameters for the wire: a string becomes `STRING`, a boolean
 * `BOOL`, a `bigint` or a whole-number `number` `INT` (as a decimal string),
 * any other number `DOUBLE`.
 *
 * @param record The parameters; checked as {@linkcode checkParameters} does.
 * @returns The wire JSON (an array of `{"key","type","value"}`).
 * @throws {TritonError} `INVALID_ARG` naming the key at fault.
 *
 * @internal Used by the Worker runtime through internal.ts.
 *
 * @example
 * ```ts
 * import { encodeResponseParameters } from "./parameters.ts";
 *
 * console.log(encodeResponseParameters({ n: 3, big: 2n ** 62n, p: 0.5, s: "x", b: false }));
 * // [{"key":"n","type":"INT","value":"3"},{"key":"big","type":"INT","value":"4611686018427387904"},
 * //  {"key":"p","type":"DOUBLE","value":0.5},{"key":"s","type":"STRING","value":"x"},
 * //  {"key":"b","type":"BOOL","value":false}]
 * ```
 */
export function encodeResponseParameters(record: unknown): string {
  return encodeParameters(record, "response parameter");
}

/**
 * A response's parameters, checked, in the entry-list form the wire encoder
 * takes (no JSON in between).
 *
 * @internal For the Worker runtime.
 *
 * @example
 * ```ts
 * import { responseParameterEntries } from "./parameters.ts";
 *
 * console.log(responseParameterEntries({ n: 7 })); // [{ key: "n", type: "INT", value: "7" }]
 * ```
 *
 * @param record The response's parameters.
 * @returns The entries, in order.
 * @throws {TritonError} `INVALID_ARG` naming a bad parameter.
 */
export function responseParameterEntries(record: unknown): WireParameter[] {
  return toWire(checkParameters(record, "response parameter"));
}

/**
 * Encodes parameters for the wire; `owner` starts every message.
 *
 * @internal Shared by response and BLS request encoding.
 *
 * @example
 * ```ts
 * import { encodeParameters } from "./parameters.ts";
 *
 * console.log(encodeParameters({ n: 1 }, "BLS request parameter"));
 * // [{"key":"n","type":"INT","value":"1"}]
 * ```
 */
export function encodeParameters(record: unknown, owner: string): string {
  return JSON.stringify(toWire(checkParameters(record, owner)));
}

/**
 * The wire entries of parameters already checked by {@linkcode checkParameters}.
 *
 * @example
 * ```ts
 * import { toWire } from "./parameters.ts";
 *
 * console.log(toWire({ p: 0.5 })); // [{ key: "p", type: "DOUBLE", value: 0.5 }]
 * ```
 */
export function toWire(parameters: InferenceParameters): WireParameter[] {
  return Object.entries(parameters).map(([key, value]): WireParameter => {
    switch (typeof value) {
      case "string":
        return { key, type: "STRING", value };
      case "boolean":
        return { key, type: "BOOL", value };
      case "bigint":
        return { key, type: "INT", value: value.toString() };
      default:
        if (Number.isInteger(value)) return { key, type: "INT", value: BigInt(value).toString() };
        if (Number.isFinite(value)) return { key, type: "DOUBLE", value };
        return {
          key,
          type: "DOUBLE",
          value: Number.isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity",
        };
    }
  });
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
