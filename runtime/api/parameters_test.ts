import { assert, assertEquals, assertStrictEquals, assertThrows } from "./_test_assert.ts";
import { ErrorCode, TritonError } from "./error.ts";
import {
  checkParameters,
  encodeResponseParameters,
  MAX_PARAMETER_STRING_BYTES,
  MAX_PARAMETERS,
  NO_PARAMETERS,
  parseRequestParameters,
} from "./parameters.ts";

Deno.test("parseRequestParameters decodes every type, INT as number when safe", () => {
  const parameters = parseRequestParameters(JSON.stringify([
    { key: "s", type: "STRING", value: "héllo" },
    { key: "small", type: "INT", value: "-42" },
    { key: "safe_max", type: "INT", value: "9007199254740991" },
    { key: "unsafe", type: "INT", value: "9007199254740993" },
    { key: "int64_min", type: "INT", value: "-9223372036854775808" },
    { key: "b", type: "BOOL", value: true },
    { key: "d", type: "DOUBLE", value: 0.25 },
    { key: "whole_double", type: "DOUBLE", value: 3 },
    { key: "nan", type: "DOUBLE", value: "NaN" },
    { key: "inf", type: "DOUBLE", value: "Infinity" },
    { key: "ninf", type: "DOUBLE", value: "-Infinity" },
  ]));
  assertEquals(parameters.s, "héllo");
  assertStrictEquals(parameters.small, -42);
  assertStrictEquals(parameters.safe_max, Number.MAX_SAFE_INTEGER);
  assertStrictEquals(parameters.unsafe, 9007199254740993n);
  assertStrictEquals(parameters.int64_min, -(2n ** 63n));
  assertStrictEquals(parameters.b, true);
  assertStrictEquals(parameters.d, 0.25);
  assertStrictEquals(parameters.whole_double, 3);
  assert(Number.isNaN(parameters.nan));
  assertStrictEquals(parameters.inf, Infinity);
  assertStrictEquals(parameters.ninf, -Infinity);
  assert(Object.isFrozen(parameters));
  assertEquals(Object.keys(parameters)[0], "s");
});

Deno.test("INT values with leading zeros decode to their value", () => {
  const parameters = parseRequestParameters(
    '[{"key":"a","type":"INT","value":"000000000000000000000007"},' +
      '{"key":"b","type":"INT","value":"-0009"},{"key":"c","type":"INT","value":"-0"}]',
  );
  assertEquals(parameters, { a: 7, b: -9, c: 0 });
});

Deno.test("parseRequestParameters returns the shared empty set for nothing", () => {
  assertStrictEquals(parseRequestParameters(""), NO_PARAMETERS);
  assertStrictEquals(parseRequestParameters("[]"), NO_PARAMETERS);
  assertStrictEquals(parseRequestParameters(" [ ] "), parseRequestParameters(" [ ] "));
  assertEquals(parseRequestParameters(" [ ] "), {});
});

Deno.test("a key such as __proto__ stays an ordinary key", () => {
  const parameters = parseRequestParameters(
    '[{"key":"__proto__","type":"STRING","value":"x"},{"key":"constructor","type":"BOOL","value":false}]',
  );
  assertEquals(Object.keys(parameters), ["__proto__", "constructor"]);
  assertEquals(Object.getPrototypeOf(parameters), Object.prototype);
  assertStrictEquals(parameters["constructor"], false);
});

Deno.test("parseRequestParameters rejects malformed wire JSON, naming the key", () => {
  const cases: [string, string][] = [
    ["{not json", "request parameters are not valid JSON"],
    ['{"key":"a"}', "request parameters must be a JSON array, got an object"],
    ['[{"key":"n","type":"INT","value":5}]', "request parameter 'n' is malformed"],
    ['[{"key":"n","type":"INT","value":"1.5"}]', "request parameter 'n' is malformed"],
    [
      '[{"key":"n","type":"INT","value":"9223372036854775808"}]',
      "request parameter 'n': INT value 9223372036854775808 is outside int64",
    ],
    [
      '[{"key":"n","type":"INT","value":"-9223372036854775809"}]',
      "request parameter 'n': INT value -9223372036854775809 is outside int64",
    ],
    ['[{"key":"n","type":"INT","value":"12345678901234567890"}]', "is outside int64"],
    [
      '[{"key":"n","type":"INT","value":"123456789012345678901234567890"}]',
      "request parameter 'n': INT value 123456789012345678901234567890 is outside int64",
    ],
    ['[{"key":"b","type":"BOOL","value":"true"}]', "request parameter 'b' is malformed"],
    ['[{"key":"d","type":"DOUBLE","value":"nan"}]', "request parameter 'd' is malformed"],
    ['[{"key":"s","type":"STRING","value":1}]', "request parameter 's' is malformed"],
    ['[{"key":"x","type":"BYTES","value":""}]', "request parameter 'x' is malformed"],
    ['[{"key":"x","type":"STRING","value":"","extra":1}]', "request parameter 'x' is malformed"],
    ['[{"type":"STRING","value":""}]', "request parameter 0 is malformed"],
    ["[1]", "request parameter 0 is malformed"],
    [
      '[{"key":"k","type":"STRING","value":"a"},{"key":"k","type":"BOOL","value":true}]',
      "request parameter 'k' appears more than once",
    ],
  ];
  for (const [json, message] of cases) {
    const error = assertThrows(() => parseRequestParameters(json), TritonError, message, json);
    assertEquals(error.code, ErrorCode.INVALID_ARG);
  }
});

