/**
 * Real core: a sample of the hostile suite (tests/hostile/) in Triton's own
 * core. Each attack fails with the same error as through the stand-in, the
 * model answers a benign request afterwards (restarted where it had to be),
 * and add_sub beside it keeps serving.
 *
 * @module
 */

import { assert, assertEquals, assertMatch } from "../harness/assert.ts";
import { HOSTILE_CASES } from "../hostile/hostile_cases.ts";
import { REPOSITORY_ROOT } from "../harness/paths.ts";
import { coreTest, fp32, type ModelSource, values } from "./core_session.ts";

/** One per category that fails the request itself. */
const SAMPLE = [
  "read_absolute",
  "write_tmp",
  "env_get",
  "read_node_fs",
  "ffi_dlopen",
  "busy_loop",
  "deno_exit",
];

function hostileModel(name: string): ModelSource {
  const directory = `${REPOSITORY_ROOT}/tests/hostile/models/${name}`;
  const files: Record<string, string> = {
    "config.pbtxt": Deno.readTextFileSync(`${directory}/config.pbtxt`),
    "1/model.js": Deno.readTextFileSync(`${directory}/1/model.js`),
    // The shared add_sub around each attack must sit in the model's own directory.
    "1/hostile_shell.js": Deno.readTextFileSync(
      `${REPOSITORY_ROOT}/tests/hostile/hostile_shell.js`,
    ),
  };
  return { name, files };
}

coreTest("hostile models: each attack fails with its error, and everything keeps serving", {
  models: [...SAMPLE.map(hostileModel), "add_sub"],
  denoConfig: { "execute-timeout-ms": "1000" },
}, async (core, t) => {
  for (const name of SAMPLE) {
    const item = HOSTILE_CASES.find((entry) => entry.name === name);
    assert(item !== undefined && item.outcome === "request" && item.error !== undefined, name);
    await t.step(name, async () => {
      const attack = await core.infer(name, [
        fp32("INPUT0", [1, 2, 3, 4]),
        fp32("INPUT1", [1, 1, 1, 1]),
      ], {
        id: "attack",
      });
      assert(attack.error !== null, `${name}: the attack succeeded`);
      assertMatch(attack.error.message, item.error!);
      const benign = await core.infer(name, [
        fp32("INPUT0", [1, 2, 3, 4]),
        fp32("INPUT1", [1, 1, 1, 1]),
      ], {
        id: "benign",
      });
      assertEquals(benign.error, null, `${name} afterwards: ${benign.error?.message}`);
      assertEquals(values(benign, "OUTPUT0"), [2, 3, 4, 5]);
      const healthy = await core.infer("add_sub", [fp32("INPUT0", [1]), fp32("INPUT1", [2])]);
      assertEquals(values(healthy, "OUTPUT0"), [3], `add_sub beside ${name}`);
    });
  }
});
