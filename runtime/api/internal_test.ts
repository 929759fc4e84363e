import { assertEquals, assertStrictEquals, assertThrows } from "./_test_assert.ts";
import { encodeBytesTensor } from "./bytes.ts";
import { ErrorCode, TritonError } from "./error.ts";
import { makeInitializeArgs, tensorFromWire } from "./internal.ts";

Deno.test("tensorFromWire views the arena without a copy", () => {
  const arena = new ArrayBuffer(256);
  new Int16Array(arena, 64, 3).set([-1, 2, -3]);
  const tensor = tensorFromWire("INPUT0", 7, [3], arena, 64, 6);
  assertEquals(tensor.datatype, "INT16");
  assertEquals(Array.from(tensor.data as Int16Array), [-1, 2, -3]);
  assertStrictEquals(tensor.data.buffer, arena);
  assertEquals(tensor.data.byteOffset, 64);

  const strings = encodeBytesTensor(["a", "bc"]);
  new Uint8Array(arena, 128).set(strings);
  const text = tensorFromWire("TEXT", 13, [2], arena, 128, strings.byteLength);
  assertEquals(text.strings(), ["a", "bc"]);
  assertStrictEquals(text.data.buffer, arena);
});

Deno.test("tensorFromWire copies data whose offset does not suit the element type", () => {
  const arena = new ArrayBuffer(64);
  const bytes = new Uint8Array(new Float64Array([0.25, -8]).buffer);
  new Uint8Array(arena, 4).set(bytes);
  const tensor = tensorFromWire("X", 12, [2], arena, 4, 16);
  assertEquals(Array.from(tensor.data as Float64Array), [0.25, -8]);
  assertEquals(tensor.data.buffer === arena, false);
});

Deno.test("tensorFromWire rejects inconsistent wire descriptions, naming the input", () => {
  const arena = new ArrayBuffer(128);
  new Uint8Array(arena, 64, 4).set([9, 0, 0, 0]);
  const cases: [() => unknown, string][] = [
    [() => tensorFromWire("A", 0, [1], arena, 0, 4), "input 'A' has unknown datatype code 0"],
    [() => tensorFromWire("A", 15, [1], arena, 0, 4), "input 'A' has unknown datatype code 15"],
    [
      () => tensorFromWire("A", 11, [8], arena, 100, 32),
      "input 'A': data at [100, 100 + 32) lies outside the 128-byte arena",
    ],
    [
      () => tensorFromWire("A", 11, [1], arena, -64, 4),
      "input 'A': data at [-64, -64 + 4) lies outside the 128-byte arena",
    ],
    [
      () => tensorFromWire("A", 11, [3], arena, 0, 8),
      "input 'A' has 8 bytes of data but shape [3] of FP32 needs 12",
    ],
    [
      () => tensorFromWire("A", 11, [-1], arena, 0, 0),
      "input 'A': dimension 0 must be a non-negative integer",
    ],
    [
      () => tensorFromWire("A", 13, [1], arena, 64, 4),
      "tensor 'A': malformed BYTES data: element 0 declares 9 bytes but only 0 remain",
    ],
  ];
  for (const [build, message] of cases) {
    const error = assertThrows(build, TritonError, message);
    assertEquals(error.code, ErrorCode.INVALID_ARG);
  }
  // Four zero bytes are one empty element: a shape of [1] fits, [2] does not.
  assertEquals(tensorFromWire("A", 13, [1], arena, 0, 4).strings(), [""]);
  assertThrows(
    () => tensorFromWire("A", 13, [2], arena, 0, 4),
    TritonError,
    "tensor 'A' has 2 elements by its shape but its BYTES data holds 1",
  );
});

Deno.test("makeInitializeArgs decodes Triton's config JSON and keeps the strings", () => {
  const json = JSON.stringify({
    name: "add_sub",
    backend: "deno",
    max_batch_size: 8,
    input: [{ name: "INPUT0", data_type: "TYPE_FP32", dims: [4] }],
    parameters: { mean: { string_value: "0.5" } },
    a_field_from_a_newer_triton: 1,
  });
  const args = makeInitializeArgs({
    modelConfigJson: json,
    modelName: "add_sub",
    modelVersion: "3",
    modelRepository: "/models/add_sub",
    modelInstanceName: "add_sub_0_1",
    modelInstanceKind: "CPU",
    modelInstanceDeviceId: "0",
  });
  assertEquals(args.modelConfig.maxBatchSize, 8);
  assertEquals(args.modelConfig.input[0].dims, [4n]);
  assertEquals(args.modelConfig.parameters["mean"].stringValue, "0.5");
  assertEquals(args.modelConfigJson, json);
  assertEquals(
    [args.modelName, args.modelVersion, args.modelRepository],
    ["add_sub", "3", "/models/add_sub"],
  );
  assertEquals(
    [args.modelInstanceName, args.modelInstanceKind, args.modelInstanceDeviceId],
    ["add_sub_0_1", "CPU", "0"],
  );

  const error = assertThrows(
    () => makeInitializeArgs({ ...args, modelConfigJson: "{not json" }),
    TritonError,
    "invalid Triton model configuration JSON",
  );
  assertEquals(error.code, ErrorCode.INVALID_ARG);
});
