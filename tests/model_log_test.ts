/**
 * End-to-end: what a model logs reaches Triton's log
 * (tests/fixtures/log_burst logs several lines one right after the other).
 */

import { assert, assertEquals } from "./harness/assert.ts";
import { fixtureDir } from "./harness/fixtures.ts";
import type { InferRequest } from "./harness/host.ts";
import { waitFor } from "./harness/processes.ts";
import { withHost } from "./harness/session.ts";

function burst(id: string, lines: number): InferRequest {
  return {
    id,
    inputs: [{ name: "INPUT0", datatype: "INT32", shape: [1], data: new Int32Array([1]) }],
    parameters: { lines },
  };
}

function linesOf(id: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `burst ${id} line ${i + 1} of ${count}`);
}

Deno.test({
  name: "model log: every line of a burst reaches Triton's log, at the latest by the unload",
  fn: () =>
    withHost(async (host) => {
      const model = host.loadModel(fixtureDir("log_burst"));
      const [result] = model.execute(0, [burst("r1", 10)]);
      assertEquals(result.error, null);
      const expected = linesOf("r1", 10);
      const arrived = () => expected.filter((line) => host.log().includes(line)).length;
      // 10 lines: within the parent's rate limit (20 lines, then 5 per second).
      await waitFor(() => arrived() === expected.length, 1_000);
      model.unload();
      assert(
        arrived() === expected.length,
        `${arrived()} of ${expected.length} lines reached Triton's log:\n${host.log()}`,
      );
    }),
});
