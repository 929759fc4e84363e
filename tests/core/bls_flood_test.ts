/**
 * A model flooding another through BLS: the parent caps the calls one
 * instance has in flight (64), the rest are refused at once, and the
 * flooded model keeps answering its clients meanwhile, as it would under
 * the same traffic from a client.
 *
 * @module
 */

import { assert, assertEquals } from "../harness/assert.ts";
import { coreTest, fp32, tensor, values } from "./core_session.ts";

coreTest("BLS flood: calls past the cap are refused, and add_sub serves its clients meanwhile", {
  models: ["bls_flood", "add_sub"],
}, async (core) => {
  const count = 400;
  const flood = core.infer("bls_flood", [tensor("COUNT", "INT32", [1], new Int32Array([count]))]);
  const direct = Array.from(
    { length: 20 },
    (_, i) => core.infer("add_sub", [fp32("INPUT0", [i]), fp32("INPUT1", [1])]),
  );
  const answers = await Promise.all(direct);
  answers.forEach((answer, i) => {
    assertEquals(answer.error, null, answer.error?.message);
    assertEquals(values(answer, "OUTPUT0"), [i + 1]);
  });
  const flooded = await flood;
  assertEquals(flooded.error, null, flooded.error?.message);
  const [succeeded, refused] = values(flooded, "DONE");
  assertEquals(succeeded + refused, count);
  assert(succeeded >= 64, `at least the cap's worth went through (${succeeded})`);
  assert(refused > 0, "calls past the cap are refused");
  // The flood is over and add_sub still answers.
  const after = await core.infer("add_sub", [fp32("INPUT0", [2]), fp32("INPUT1", [3])]);
  assertEquals(values(after, "OUTPUT0"), [5]);
});