Deno.test("encodeResponseParameters picks INT for whole numbers and bigints, DOUBLE otherwise", () => {
  const json = encodeResponseParameters({
    n: 3,
    negative_zero: -0,
    big: 2n ** 62n,
    above_safe: 2 ** 60,
    p: 0.5,
    nan: NaN,
    inf: Infinity,
    ninf: -Infinity,
    s: "x",
    b: false,
  });
  assertEquals(JSON.parse(json), [
    { key: "n", type: "INT", value: "3" },
    { key: "negative_zero", type: "INT", value: "0" },
    { key: "big", type: "INT", value: "4611686018427387904" },
    { key: "above_safe", type: "INT", value: "1152921504606846976" },
    { key: "p", type: "DOUBLE", value: 0.5 },
    { key: "nan", type: "DOUBLE", value: "NaN" },
    { key: "inf", type: "DOUBLE", value: "Infinity" },
    { key: "ninf", type: "DOUBLE", value: "-Infinity" },
    { key: "s", type: "STRING", value: "x" },
    { key: "b", type: "BOOL", value: false },
  ]);
  assertEquals(encodeResponseParameters({}), "[]");
  assertEquals(encodeResponseParameters(undefined), "[]");
});

Deno.test("encoded parameters decode to the same values", () => {
  const original = {
    a: 1,
    b: -(2n ** 63n),
    c: 2n ** 63n - 1n,
    d: 1.5e-300,
    e: "日本語",
    f: true,
    g: -7.25,
  };
  const decoded = parseRequestParameters(encodeResponseParameters(original));
  assertEquals(decoded, original);
});

Deno.test("checkParameters enforces the limits, naming the key", () => {
  const cases: [unknown, string][] = [
    [[1], "response parameters must be an object of key/value pairs, got an array"],
    [null, "response parameters must be an object of key/value pairs, got null"],
    ["a=1", "response parameters must be an object of key/value pairs, got a string"],
    [{ "": 1 }, "response parameter keys must not be empty"],
    [{ k: 2n ** 63n }, "response parameter 'k': 9223372036854775808n is outside int64"],
    [{ k: -(2n ** 63n) - 1n }, "response parameter 'k': -9223372036854775809n is outside int64"],
    [{ k: 2 ** 63 }, "response parameter 'k': 9223372036854776000 is a whole number outside int64"],
    [{ k: -1e300 }, "is a whole number outside int64"],
    [{ k: null }, "response parameter 'k' must be a string, number, bigint or boolean, got null"],
    [
      { k: [1] },
      "response parameter 'k' must be a string, number, bigint or boolean, got an array",
    ],
    [{ k: undefined }, "got undefined"],
    [{ [Symbol("s")]: 1 }, "response parameters must have string keys; found a symbol key"],
    [
      { k: "x".repeat(MAX_PARAMETER_STRING_BYTES + 1) },
      `response parameter 'k': the string is longer than ${MAX_PARAMETER_STRING_BYTES} bytes`,
    ],
    // 3 bytes per character in UTF-8: over the limit although shorter in UTF-16 units.
    [{ k: "€".repeat(MAX_PARAMETER_STRING_BYTES / 3 + 1) }, "the string is longer than"],
    [{ ["k".repeat(MAX_PARAMETER_STRING_BYTES + 1)]: 1 }, "the key is longer than"],
  ];
  for (const [value, message] of cases) {
    const error = assertThrows(
      () => checkParameters(value, "response parameter"),
      TritonError,
      message,
    );
    assertEquals(error.code, ErrorCode.INVALID_ARG);
  }
  // -(2^63) is the smallest int64 and still fits.
  assertEquals(checkParameters({ k: -(2 ** 63) }, "p").k, -(2 ** 63));
  const atLimit = Object.fromEntries(
    Array.from({ length: MAX_PARAMETERS }, (_, i) => [`k${i}`, i]),
  );
  assertEquals(Object.keys(checkParameters(atLimit, "p")).length, MAX_PARAMETERS);
  assertThrows(
    () => checkParameters({ ...atLimit, one_more: 1 }, "response parameter"),
    TritonError,
    `response parameters: ${MAX_PARAMETERS + 1} given; the limit is ${MAX_PARAMETERS}`,
  );
  const exact = "x".repeat(MAX_PARAMETER_STRING_BYTES);
  assertEquals(checkParameters({ k: exact }, "p").k, exact);
});

Deno.test("checkParameters copies and freezes", () => {
  const source: Record<string, number> = { a: 1 };
  const checked = checkParameters(source, "p");
  source.a = 2;
  assertEquals(checked, { a: 1 });
  assert(Object.isFrozen(checked));
  assertStrictEquals(checkParameters({}, "p"), NO_PARAMETERS);
});
