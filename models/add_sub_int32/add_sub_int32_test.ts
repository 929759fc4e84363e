import { ErrorCode } from "@triton/deno";
import { assert, assertEquals } from "../../runtime/api/_test_assert.ts";
import { checkResponse, loadTestModelConfig, TestArena, testRequest } from "@triton/deno/testing";
import AddSubInt32 from "./1/model.ts";

const { config } = await loadTestModelConfig(new URL("./", import.meta.url));

Deno.test("add_sub_int32 adds and subtracts with 32-bit wrap-around", () => {
  const arena = new TestArena();
  const request = testRequest(arena, [
    arena.input("INPUT0", "INT32", [4], [1, -5, 2147483647, -2147483648]),
    arena.input("INPUT1", "INT32", [4], [2, 7, 1, 1]),
  ]);
  const [response] = new AddSubInt32().execute([request]);
  const checked = checkResponse(response, config, []);
  assert(checked.ok, JSON.stringify(checked));
  const [sum, difference] = response.outputs;
  assertEquals(sum.shape, [4]);
  assertEquals(Array.from(sum.data as Int32Array), [3, 2, -2147483648, -2147483647]);
  assertEquals(Array.from(difference.data as Int32Array), [-1, -12, 2147483646, 2147483647]);
  assert(sum.data.buffer === arena.buffer);
});

Deno.test("add_sub_int32 rejects FP32 inputs", () => {
  const arena = new TestArena();
  const request = testRequest(arena, [
    arena.input("INPUT0", "FP32", [1], [1]),
    arena.input("INPUT1", "INT32", [1], [1]),
  ]);
  const [response] = new AddSubInt32().execute([request]);
  assertEquals(checkResponse(response, config, []), {
    ok: false,
    code: ErrorCode.INVALID_ARG,
    message: "input 'INPUT0' has datatype FP32, expected INT32",
  });
});
