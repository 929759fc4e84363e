/**
 * End-to-end: a stub that dies or hangs. The request in flight must fail
 * with an error naming the instance, and the instance must come back (a new
 * stub) so that the next request succeeds.
 */

import {
  assert,
  assertEquals,
  assertMatch,
  assertNotEquals,
  assertStringIncludes,
} from "./harness/assert.ts";
import { fixtureDir } from "./harness/fixtures.ts";
import type { InferRequest } from "./harness/host.ts";
import { findStubPids, isGone, sleep, waitFor } from "./harness/processes.ts";
import { withHost } from "./harness/session.ts";

function addSubRequest(id: string): InferRequest {
  return {
    id,
    inputs: [
      { name: "INPUT0", datatype: "FP32", shape: [4], data: new Float32Array([1, 2, 3, 4]) },
      { name: "INPUT1", datatype: "FP32", shape: [4], data: new Float32Array([1, 1, 1, 1]) },
    ],
  };
}

function sumOf(result: { outputs: Map<string, { kind: string; data: unknown }> }): number[] {
  const sum = result.outputs.get("OUTPUT0");
  assert(sum !== undefined && sum.kind === "numeric", "OUTPUT0 missing");
  return Array.from(sum.data as Float32Array);
}

Deno.test({
  name: "a stub killed mid-request fails that request naming the instance; the next one succeeds",
  // The execute runs on a blocking FFI thread while this test kills the stub.
  sanitizeOps: false,
  fn: () =>
    withHost(async (host) => {
      const dir = fixtureDir("sleep_in_execute");
      const model = host.loadModel(dir);
      const [stub] = findStubPids(dir);
      assert(stub !== undefined, "no stub found for the model");

      const pending = model.executeAsync(0, [addSubRequest("sleep")]);
      // Let the request reach the model's 20 s sleep, then kill the stub outright.
      await sleep(500);
      Deno.kill(stub, "SIGKILL");
      const started = performance.now();
      const [killed] = await pending;
      const waited = performance.now() - started;

      assert(killed.error !== null, "the request in flight should fail");
      assertStringIncludes(killed.error.message, "sleep_in_execute_0");
      assertEquals(killed.releaseCount, 1);
      assert(killed.final);
      assert(waited < 15_000, `the failure took ${waited.toFixed(0)} ms to be noticed`);
      assert(await waitFor(() => isGone(stub), 5_000), "the killed stub was not reaped");

      const [next] = model.execute(0, [addSubRequest("after-kill")]);
      assertEquals(
        next.error,
        null,
        `the request after the restart failed: ${next.error?.message}`,
      );
      assertEquals(sumOf(next), [2, 3, 4, 5]);
      const restarted = findStubPids(dir);
      assertEquals(restarted.length, 1, "one stub after the restart");
      assertNotEquals(restarted[0], stub);
      model.unload();
    }),
});

Deno.test({
  name: "a busy-looping execute hits the deadline with a timeout error; the next request succeeds",
  fn: () =>
    withHost((host) => {
      const deadlineMs = 1500;
      const dir = fixtureDir("busy_loop");
      const model = host.loadModel(dir);
      const [stub] = findStubPids(dir);

      const started = performance.now();
      const [spun] = model.execute(0, [addSubRequest("spin")]);
      const elapsed = performance.now() - started;
      assert(spun.error !== null, "the spinning request should fail");
      assertMatch(spun.error.message, /time|deadline/i);
      assertStringIncludes(spun.error.message, "busy_loop_0");
      assertEquals(spun.releaseCount, 1);
      assert(
        elapsed >= deadlineMs * 0.9,
        `failed after ${elapsed.toFixed(0)} ms, before the deadline`,
      );
      assert(elapsed < deadlineMs + 10_000, `failed only after ${elapsed.toFixed(0)} ms`);

      const [next] = model.execute(0, [addSubRequest("after-deadline")]);
      assertEquals(
        next.error,
        null,
        `the request after the deadline failed: ${next.error?.message}`,
      );
      assertEquals(sumOf(next), [2, 3, 4, 5]);
      const restarted = findStubPids(dir);
      assertEquals(restarted.length, 1);
      assertNotEquals(restarted[0], stub, "the hung stub should have been replaced");
      model.unload();
    }, { "execute-timeout-ms": "1500" }),
});

Deno.test("a stub that died while idle is replaced before the next request, which succeeds", () =>
  withHost(async (host) => {
    const dir = fixtureDir("sleep_in_execute");
    const model = host.loadModel(dir);
    const [first] = model.execute(0, [addSubRequest("before")]);
    assertEquals(first.error, null);
    const [stub] = findStubPids(dir);
    Deno.kill(stub, "SIGKILL");
    assert(await waitFor(() => isGone(stub), 5_000), "the killed stub was not reaped");

    // The stub died before this request was submitted: nothing about the request can have
    // caused it, so failing the request would only pass the crash on to an innocent client.
    const [next] = model.execute(0, [addSubRequest("after-idle-crash")]);
    assertEquals(
      next.error,
      null,
      `the request after an idle crash failed: ${next.error?.message}`,
    );
    assertEquals(sumOf(next), [2, 3, 4, 5]);
    assertNotEquals(findStubPids(dir)[0], stub);
    model.unload();
  }));
