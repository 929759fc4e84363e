import { assert, assertEquals, assertStrictEquals, assertThrows } from "./_test_assert.ts";
import { ErrorCode, TritonError } from "./error.ts";
import { type ArenaAllocator, makeRequest, parametersFromWire } from "./internal.ts";
import type { DataTypeName, FixedSizeDataTypeName } from "./datatype.ts";
import { snapshotTensor, Tensor } from "./tensor.ts";
import { TestArena, testRequest } from "./test_support.ts";

Deno.test("input() finds inputs by name and checks the datatype when asked", () => {
  const arena = new TestArena();
  const request = testRequest(arena, [
    arena.input("INPUT0", "FP32", [2], [1, 2]),
    arena.input("INPUT1", "INT32", [1], [3]),
  ]);
  const input0 = request.input("INPUT0", "FP32");
  assertEquals(Array.from(input0.data), [1, 2]);
  assertStrictEquals(request.input("INPUT1"), request.inputs[1]);

  const missing = assertThrows(
    () => request.input("INPUT2"),
    TritonError,
    "request has no input 'INPUT2'; its inputs are 'INPUT0', 'INPUT1'",
  );
  assertEquals(missing.code, ErrorCode.INVALID_ARG);
  const wrongType = assertThrows(
    () => request.input("INPUT1", "FP32"),
    TritonError,
    "input 'INPUT1' has datatype INT32, expected FP32",
  );
  assertEquals(wrongType.code, ErrorCode.INVALID_ARG);
  assertThrows(
    () => testRequest(arena, []).input("X"),
    TritonError,
    "request has no input 'X'; it has no inputs",
  );
});

Deno.test("a request carries its metadata, frozen", () => {
  const request = makeRequest({
    id: "req-7",
    correlationId: "session-a",
    flags: 3,
    inputs: [],
    requestedOutputNames: ["OUTPUT1"],
    allocator: new TestArena(64),
  });
  assertEquals(request.id, "req-7");
  assertEquals(request.correlationId, "session-a");
  assertEquals(request.flags, 3);
  assertEquals(request.requestedOutputNames, ["OUTPUT1"]);
  assertEquals(request.parameters, {});
  assert(Object.isFrozen(request) && Object.isFrozen(request.inputs));
  assert(Object.isFrozen(request.requestedOutputNames));
});

Deno.test("allocateOutput views the arena directly, for every fixed-size datatype", () => {
  const names: FixedSizeDataTypeName[] = [
    "BOOL",
    "UINT8",
    "UINT16",
    "UINT32",
    "UINT64",
    "INT8",
    "INT16",
    "INT32",
    "INT64",
    "FP16",
    "FP32",
    "FP64",
    "BF16",
  ];
  const arena = new TestArena(1 << 16);
  const request = testRequest(arena, []);
  for (const datatype of names) {
    const output = request.allocateOutput(`OUT_${datatype}`, datatype, [3, 1]);
    const allocation = arena.allocations.at(-1);
    assert(allocation !== undefined);
    assertStrictEquals(output.data.buffer, arena.buffer, datatype);
    assertEquals(output.data.byteOffset, allocation.offset);
    assertEquals(allocation.offset % 64, 0);
    assertEquals(output.data.length, 3);
    assertEquals(output.shape, [3, 1]);
    assertEquals(snapshotTensor(output)?.arenaOffset, allocation.offset);
  }
  // Writes land in the arena.
  const floats = request.allocateOutput("F", "FP32", [2]);
  floats.data.set([1.5, -2]);
  const offset = arena.allocations.at(-1)?.offset ?? -1;
  assertEquals(Array.from(new Float32Array(arena.buffer, offset, 2)), [1.5, -2]);
});

Deno.test("a Tensor built by the model has no arena offset", () => {
  assertEquals(snapshotTensor(new Tensor("X", "FP32", [1], [1]))?.arenaOffset, undefined);
});

Deno.test("allocateOutput refuses BYTES, unknown datatypes and bad shapes", () => {
  const request = testRequest(new TestArena(1024), []);
  const bytes = assertThrows(
    () => request.allocateOutput("TEXT", "BYTES" as FixedSizeDataTypeName, [2]),
    TritonError,
    "allocateOutput cannot place BYTES output 'TEXT' in shared memory, because its size " +
      'depends on its strings; build it with new Tensor("TEXT", "BYTES", shape, strings)',
  );
  assertEquals(bytes.code, ErrorCode.INVALID_ARG);
  assertThrows(
    () => request.allocateOutput("X", "F32" as DataTypeName as FixedSizeDataTypeName, [2]),
    TritonError,
    "output 'X': unknown datatype a string (\"F32\")",
  );
  assertThrows(
    () => request.allocateOutput("X", "FP32", [-2]),
    TritonError,
    "output 'X': dimension 0 must be a non-negative integer, got a number (-2)",
  );
  assertThrows(
    () => request.allocateOutput("", "FP32", [1]),
    TritonError,
    "allocateOutput needs a non-empty output name",
  );
});

Deno.test("allocateOutput passes on the allocator's error and checks what it returns", () => {
  const full = testRequest(new TestArena(16), []);
  const error = assertThrows(
    () => full.allocateOutput("BIG", "FP64", [100]),
    TritonError,
    "test arena full",
  );
  assertEquals(error.code, ErrorCode.UNAVAILABLE);

  const buffer = new ArrayBuffer(256);
  const misaligned: ArenaAllocator = {
    allocate: (byteLength) => ({ offset: 3, bytes: new Uint8Array(buffer, 3, byteLength) }),
  };
  const request = makeRequest({
    id: "",
    correlationId: 0n,
    flags: 0,
    inputs: [],
    requestedOutputNames: [],
    allocator: misaligned,
  });
  const bad = assertThrows(
    () => request.allocateOutput("Y", "FP32", [2]),
    TritonError,
    "output 'Y': the arena returned 8 bytes at byte offset 3 for a request of 8",
  );
  assertEquals(bad.code, ErrorCode.INTERNAL);
});

Deno.test("allocateOutput of an empty tensor works", () => {
  const request = testRequest(new TestArena(64), []);
  const empty = request.allocateOutput("E", "INT64", [0, 4]);
  assertEquals([empty.elementCount, empty.byteLength], [0, 0]);
});

Deno.test("a request carries the parameters the runtime parsed", () => {
  const request = makeRequest({
    id: "p",
    correlationId: 0n,
    flags: 0,
    inputs: [],
    requestedOutputNames: [],
    allocator: new TestArena(64),
    parameters: parametersFromWire(
      '{"temperature":{"type":"DOUBLE","value":"0.7"},' +
        '"seed":{"type":"INT","value":"4503599627370496"},' +
        '"big":{"type":"INT","value":"-9223372036854775807"}}',
      "request parameter",
    ),
  });
  assertEquals(request.parameters, {
    temperature: 0.7,
    seed: 4503599627370496,
    big: -9223372036854775807n,
  });
  assert(Object.isFrozen(request.parameters));
});
