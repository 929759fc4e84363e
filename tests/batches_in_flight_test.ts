/**
 * End-to-end: batches in flight (models/async_overlap). Triton calls
 * Execute on an instance from one thread, one call after the other; the
 * test host does the same, so two `executeAsync` calls started together on
 * one instance reach the backend back to back. A decoupled model's Execute
 * returns while fewer than `deno.max_batches_in_flight` of its batches run,
 * so with 2 the second batch's async execute overlaps the first; with 1
 * each batch runs alone. The same holds for a model that is not decoupled,
 * whose batches are then each answered when their execute settles.
 */

import { create } from "npm:@bufbuild/protobuf@2.17.0";
import { type ModelConfig, ModelTransactionPolicySchema } from "../runtime/model_config/mod.ts";
import { assert, assertEquals } from "./harness/assert.ts";
import { exampleModelDir, withParameter } from "./harness/fixtures.ts";
import type { InferRequest, LoadedModel, RequestResult } from "./harness/host.ts";
import { withHost } from "./harness/session.ts";

const MODEL = exampleModelDir("async_overlap");

function tagged(tag: number, delayMs: number): InferRequest {
  return {
    id: `tag-${tag}`,
    inputs: [{ name: "TAG", datatype: "INT32", shape: [1], data: new Int32Array([tag]) }],
    parameters: { delay_ms: delayMs },
  };
}

/** TAG and RUNNING of a successful request. */
function answer(result: RequestResult): { tag: number; running: number } {
  assertEquals(result.error, null, `request '${result.id}' failed`);
  assertEquals([result.releaseCount, result.final, result.statsReports], [1, true, 1]);
  const tag = result.outputs.get("TAG");
  const running = result.outputs.get("RUNNING");
  assert(tag?.kind === "numeric" && running?.kind === "numeric", `request '${result.id}'`);
  return { tag: Number(tag.data[0]), running: Number(running.data[0]) };
}

/**
 * Sends one batch per delay, 30 ms apart (so that they reach the instance in
 * this order: the host's execute threads would otherwise race for it), and
 * waits for every answer.
 */
async function sendTogether(
  model: LoadedModel,
  delaysMs: number[],
): Promise<{ answers: { tag: number; running: number }[]; elapsedMs: number }> {
  const started = performance.now();
  const pending: Promise<RequestResult[]>[] = [];
  for (const [tag, delay] of delaysMs.entries()) {
    if (tag > 0) await new Promise((resolve) => setTimeout(resolve, 30));
    pending.push(model.executeAsync(0, [tagged(tag, delay)]));
  }
  const batches = await Promise.all(pending);
  const elapsedMs = performance.now() - started;
  return { answers: batches.map(([result]) => answer(result)), elapsedMs };
}

Deno.test({
  name: "batches in flight: with 2, a decoupled instance runs two async executes at once",
  sanitizeOps: false,
  fn: () =>
    withHost(async (host) => {
      const model = host.loadModel(MODEL);
      // Warm up: the first execute compiles the model's code paths.
      await sendTogether(model, [0]);
      // Each execute reports how many were running at once: 2 proves the
      // overlap without timing it (a loaded machine would make that flaky).
      const { answers } = await sendTogether(model, [300, 300]);
      assertEquals(answers, [{ tag: 0, running: 2 }, { tag: 1, running: 2 }]);
      model.unload();
    }),
});

Deno.test({
  name: "batches in flight: a third batch waits until one of two running ones finished",
  sanitizeOps: false,
  fn: () =>
    withHost(async (host) => {
      const model = host.loadModel(MODEL);
      // 0 runs 600 ms; 1 runs 200 ms beside it; 2 may start only when 1 is done, and then
      // runs beside 0. Never three at once.
      const { answers } = await sendTogether(model, [600, 200, 200]);
      assertEquals(answers.map((a) => a.running), [2, 2, 2]);
      model.unload();
    }),
});

Deno.test({
  name: "batches in flight: with 1, a decoupled instance runs its batches one at a time",
  sanitizeOps: false,
  fn: () =>
    withHost(async (host) => {
      const model = host.loadModel(MODEL, {
        configOverride: withParameter("deno.max_batches_in_flight", "1"),
      });
      const { answers, elapsedMs } = await sendTogether(model, [200, 200]);
      assertEquals(answers, [{ tag: 0, running: 1 }, { tag: 1, running: 1 }]);
      assert(elapsedMs >= 390, `two 200 ms executes one after the other took ${elapsedMs} ms`);
      model.unload();
    }),
});

/** The model, not decoupled, with `limit` batches in flight. */
function notDecoupled(limit: number): (config: ModelConfig) => void {
  return (config) => {
    config.modelTransactionPolicy = create(ModelTransactionPolicySchema, { decoupled: false });
    withParameter("deno.max_batches_in_flight", String(limit))(config);
  };
}

Deno.test({
  name: "batches in flight: with 2, an instance of a model that is not decoupled runs two at once",
  sanitizeOps: false,
  fn: () =>
    withHost(async (host) => {
      const model = host.loadModel(MODEL, { configOverride: notDecoupled(2) });
      await sendTogether(model, [0]);
      const { answers } = await sendTogether(model, [300, 300]);
      assertEquals(answers, [{ tag: 0, running: 2 }, { tag: 1, running: 2 }]);
      // Never more than the limit: the third waits for one of the two.
      const three = await sendTogether(model, [600, 200, 200]);
      assertEquals(three.answers.map((a) => a.running), [2, 2, 2]);
      model.unload();
    }),
});

Deno.test({
  name: "batches in flight: by default, a model that is not decoupled runs one batch at a time",
  sanitizeOps: false,
  fn: () =>
    withHost(async (host) => {
      const model = host.loadModel(MODEL, { configOverride: notDecoupled(1) });
      const { answers, elapsedMs } = await sendTogether(model, [200, 200]);
      assertEquals(answers, [{ tag: 0, running: 1 }, { tag: 1, running: 1 }]);
      assert(elapsedMs >= 390, `two 200 ms executes one after the other took ${elapsedMs} ms`);
      model.unload();
    }),
});

Deno.test({
  name: "batches in flight: a failing batch of an overlapping model fails alone",
  sanitizeOps: false,
  fn: () =>
    withHost(async (host) => {
      const model = host.loadModel(MODEL, { configOverride: notDecoupled(2) });
      // delay_ms -1 makes the model's execute throw (models/async_overlap).
      const [bad, good] = await Promise.all([
        model.executeAsync(0, [tagged(0, -1)]),
        model.executeAsync(0, [tagged(1, 100)]),
      ]);
      assert(bad[0].error !== null, "the throwing batch succeeded");
      assertEquals([bad[0].releaseCount, bad[0].final], [1, true]);
      assertEquals(answer(good[0]).tag, 1);
      model.unload();
    }),
});
