import {
  assert,
  assertEquals,
  assertStrictEquals,
  assertStringIncludes,
  assertThrows,
} from "./_test_assert.ts";
import { encodeBytesTensor } from "./bytes.ts";
import { DATA_TYPE_NAMES, dataTypeArrayType, type DataTypeName } from "./datatype.ts";
import { ErrorCode, TritonError } from "./error.ts";
import { snapshotTensor, Tensor } from "./tensor.ts";
import type { TensorValues } from "./values.ts";

Deno.test("a typed array of the right kind becomes the data without a copy, for every fixed-size datatype", () => {
  for (const datatype of DATA_TYPE_NAMES) {
    if (datatype === "BYTES") continue;
    const arrayType = dataTypeArrayType(datatype);
    const data = new arrayType(6);
    const tensor = new Tensor(datatype.toLowerCase(), datatype, [2, 3], data as never);
    assertStrictEquals(tensor.data, data, datatype);
    assertEquals(tensor.elementCount, 6);
    assertEquals(tensor.byteLength, data.byteLength);
    assertEquals(tensor.datatype, datatype);
    assertEquals(tensor.shape, [2, 3]);
  }
});

Deno.test("Tensor<D> types data as the datatype's typed array", () => {
  // Compile-time checks: these assignments fail `deno check` if the typing regresses.
  const fp32: Float32Array = new Tensor("A", "FP32", [1], [1]).data;
  const int64: BigInt64Array = new Tensor("B", "INT64", [1], [1n]).data;
  const half: Uint16Array = new Tensor("C", "FP16", [1], [1]).data;
  const any: Tensor = new Tensor("D", "INT8", [1], [1]);
  if (any.isDataType("INT8")) {
    const int8: Int8Array = any.data;
    assertEquals(int8[0], 1);
  } else {
    throw new Error("isDataType did not recognise INT8");
  }
  assertEquals(any.isDataType("UINT8"), false);
  assertEquals([fp32[0], int64[0], half[0]], [1, 1n, 0x3c00]);
});

Deno.test("plain arrays convert to each datatype", () => {
  const cases: [DataTypeName, unknown[], ArrayLike<unknown>][] = [
    ["BOOL", [true, false, 1, 0], new Uint8Array([1, 0, 1, 0])],
    ["UINT8", [0, 255], new Uint8Array([0, 255])],
    ["INT8", [-128, 127], new Int8Array([-128, 127])],
    ["UINT16", [0, 65535], new Uint16Array([0, 65535])],
    ["INT16", [-32768, 32767], new Int16Array([-32768, 32767])],
    ["UINT32", [0, 4294967295], new Uint32Array([0, 4294967295])],
    ["INT32", [-2147483648, 2147483647], new Int32Array([-2147483648, 2147483647])],
    ["UINT64", [0, 2n ** 64n - 1n], new BigUint64Array([0n, 2n ** 64n - 1n])],
    ["INT64", [-(2n ** 63n), 5], new BigInt64Array([-(2n ** 63n), 5n])],
    ["FP32", [0.1, -2], new Float32Array([0.1, -2])],
    ["FP64", [0.1, NaN], new Float64Array([0.1, NaN])],
    // 1.5, max half, -0, underflow to 0, overflow past the rounding point to infinity.
    ["FP16", [1.5, 65504, -0, 1e-8, 65520], new Uint16Array([0x3e00, 0x7bff, 0x8000, 0, 0x7c00])],
    // Exact values, NaN, infinity, and three ties/near-ties around 1.0.
    [
      "BF16",
      [1, -2, 3.140625, NaN, Infinity, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -8 + 2 ** -20],
      new Uint16Array([0x3f80, 0xc000, 0x4049, 0x7fc0, 0x7f80, 0x3f80, 0x3f82, 0x3f81]),
    ],
  ];
  for (const [datatype, values, expected] of cases) {
    const tensor = new Tensor("X", datatype, [values.length], values as never);
    assertEquals(tensor.data, expected, datatype);
  }
});

