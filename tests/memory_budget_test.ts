/**
 * End-to-end, through the stand-in: the memory budget holds. A stub whose
 * resident memory goes over deno.max_heap_mb + deno.max_memory_mb + the
 * runtime's reserve is killed after its batch and restarted, and says so in
 * Triton's log; the model serves on.
 *
 * @module
 */

import { assert, assertEquals, assertStringIncludes } from "./harness/assert.ts";
import { fixtureDir, withParameter } from "./harness/fixtures.ts";
import type { InferRequest } from "./harness/host.ts";
import { findStubPids } from "./harness/processes.ts";
import { withHost } from "./harness/session.ts";

function request(id: string): InferRequest {
  return {
    id,
    inputs: ["INPUT0", "INPUT1"].map((name) => ({
      name,
      datatype: "FP32" as const,
      shape: [2],
      data: new Float32Array([1, 2]),
    })),
  };
}

Deno.test("memory budget: a stub over its budget is restarted after its batch, and the model serves on", () =>
  withHost((host) => {
    const directory = fixtureDir("memory_hog");
    const model = host.loadModel(directory);
    const [first] = findStubPids(directory);
    const [hog] = model.execute(0, [request("hog")]);
    assertEquals(hog.error, null, "the request itself is served");
    assertStringIncludes(host.log(), "over its memory budget of 384 MiB");
    assertStringIncludes(host.log(), "deno.max_heap_mb 64 + deno.max_memory_mb 64 + 256");
    const stubs = findStubPids(directory);
    assertEquals(stubs.length, 1);
    assert(stubs[0] !== first, "the stub was not replaced");
    const [after] = model.execute(0, [request("after")]);
    assertEquals(after.error, null, after.error?.message);
    model.unload();
  }));

Deno.test("memory budget: holds for a model with batches in flight, whose response thread watches it", () =>
  withHost(async (host) => {
    const directory = fixtureDir("memory_hog");
    const model = host.loadModel(directory, {
      configOverride: withParameter("deno.max_batches_in_flight", "2"),
    });
    const [first] = findStubPids(directory);
    const [hog] = model.execute(0, [request("hog")]);
    // The response thread looks at the stub's memory at most every 50 ms,
    // also while the batch runs: the request is served, or fails saying why.
    assert(
      hog.error === null || hog.error.message.includes("was over its memory budget"),
      `the hog request failed otherwise: ${hog.error?.message}`,
    );
    const giveUpAt = Date.now() + 5000;
    while (!host.log().includes("over its memory budget") && Date.now() < giveUpAt) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assertStringIncludes(host.log(), "over its memory budget of 384 MiB");
    const [after] = model.execute(0, [request("after")]);
    assertEquals(after.error, null, after.error?.message);
    const stubs = findStubPids(directory);
    assertEquals(stubs.length, 1);
    assert(stubs[0] !== first, "the stub was not replaced");
    model.unload();
  }));
