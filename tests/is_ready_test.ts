/**
 * End-to-end: the model's isReady() hook through the test host and the
 * real backend (TRITONBACKEND_ModelInstanceReady, IS_READY/READINESS). The
 * parent asks at most once a second, so each change of the fixture's state
 * is looked at after that interval.
 */

import { create } from "npm:@bufbuild/protobuf@2.17.0";
import { ModelTransactionPolicySchema } from "../runtime/model_config/mod.ts";
import { assert, assertEquals, assertStringIncludes } from "./harness/assert.ts";
import {
  exampleModelDir,
  fixtureDir,
  removeTemporaryCopy,
  temporaryCopy,
} from "./harness/fixtures.ts";
import type { LoadedModel } from "./harness/host.ts";
import { sleep } from "./harness/processes.ts";
import { withHost } from "./harness/session.ts";

/** Past the parent's readiness interval (1 s). */
const INTERVAL_MS = 1100;

function calls(log: string): number {
  return log.split("\n").filter((line) => line.includes("isReady call")).length;
}

async function readyAfter(model: LoadedModel, state: string | undefined, dir: string) {
  if (state === undefined) {
    try {
      Deno.removeSync(`${dir}/ready_state`);
    } catch { /* already gone */ }
  } else {
    Deno.writeTextFileSync(`${dir}/ready_state`, state);
  }
  await sleep(INTERVAL_MS);
  return await model.ready(0);
}

for (const decoupled of [false, true]) {
  Deno.test({
    name: `isReady(): false, a throw, a rejection-free async false make the instance not ready, ` +
      `then ready again (${decoupled ? "decoupled, response thread running" : "not decoupled"})`,
    sanitizeOps: false,
    fn: () =>
      withHost(async (host) => {
        const dir = temporaryCopy(fixtureDir("is_ready"));
        try {
          const model = host.loadModel(dir, {
            configOverride: (config) => {
              if (decoupled) {
                config.modelTransactionPolicy = create(ModelTransactionPolicySchema, {
                  decoupled: true,
                });
              }
            },
          });
          // A batch first: for a decoupled model its response thread then reads the ring.
          const [result] = await model.executeAsync(0, [{
            id: "r",
            inputs: [{ name: "INPUT0", datatype: "INT32", shape: [1], data: new Int32Array([4]) }],
          }]);
          assertEquals(result.error, null);
          const before = calls(host.log()); // the log is the process's
          assertEquals(await model.ready(0), true);
          const asked = calls(host.log());
          assertEquals(asked - before, 1, "asked once");
          assertEquals(await model.ready(0), true);
          assertEquals(calls(host.log()), asked, "within the interval the last answer stands");

          const no = await readyAfter(model, "false", dir);
          assert(no !== true, "ready although isReady() returned false");
          assertStringIncludes(
            no,
            "instance 'is_ready_0' is not ready: its model's isReady() returned false",
          );
          const thrown = await readyAfter(model, "throw", dir);
          assertStringIncludes(
            thrown === true ? "" : thrown,
            "is not ready: its model's isReady() threw: the database is unreachable",
          );
          assert((await readyAfter(model, "async-false", dir)) !== true);
          assertEquals(await readyAfter(model, undefined, dir), true);
          model.unload();
        } finally {
          removeTemporaryCopy(dir);
        }
      }),
  });
}

Deno.test({
  name: "isReady() that never settles: not ready after 5 s, and asked again afterwards",
  sanitizeOps: false,
  fn: () =>
    withHost(async (host) => {
      const dir = temporaryCopy(fixtureDir("is_ready"));
      try {
        const model = host.loadModel(dir);
        Deno.writeTextFileSync(`${dir}/ready_state`, "hang");
        const started = Date.now();
        const hung = await model.ready(0);
        assertStringIncludes(
          hung === true ? "" : hung,
          "is not ready: its model's isReady() did not answer within 5000 ms",
        );
        assert(Date.now() - started < 8000, "the readiness check was not cut short");
        Deno.removeSync(`${dir}/ready_state`);
        await sleep(INTERVAL_MS);
        assertEquals(await model.ready(0), true, "a hung call does not stop later ones");
        model.unload();
      } finally {
        removeTemporaryCopy(dir);
      }
    }),
});

Deno.test("a model without isReady() is ready and never asked", () =>
  withHost(async (host) => {
    const model = host.loadModel(exampleModelDir("add_sub"), { instanceCount: 1 });
    assertEquals(await model.ready(0), true);
    assert(!host.log().includes("IS_READY"), host.log());
    model.unload();
  }));