Deno.test("FP16 accepts a Float16Array and views its bits without a copy", () => {
  const halves = new Float16Array([0.5, -1]);
  const tensor = new Tensor("H", "FP16", [2], halves);
  assertEquals(Array.from(tensor.data), [0x3800, 0xbc00]);
  assertStrictEquals(tensor.data.buffer, halves.buffer);
});

Deno.test("BYTES tensors take strings, byte arrays, or the serialized layout", () => {
  const fromStrings = new Tensor("S", "BYTES", [2, 2], ["a", "", "é", "日本"]);
  assertEquals(fromStrings.strings(), ["a", "", "é", "日本"]);
  assertEquals(fromStrings.elementCount, 4);
  assertEquals(fromStrings.byteLength, 4 * 4 + 1 + 0 + 2 + 6);

  const fromBytes = new Tensor("B", "BYTES", [1], [new Uint8Array([1, 2, 3])]);
  assertEquals(fromBytes.byteElements(), [new Uint8Array([1, 2, 3])]);

  const serialized = encodeBytesTensor(["x", "y"]);
  const fromSerialized = new Tensor("Z", "BYTES", [2], serialized);
  assertStrictEquals(fromSerialized.data.buffer, serialized.buffer);
  const [first] = fromSerialized.byteElements();
  assertStrictEquals(first.buffer, serialized.buffer);
  assertEquals(fromSerialized.strings(), ["x", "y"]);
});

Deno.test("shapes are copied and frozen; scalars and empty tensors work", () => {
  const shape = [2, 2];
  const tensor = new Tensor("X", "FP32", shape, [1, 2, 3, 4]);
  shape[0] = 9;
  assertEquals(tensor.shape, [2, 2]);
  assert(Object.isFrozen(tensor.shape));

  assertEquals(new Tensor("S", "INT32", [], [7]).elementCount, 1);
  const empty = new Tensor("E", "FP32", [0, 3], []);
  assertEquals([empty.elementCount, empty.byteLength], [0, 0]);
  assertEquals(new Tensor("EB", "BYTES", [0], []).strings(), []);
});

Deno.test("a subclassed typed array is replaced by a plain view of the same memory", () => {
  class Lying extends Float32Array {
    override get length(): number {
      return 999;
    }
  }
  const lying = new Lying(4);
  const tensor = new Tensor("X", "FP32", [4], lying);
  assertEquals(Object.getPrototypeOf(tensor.data), Float32Array.prototype);
  assertStrictEquals(tensor.data.buffer, lying.buffer);
  assertEquals(tensor.data.length, 4);
});

