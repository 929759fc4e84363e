import { assertEquals, assertThrows } from "../../runtime/api/_test_assert.ts";
import { AutoCompleteError, checkAutoCompleted } from "./auto_complete_check.ts";

const original = JSON.stringify({
  name: "m",
  backend: "deno",
  max_batch_size: 0,
  input: [],
  parameters: { "deno.allow_net": { string_value: "" } },
});

Deno.test("auto-complete check: the fields the API can change may change", () => {
  const proposed = {
    ...JSON.parse(original),
    max_batch_size: 8,
    dynamic_batching: {},
    input: [{ name: "X", data_type: "TYPE_FP32", dims: [4] }],
    output: [{ name: "Y", data_type: "TYPE_FP32", dims: [4] }],
    model_transaction_policy: { decoupled: true },
  };
  assertEquals(JSON.parse(checkAutoCompleted(original, JSON.stringify(proposed))), proposed);
});

Deno.test("auto-complete check: permissions, backend and anything else may not", () => {
  for (
    const [change, field] of [
      [{ parameters: { "deno.allow_net": { string_value: "evil.example" } } }, "parameters"],
      [{ backend: "python" }, "backend"],
      [{ instance_group: [{ count: 64 }] }, "instance_group"],
    ] as const
  ) {
    const proposed = JSON.stringify({ ...JSON.parse(original), ...change });
    assertThrows(() => checkAutoCompleted(original, proposed), AutoCompleteError, `'${field}'`);
  }
});

Deno.test("auto-complete check: not JSON, not an object, or too large is refused", () => {
  assertThrows(() => checkAutoCompleted(original, "{"), AutoCompleteError, "not JSON");
  assertThrows(() => checkAutoCompleted(original, "[]"), AutoCompleteError, "object");
  assertThrows(
    () => checkAutoCompleted(original, " ".repeat((1 << 20) + 1)),
    AutoCompleteError,
    "bytes",
  );
});
