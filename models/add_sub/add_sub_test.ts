import { ErrorCode } from "@triton/deno";
import { assert, assertEquals } from "../../runtime/api/_test_assert.ts";
// snapshotTensor is the runtime's own view of a tensor: this test checks the zero-copy path.
import { snapshotTensor } from "../../runtime/api/internal.ts";
import { checkResponse, loadTestModelConfig, TestArena, testRequest } from "@triton/deno/testing";
import AddSub from "./1/model.ts";

const { config } = await loadTestModelConfig(new URL("./", import.meta.url));

Deno.test("add_sub adds and subtracts, writing outputs into the arena", () => {
  const arena = new TestArena();
  const request = testRequest(arena, [
    arena.input("INPUT0", "FP32", [4], [1, 2, 3, 4]),
    arena.input("INPUT1", "FP32", [4], [4, 3, 2, 0.5]),
  ]);
  const [response] = new AddSub().execute([request]);
  const checked = checkResponse(response, config, []);
  assert(checked.ok, JSON.stringify(checked));
  const [sum, difference] = response.outputs;
  assertEquals(Array.from(sum.data as Float32Array), [5, 5, 5, 4.5]);
  assertEquals(Array.from(difference.data as Float32Array), [-3, -1, 1, 3.5]);
  // Zero copy: both outputs live in the arena, where the runtime hands them to Triton.
  assert(sum.data.buffer === arena.buffer && difference.data.buffer === arena.buffer);
  assertEquals(checked.outputs.map((output) => output.arenaOffset), [
    snapshotTensor(sum)?.arenaOffset,
    snapshotTensor(difference)?.arenaOffset,
  ]);
  assert(checked.outputs.every((output) => output.arenaOffset !== undefined));
});

Deno.test("add_sub handles any length, matching FP32 arithmetic", () => {
  const arena = new TestArena(1 << 22);
  const lengths = [0, 1, 1000, 65536];
  const inputs = lengths.map((length) => {
    const a = Float32Array.from({ length }, () => Math.random() * 1000 - 500);
    const b = Float32Array.from({ length }, () => Math.random() * 1000 - 500);
    return { a, b };
  });
  const requests = inputs.map(({ a, b }) =>
    testRequest(arena, [
      arena.input("INPUT0", "FP32", [a.length], a),
      arena.input("INPUT1", "FP32", [b.length], b),
    ])
  );
  const responses = new AddSub().execute(requests);
  assertEquals(responses.length, lengths.length);
  responses.forEach((response, r) => {
    assert(checkResponse(response, config, []).ok);
    const { a, b } = inputs[r];
    const sum = response.outputs[0].data as Float32Array;
    const difference = response.outputs[1].data as Float32Array;
    assertEquals(sum.length, a.length);
    for (let i = 0; i < a.length; i++) {
      assertEquals(sum[i], Math.fround(a[i] + b[i]));
      assertEquals(difference[i], Math.fround(a[i] - b[i]));
    }
  });
});

Deno.test("add_sub fails a bad request alone, with INVALID_ARG", () => {
  const arena = new TestArena();
  const good = testRequest(arena, [
    arena.input("INPUT0", "FP32", [1], [1]),
    arena.input("INPUT1", "FP32", [1], [2]),
  ]);
  const mismatched = testRequest(arena, [
    arena.input("INPUT0", "FP32", [2], [1, 2]),
    arena.input("INPUT1", "FP32", [3], [1, 2, 3]),
  ]);
  const missing = testRequest(arena, [arena.input("INPUT0", "FP32", [1], [1])]);
  const wrongType = testRequest(arena, [
    arena.input("INPUT0", "INT32", [1], [1]),
    arena.input("INPUT1", "FP32", [1], [1]),
  ]);
  const responses = new AddSub().execute([good, mismatched, missing, wrongType]);
  const results = responses.map((response) => checkResponse(response, config, []));
  assert(results[0].ok);
  assertEquals(results.slice(1), [
    {
      ok: false,
      code: ErrorCode.INVALID_ARG,
      message: "INPUT0 and INPUT1 must have the same shape, got [2] and [3]",
    },
    {
      ok: false,
      code: ErrorCode.INVALID_ARG,
      message: "request has no input 'INPUT1'; its inputs are 'INPUT0'",
    },
    {
      ok: false,
      code: ErrorCode.INVALID_ARG,
      message: "input 'INPUT0' has datatype INT32, expected FP32",
    },
  ]);
});

Deno.test("add_sub's outputs are pruned to the requested ones", () => {
  const arena = new TestArena();
  const request = testRequest(arena, [
    arena.input("INPUT0", "FP32", [2], [1, 2]),
    arena.input("INPUT1", "FP32", [2], [3, 4]),
  ], ["OUTPUT1"]);
  const [response] = new AddSub().execute([request]);
  const checked = checkResponse(response, config, request.requestedOutputNames);
  assert(checked.ok);
  assertEquals(checked.outputs.map((output) => output.name), ["OUTPUT1"]);
  assertEquals(Array.from(new Float32Array(checked.outputs[0].bytes.slice().buffer)), [-2, -2]);
});
