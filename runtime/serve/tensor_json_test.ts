import { assertEquals, assertThrows } from "./_test_assert.ts";
import { ServeError } from "./errors.ts";
import {
  InexactIntegerError,
  jsonToTensorBytes,
  parseJsonExact,
  tensorBytesToJson,
} from "./tensor_json.ts";

Deno.test("tensor_json: nested and flat data give the same row-major bytes", () => {
  const flat = jsonToTensorBytes("X", "FP32", [1, 2, 3, 4, 5, 6], 6);
  const nested = jsonToTensorBytes("X", "FP32", [[1, 2, 3], [4, 5, 6]], 6);
  assertEquals(nested, flat);
  assertEquals([...new Float32Array(flat.buffer)], [1, 2, 3, 4, 5, 6]);
});

Deno.test("tensor_json: every fixed-size datatype round-trips", () => {
  const cases: [string, unknown[]][] = [
    ["BOOL", [true, false, true]],
    ["UINT8", [0, 255, 7]],
    ["UINT16", [0, 65535, 7]],
    ["UINT32", [0, 4294967295, 7]],
    ["UINT64", [0, 9007199254740991, 7]],
    ["INT8", [-128, 127, 0]],
    ["INT16", [-32768, 32767, 0]],
    ["INT32", [-2147483648, 2147483647, 0]],
    ["INT64", [-9007199254740991, 9007199254740991, 0]],
    ["FP32", [0.5, -2, 1e10]],
    ["FP64", [0.1, -2.5, 1e300]],
  ];
  for (const [datatype, values] of cases) {
    const bytes = jsonToTensorBytes("X", datatype as "FP32", values, values.length);
    assertEquals(
      tensorBytesToJson("Y", datatype as "FP32", bytes, values.length),
      values,
      datatype,
    );
  }
});

Deno.test("tensor_json: BYTES are UTF-8 strings with u32 length prefixes", () => {
  const bytes = jsonToTensorBytes("X", "BYTES", ["hé", ""], 2);
  assertEquals([...bytes], [3, 0, 0, 0, 0x68, 0xc3, 0xa9, 0, 0, 0, 0]);
  assertEquals(tensorBytesToJson("Y", "BYTES", bytes, 2), ["hé", ""]);
  assertThrows(
    () => tensorBytesToJson("Y", "BYTES", bytes.subarray(0, 5), 2),
    ServeError,
    "output tensor shape does not match size of output for 'Y'",
  );
});

Deno.test("tensor_json: 64-bit integers beyond 2^53 stay exact", () => {
  const text = '{"data":[18446744073709551615, 1]}';
  const loose = JSON.parse(text) as { data: unknown[] };
  assertThrows(() => jsonToTensorBytes("X", "UINT64", loose.data, 2), InexactIntegerError);
  const exact = parseJsonExact(text) as { data: unknown[] };
  const bytes = jsonToTensorBytes("X", "UINT64", exact.data, 2);
  assertEquals([...new BigUint64Array(bytes.buffer)], [18446744073709551615n, 1n]);
  const out = tensorBytesToJson("Y", "UINT64", bytes, 2);
  assertEquals(JSON.stringify(out), "[18446744073709551615,1]");
});

Deno.test("tensor_json: bad data is a 400 naming the input and element", () => {
  const error = assertThrows(
    () => jsonToTensorBytes("INPUT0", "FP32", [1, "x"], 2),
    ServeError,
    "input 'INPUT0': element 1 must be a number",
  );
  assertEquals(error.status, 400);
  assertThrows(() => jsonToTensorBytes("X", "FP32", [1, 2, 3], 4), ServeError, "3 elements given");
  assertThrows(() => jsonToTensorBytes("X", "INT8", [128], 1), ServeError, "range of INT8");
  assertThrows(() => jsonToTensorBytes("X", "INT32", [1.5], 1), ServeError, "an integer");
  assertThrows(() => jsonToTensorBytes("X", "BOOL", [1], 1), ServeError, "true or false");
  assertThrows(() => jsonToTensorBytes("X", "BYTES", [1], 1), ServeError, "a string");
  assertThrows(() => jsonToTensorBytes("X", "FP16", [1], 1), ServeError, "binary data format");
  assertThrows(() => jsonToTensorBytes("X", "FP32", 5, 1), ServeError, "expected an array");
});

Deno.test("tensor_json: FP16 outputs cannot be JSON; sizes are checked", () => {
  assertThrows(() => tensorBytesToJson("Y", "FP16", new Uint8Array(2), 1), ServeError, "FP16");
  const error = assertThrows(
    () => tensorBytesToJson("Y", "FP32", new Uint8Array(6), 2),
    ServeError,
    "does not match size",
  );
  assertEquals(error.status, 500);
});

Deno.test("tensor_json: unaligned output bytes are read correctly", () => {
  const backing = new Uint8Array(9);
  backing.set(new Uint8Array(new Float32Array([1.5, -3]).buffer), 1);
  assertEquals(tensorBytesToJson("Y", "FP32", backing.subarray(1), 2), [1.5, -3]);
});