Deno.test("construction errors name the tensor and say what is wrong", () => {
  const cases: [() => unknown, string][] = [
    [
      () => new Tensor("X", "FP32", [2, 3], new Float32Array(5)),
      "tensor 'X' has 6 elements by its shape but its data holds 5",
    ],
    [
      () => new Tensor("X", "FP32", [2, -1], []),
      "tensor 'X': dimension 1 must be a non-negative integer, got a number (-1)",
    ],
    [
      () => new Tensor("X", "FP32", [1.5], []),
      "tensor 'X': dimension 0 must be a non-negative integer, got a number (1.5)",
    ],
    [
      () => new Tensor("X", "FP32", [NaN], []),
      "tensor 'X': dimension 0 must be a non-negative integer, got a number (NaN)",
    ],
    [
      () => new Tensor("X", "FP32", "4" as unknown as number[], []),
      "tensor 'X': shape must be an array of dimensions, got a string",
    ],
    [
      () => new Tensor("X", "FP32", new Array(65).fill(1), [1]),
      "tensor 'X': shape has 65 dimensions; at most 64 are supported",
    ],
    [
      () => new Tensor("X", "FP32", [2 ** 30, 2 ** 30, 2 ** 30], []),
      "tensor 'X': shape [1073741824,1073741824]... has too many elements",
    ],
    [
      () => new Tensor("X", "FP32", [1], new Float64Array(1) as never),
      "tensor 'X' has datatype FP32, which needs a Float32Array; got a Float64Array",
    ],
    [
      () => new Tensor("X", "BF16", [1], new Float32Array(1) as never),
      "tensor 'X' has datatype BF16, which needs a Uint16Array of raw 16-bit patterns; got a Float32Array",
    ],
    [
      () => new Tensor("X", "UINT8", [1], [256]),
      "tensor 'X': element 0 must be an integer in range for UINT8, got a number (256)",
    ],
    [
      () => new Tensor("X", "INT32", [2], [1, 1.5]),
      "tensor 'X': element 1 must be an integer in range for INT32, got a number (1.5)",
    ],
    [
      () => new Tensor("X", "INT64", [1], [2 ** 53]),
      "tensor 'X': element 0 must be a bigint or safe integer in range for INT64",
    ],
    [
      () => new Tensor("X", "UINT64", [1], [-1n]),
      "tensor 'X': element 0 must be a bigint or safe integer in range for UINT64, got a bigint (-1n)",
    ],
    [
      () => new Tensor("X", "BOOL", [1], [2]),
      "tensor 'X': element 0 must be a boolean (or 0 or 1), got a number (2)",
    ],
    [
      () => new Tensor("X", "FP32", [1], ["1"] as never),
      "tensor 'X': element 0 must be a number, got a string (\"1\")",
    ],
    [
      () => new Tensor("X", "FP32", [1], { 0: 1, length: 1 } as never),
      "tensor 'X' has datatype FP32, which needs a Float32Array or a plain array; got an object",
    ],
    [
      () => new Tensor("X", "float" as DataTypeName, [1], [1] as never),
      "tensor 'X': unknown datatype a string (\"float\"); use one of BOOL, UINT8,",
    ],
    [() => new Tensor("", "FP32", [1], [1]), "a tensor name must be a non-empty string"],
    [
      () => new Tensor("X", "BYTES", [1], 5 as unknown as TensorValues<"BYTES">),
      "tensor 'X' has datatype BYTES, which needs an array of strings or Uint8Arrays",
    ],
    [
      () => new Tensor("X", "BYTES", [3], encodeBytesTensor(["a", "b"])),
      "tensor 'X' has 3 elements by its shape but its BYTES data holds 2",
    ],
    [
      () => new Tensor("X", "BYTES", [1], new Uint8Array([9, 0, 0, 0])),
      "tensor 'X': malformed BYTES data: element 0 declares 9 bytes but only 0 remain",
    ],
    [
      () => new Tensor("X", "BYTES", [2], ["a", null] as never),
      "tensor 'X': BYTES element 1 must be a string or a Uint8Array, got null",
    ],
  ];
  for (const [construct, message] of cases) {
    const error = assertThrows(construct, TritonError, message);
    assertEquals(error.code, ErrorCode.INVALID_ARG, message);
  }
});

Deno.test("strings() and byteElements() need a BYTES tensor", () => {
  const error = assertThrows(
    () => new Tensor("N", "INT32", [1], [1]).strings(),
    TritonError,
    "tensor 'N' has datatype INT32; only BYTES tensors have byte-string elements",
  );
  assertEquals(error.code, ErrorCode.INVALID_ARG);
});

Deno.test("snapshotTensor reads private fields and rejects look-alikes and Proxies", () => {
  const tensor = new Tensor("X", "UINT8", [2], [1, 2]);
  Object.defineProperty(tensor, "name", { value: "FORGED" });
  assertEquals(snapshotTensor(tensor)?.name, "X");
  assertEquals(snapshotTensor({ name: "X", datatype: "UINT8", shape: [2], data: [] }), undefined);
  const trap = () => {
    throw new Error("trap ran");
  };
  const proxy = new Proxy(tensor, { get: trap, has: trap, getPrototypeOf: trap });
  assertEquals(snapshotTensor(proxy), undefined);
  assertEquals(snapshotTensor(Object.create(Tensor.prototype)), undefined);
  assertEquals(snapshotTensor(null), undefined);
});

Deno.test("console.log shows a tensor's fields", () => {
  const text = Deno.inspect(new Tensor("S", "BYTES", [1], ["hi"]));
  assertStringIncludes(text, 'name: "S"');
  assertStringIncludes(text, '"hi"');
});

Deno.test("isCpu: a model's tensors are in host memory, as python_backend's is_cpu() says", () => {
  assertEquals(new Tensor("X", "FP32", [2], [1, 2]).isCpu(), true);
});
