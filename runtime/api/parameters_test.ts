import { assert, assertEquals, assertStrictEquals, assertThrows } from "./_test_assert.ts";
import { ErrorCode, TritonError } from "./error.ts";
import {
  checkParameters,
  MAX_PARAMETER_STRING_BYTES,
  MAX_PARAMETERS,
  NO_PARAMETERS,
  parametersFromWire,
  parametersToWire,
} from "./parameters.ts";

/** The wire form of `[key, type, value text]` members, as the parent writes it. */
function wire(...members: [string, string, string][]): string {
  return JSON.stringify(
    Object.fromEntries(members.map(([key, type, value]) => [key, { type, value }])),
  );
}

const decode = (json: string) => parametersFromWire(json, "request parameter");

Deno.test("parametersFromWire decodes every type, INT as number when safe", () => {
  const parameters = decode(wire(
    ["s", "STRING", "héllo"],
    ["small", "INT", "-42"],
    ["safe_max", "INT", "9007199254740991"],
    ["unsafe", "INT", "9007199254740993"],
    ["int64_min", "INT", "-9223372036854775808"],
    ["b", "BOOL", "true"],
    ["f", "BOOL", "false"],
    ["d", "DOUBLE", "0.25"],
    ["whole_double", "DOUBLE", "3"],
    ["exponent", "DOUBLE", "1.0000000000000001e-300"],
    ["nan", "DOUBLE", "nan"],
    ["inf", "DOUBLE", "inf"],
    ["ninf", "DOUBLE", "-inf"],
  ));
  assertEquals(parameters.s, "héllo");
  assertStrictEquals(parameters.small, -42);
  assertStrictEquals(parameters.safe_max, Number.MAX_SAFE_INTEGER);
  assertStrictEquals(parameters.unsafe, 9007199254740993n);
  assertStrictEquals(parameters.int64_min, -(2n ** 63n));
  assertStrictEquals(parameters.b, true);
  assertStrictEquals(parameters.f, false);
  assertStrictEquals(parameters.d, 0.25);
  assertStrictEquals(parameters.whole_double, 3);
  assertStrictEquals(parameters.exponent, 1.0000000000000001e-300);
  assert(Number.isNaN(parameters.nan));
  assertStrictEquals(parameters.inf, Infinity);
  assertStrictEquals(parameters.ninf, -Infinity);
  assert(Object.isFrozen(parameters));
  assertEquals(Object.keys(parameters)[0], "s");
});

Deno.test("INT values with leading zeros decode to their value", () => {
  const parameters = decode(
    wire(["a", "INT", "000000000000000000000007"], ["b", "INT", "-0009"], ["c", "INT", "-0"]),
  );
  assertEquals(parameters, { a: 7, b: -9, c: 0 });
});

Deno.test("parametersFromWire returns the shared empty set for nothing", () => {
  assertStrictEquals(decode(""), NO_PARAMETERS);
  assertStrictEquals(decode("{}"), NO_PARAMETERS);
  assertStrictEquals(decode(" { } "), NO_PARAMETERS);
});

Deno.test("a key such as __proto__ stays an ordinary key, both ways", () => {
  const json = '{"__proto__":{"type":"STRING","value":"x"},' +
    '"constructor":{"type":"BOOL","value":"false"}}';
  const parameters = decode(json);
  assertEquals(Object.keys(parameters), ["__proto__", "constructor"]);
  assertEquals(Object.getPrototypeOf(parameters), Object.prototype);
  assertStrictEquals(parameters["constructor"], false);
  assertEquals(parametersToWire(parameters), json);
});

Deno.test("parametersFromWire rejects what is not the wire form, naming the key", () => {
  const cases: [string, string][] = [
    ["{not json", "request parameters are not valid JSON"],
    ['[{"key":"a"}]', "request parameters must be a JSON object, got an array"],
    ['"text"', "request parameters must be a JSON object, got a string"],
    [
      '{"n":{"type":"INT","value":5}}',
      "request parameter 'n' is malformed: its value must be text",
    ],
    [wire(["n", "INT", "1.5"]), "request parameter 'n' is malformed: INT value"],
    [wire(["n", "INT", ""]), "request parameter 'n' is malformed: INT value"],
    [
      wire(["n", "INT", "9223372036854775808"]),
      "request parameter 'n': INT value 9223372036854775808 is outside int64",
    ],
    [
      wire(["n", "INT", "-9223372036854775809"]),
      "request parameter 'n': INT value -9223372036854775809 is outside int64",
    ],
    [wire(["n", "INT", "12345678901234567890"]), "is outside int64"],
    [
      wire(["n", "INT", "123456789012345678901234567890"]),
      "request parameter 'n': INT value 123456789012345678901234567890 is outside int64",
    ],
    [wire(["b", "BOOL", "yes"]), "request parameter 'b' is malformed: BOOL value"],
    [wire(["d", "DOUBLE", "NaN"]), "request parameter 'd' is malformed: DOUBLE value"],
    [wire(["d", "DOUBLE", "0x10"]), "request parameter 'd' is malformed: DOUBLE value"],
    [wire(["d", "DOUBLE", " "]), "request parameter 'd' is malformed: DOUBLE value"],
    [wire(["x", "BYTES", ""]), "request parameter 'x' is malformed: type must be one of"],
    ['{"x":{"type":"STRING","value":"","extra":1}}', "request parameter 'x' is malformed"],
    ['{"x":1}', "request parameter 'x' is malformed: expected an object"],
    [42 as unknown as string, "request parameters must be JSON text, got a number"],
  ];
  for (const [json, message] of cases) {
    const error = assertThrows(() => decode(json), TritonError, message, json);
    assertEquals(error.code, ErrorCode.INVALID_ARG);
  }
});

Deno.test("parametersToWire picks INT for whole numbers and bigints, DOUBLE otherwise", () => {
  const json = parametersToWire(checkParameters({
    n: 3,
    negative_zero: -0,
    big: 2n ** 62n,
    above_safe: 2 ** 60,
    p: 0.5,
    tiny: 5e-324,
    nan: NaN,
    inf: Infinity,
    ninf: -Infinity,
    s: "x",
    b: false,
  }, "response parameter"));
  assertEquals(
    json,
    wire(
      ["n", "INT", "3"],
      ["negative_zero", "INT", "0"],
      ["big", "INT", "4611686018427387904"],
      ["above_safe", "INT", "1152921504606846976"],
      ["p", "DOUBLE", "0.5"],
      ["tiny", "DOUBLE", "5e-324"],
      ["nan", "DOUBLE", "nan"],
      ["inf", "DOUBLE", "inf"],
      ["ninf", "DOUBLE", "-inf"],
      ["s", "STRING", "x"],
      ["b", "BOOL", "false"],
    ),
  );
  assertEquals(parametersToWire({}), "");
  assertEquals(parametersToWire(NO_PARAMETERS), "");
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
    h: 2 ** 60,
  };
  assertEquals(decode(parametersToWire(checkParameters(original, "response parameter"))), {
    ...original,
    // A whole double travels as INT and comes back as the integer it is.
    h: 1152921504606846976n,
  });
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
