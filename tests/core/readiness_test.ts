/**
 * Real core: Triton's readiness reflects the stubs. A model is ready when
 * every instance's stub runs (TRITONBACKEND_ModelInstanceReady); a stub that
 * died while idle is restarted by the readiness check itself, so an idle
 * model recovers without a request, and one that cannot be restarted makes
 * the model not ready, with the reason in Triton's log.
 *
 * @module
 */

import { assert, assertEquals, assertNotEquals } from "../harness/assert.ts";
import { findStubPids, isGone } from "../harness/processes.ts";
import { coreTest, fp32, tensor, values } from "./core_session.ts";

async function kill(pids: number[]): Promise<void> {
  for (const pid of pids) Deno.kill(pid, "SIGKILL");
  for (const pid of pids) {
    for (let i = 0; i < 200 && !isGone(pid); i++) await new Promise((r) => setTimeout(r, 25));
  }
}

coreTest("a dead idle stub is restarted by the readiness check, without a request", {
  models: ["add_sub"],
}, async (core) => {
  const directory = `${core.repository}/add_sub`;
  const before = findStubPids(directory);
  assertEquals(before.length, 2);
  await kill(before);
  assertEquals(findStubPids(directory).length, 0, "the stubs are gone");
  assertEquals(core.server.modelReady("add_sub"), true);
  const after = findStubPids(directory);
  assertEquals(after.length, 2, "both stubs were restarted by the readiness check");
  assertNotEquals(after, before);
  const answer = await core.infer("add_sub", [fp32("INPUT0", [1]), fp32("INPUT1", [2])]);
  assertEquals(values(answer, "OUTPUT0"), [3]);
});

coreTest("a stub that cannot be restarted makes the model not ready, until it can", {
  models: ["add_sub"],
}, async (core) => {
  const directory = `${core.repository}/add_sub`;
  const model = `${directory}/1/model.ts`;
  const source = Deno.readTextFileSync(model);
  Deno.renameSync(model, `${model}.away`);
  try {
    await kill(findStubPids(directory));
    assertEquals(core.server.modelReady("add_sub"), false);
    assertEquals(core.server.ready(), false, "strict readiness: the server is not ready either");
  } finally {
    Deno.writeTextFileSync(model, source);
  }
  // Within the restart backoff (seconds at most), a readiness check brings it back.
  let ready = false;
  for (let i = 0; i < 100 && !ready; i++) {
    await new Promise((r) => setTimeout(r, 100));
    ready = core.server.modelReady("add_sub");
  }
  assert(ready, "the model did not become ready again");
});

coreTest("the model's isReady() decides its readiness, asked at most once a second", {
  models: ["is_ready"],
}, async (core) => {
  const state = `${core.repository}/is_ready/ready_state`;
  const settle = () => new Promise((r) => setTimeout(r, 1100));
  assertEquals(core.server.modelReady("is_ready"), true);
  Deno.writeTextFileSync(state, "false");
  await settle();
  assertEquals(core.server.modelReady("is_ready"), false);
  assertEquals(core.server.ready(), false, "strict readiness: the server is not ready either");
  Deno.writeTextFileSync(state, "throw");
  await settle();
  assertEquals(core.server.modelReady("is_ready"), false);
  Deno.removeSync(state);
  await settle();
  assertEquals(core.server.modelReady("is_ready"), true);
  // Requests are served all along: readiness is advice to load balancers.
  const answer = await core.infer("is_ready", [
    tensor("INPUT0", "INT32", [1], new Int32Array([9])),
  ]);
  assertEquals(values(answer, "OUTPUT0"), [9]);
});
