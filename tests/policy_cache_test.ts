/**
 * End-to-end: the parent keeps the sandbox policy evaluator's answers
 * (ffi/src/policy_cache.h) so that loading a model again spawns no
 * evaluator, and never where the answer could differ: a changed
 * configuration is a new request, and a model with a deno.json (which the
 * evaluator reads) is evaluated at every load.
 */

import { assert, assertMatch, assertThrows } from "./harness/assert.ts";
import { exampleModelDir, removeTemporaryCopy, temporaryCopy } from "./harness/fixtures.ts";
import { HostError } from "./harness/host.ts";
import { withHost } from "./harness/session.ts";

const REUSED = "sandbox (as evaluated before for the same request)";

Deno.test("a model loaded again with the same configuration reuses its sandbox evaluation", () =>
  withHost((host) => {
    const dir = temporaryCopy(exampleModelDir("add_sub"));
    try {
      host.loadModel(dir, { instanceCount: 1 }).unload();
      assert(!host.log().includes(REUSED), "the first load evaluates");
      host.clearLog();
      const model = host.loadModel(dir, { instanceCount: 1 });
      assert(host.log().includes(REUSED), `the second load reuses:\n${host.log()}`);
      const [result] = model.execute(0, [{
        id: "r",
        inputs: [
          { name: "INPUT0", datatype: "FP32", shape: [4], data: new Float32Array([1, 2, 3, 4]) },
          { name: "INPUT1", datatype: "FP32", shape: [4], data: new Float32Array([4, 3, 2, 1]) },
        ],
      }]);
      assert(result.error === null, `the reloaded model serves: ${result.error?.message}`);
      model.unload();
      host.clearLog();
      host.loadModel(dir, { instanceCount: 2 }).unload();
      assert(!host.log().includes(REUSED), "another configuration is evaluated afresh");
    } finally {
      removeTemporaryCopy(dir);
    }
  }));

Deno.test("a deno.json that appears between loads is evaluated, not hidden by a kept answer", () =>
  withHost((host) => {
    const dir = temporaryCopy(exampleModelDir("add_sub"));
    try {
      host.loadModel(dir, { instanceCount: 1 }).unload();
      Deno.writeTextFileSync(`${dir}/deno.json`, "{ not json");
      const error = assertThrows(() => host.loadModel(dir, { instanceCount: 1 }), HostError);
      assertMatch(error.message, /deno\.json is not JSON/);
    } finally {
      removeTemporaryCopy(dir);
    }
  }));
