import { ErrorCode } from "@triton/deno";
import { assert, assertEquals } from "../../runtime/api/_test_assert.ts";
import { checkResponse, loadTestModelConfig, TestArena, testRequest } from "@triton/deno/testing";
import AddSubString from "./1/model.ts";

const { config } = await loadTestModelConfig(new URL("./", import.meta.url));

Deno.test("add_sub_string computes exact sums and differences of decimal strings", () => {
  const arena = new TestArena();
  const request = testRequest(arena, [
    arena.input("INPUT0", "BYTES", [4], ["1", " 2 ", "-30", "12345678901234567890"]),
    arena.input("INPUT1", "BYTES", [4], ["2", "+3", "4", "1"]),
  ]);
  const [response] = new AddSubString().execute([request]);
  const checked = checkResponse(response, config, []);
  assert(checked.ok, JSON.stringify(checked));
  const [sum, difference] = response.outputs;
  assertEquals(sum.datatype, "BYTES");
  assertEquals(sum.strings(), ["3", "5", "-26", "12345678901234567891"]);
  assertEquals(difference.strings(), ["-1", "-1", "-34", "12345678901234567889"]);
});

Deno.test("add_sub_string rejects elements that are not integers, naming them", () => {
  const arena = new TestArena();
  for (const bad of ["abc", "", "1.5", "٣"]) {
    const request = testRequest(arena, [
      arena.input("INPUT0", "BYTES", [2], ["1", "2"]),
      arena.input("INPUT1", "BYTES", [2], ["1", bad]),
    ]);
    const [response] = new AddSubString().execute([request]);
    assertEquals(checkResponse(response, config, []), {
      ok: false,
      code: ErrorCode.INVALID_ARG,
      message: `INPUT1 element 1 must be a decimal integer, got ${JSON.stringify(bad)}`,
    });
  }
});
