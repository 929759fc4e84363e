/**
 * End-to-end, through the stand-in: the batch size reported to Triton's
 * statistics (TRITONBACKEND_ModelInstanceReportBatchStatistics). For a model
 * that batches (max_batch_size > 0) it is the sum of the requests' batch
 * dimensions, not the number of requests; a request whose inputs disagree
 * on that dimension, or that exceeds max_batch_size, fails alone.
 *
 * @module
 */

import { assert, assertEquals, assertStringIncludes } from "./harness/assert.ts";
import { exampleModelDir, fixtureDir } from "./harness/fixtures.ts";
import type { InferRequest } from "./harness/host.ts";
import { withHost } from "./harness/session.ts";

function rows(id: string, batch: number): InferRequest {
  return {
    id,
    inputs: [{
      name: "INPUT0",
      datatype: "FP32",
      shape: [batch, 4],
      data: new Float32Array(batch * 4).map((_, i) => i),
    }],
  };
}

Deno.test("batch statistics: a batching model reports the sum of its requests' batch dimensions", () =>
  withHost((host) => {
    const model = host.loadModel(fixtureDir("batch_identity"), { instanceCount: 1 });
    const [one] = model.execute(0, [rows("three", 3)]);
    assertEquals(one.error, null, one.error?.message);
    assertEquals(model.statistics(0).last_batch_size, 3);
    const results = model.execute(0, [rows("a", 3), rows("b", 2), rows("c", 1)]);
    for (const result of results) assertEquals(result.error, null, result.error?.message);
    assertEquals(model.statistics(0).last_batch_size, 6);
    assertEquals(model.statistics(0).batch_size_total, 9);
    model.unload();
  }));

Deno.test("batch statistics: a model that does not batch reports the number of requests", () =>
  withHost((host) => {
    const model = host.loadModel(exampleModelDir("add_sub"), { instanceCount: 1 });
    const request = (id: string): InferRequest => ({
      id,
      inputs: ["INPUT0", "INPUT1"].map((name) => ({
        name,
        datatype: "FP32" as const,
        shape: [3, 4],
        data: new Float32Array(12),
      })),
    });
    model.execute(0, [request("x"), request("y")]);
    assertEquals(model.statistics(0).last_batch_size, 2);
    model.unload();
  }));

Deno.test("batch statistics: a request larger than max_batch_size fails alone, naming the sizes", () =>
  withHost((host) => {
    const model = host.loadModel(fixtureDir("batch_identity"), { instanceCount: 1 });
    const [big, fine] = model.execute(0, [rows("big", 9), rows("fine", 2)]);
    assert(big.error !== null, "a batch dimension of 9 was accepted");
    assertStringIncludes(big.error.message, "batch dimension is 9");
    assertStringIncludes(big.error.message, "max_batch_size 8");
    assertEquals(fine.error, null, fine.error?.message);
    assertEquals(model.statistics(0).last_batch_size, 2, "only the sent request counts");
    model.unload();
  }));

Deno.test("a decoupled batch: a request that cannot be sent is answered and released once, the others stream", () =>
  withHost((host) => {
    const model = host.loadModel(fixtureDir("decoupled_batching"), { instanceCount: 1 });
    const results = model.execute(0, [rows("a", 2), rows("too-big", 9), rows("b", 1)]);
    const [a, big, b] = results;
    for (const result of results) {
      assertEquals(result.releaseCount, 1, `${result.id}: release count`);
      assert(result.final, `${result.id}: no final response`);
      assertEquals(result.statsReports, 1, `${result.id}: statistics reports`);
    }
    assert(big.error !== null, "the oversized request was sent");
    assertStringIncludes(big.error.message, "max_batch_size 8");
    for (const streamed of [a, b]) {
      assertEquals(streamed.error, null, streamed.error?.message);
      assertEquals(streamed.responses.filter((response) => !response.flagsOnly).length, 1);
    }
    assertEquals(model.statistics(0).last_batch_size, 3);
    model.unload();
  }));
