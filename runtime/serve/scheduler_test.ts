import { parseModelConfigText } from "../model_config/mod.ts";
import { assert, assertEquals } from "./_test_assert.ts";
import { FakeExecutor, fakeRequest } from "./_test_fakes.ts";
import { modelSignature } from "./model_signature.ts";
import { type BatchingPolicy, batchingPolicy, Scheduler } from "./scheduler.ts";
import { ModelStatistics } from "./stats.ts";

function policy(overrides: Partial<BatchingPolicy> = {}): BatchingPolicy {
  return {
    maxBatchSize: 8,
    dynamic: true,
    preferredBatchSizes: [],
    maxQueueDelayUs: 0,
    equalShapeInputs: new Set(),
    ...overrides,
  };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("scheduler: without dynamic batching each request runs alone, over all instances", async () => {
  const executor = new FakeExecutor(2);
  const scheduler = new Scheduler(
    executor,
    policy({ dynamic: false }),
    new ModelStatistics("m", 1),
  );
  const done = ["a", "b", "c"].map((id) => scheduler.submit(fakeRequest(id)));
  await executor.waitForBatches(2);
  assertEquals(executor.batches.map((b) => [b.instance, b.ids]), [[0, ["a"]], [1, ["b"]]]);
  assertEquals(scheduler.queued, 1);
  executor.batches[1].complete();
  await executor.waitForBatches(3);
  assertEquals(executor.batches[2].instance, 1);
  assertEquals(executor.batches[2].ids, ["c"]);
  executor.batches[0].complete();
  executor.batches[2].complete();
  const outcomes = await Promise.all(done);
  assert(outcomes.every((outcome) => outcome.result.ok));
  assert(!executor.overlapped);
});

Deno.test("scheduler: dynamic batching gathers what queued while the instance was busy", async () => {
  const executor = new FakeExecutor(1);
  const stats = new ModelStatistics("m", 1);
  const scheduler = new Scheduler(executor, policy({ maxBatchSize: 4 }), stats);
  const done = ["a", "b", "c", "d", "e", "f", "g"].map((id) => scheduler.submit(fakeRequest(id)));
  await executor.waitForBatches(1);
  assertEquals(executor.batches[0].ids, ["a"]); // Nothing else was queued yet.
  executor.batches[0].complete();
  await executor.waitForBatches(2);
  assertEquals(executor.batches[1].ids, ["b", "c", "d", "e"]); // Capped at max_batch_size.
  executor.batches[1].complete();
  await executor.waitForBatches(3);
  assertEquals(executor.batches[2].ids, ["f", "g"]);
  executor.batches[2].complete();
  await Promise.all(done);
  const json = stats.toJson();
  assertEquals(json.inference_count, 7);
  assertEquals(json.execution_count, 3);
  assertEquals(json.batch_stats.map((b) => [b.batch_size, b.compute_infer.count]), [
    [1, 1],
    [2, 1],
    [4, 1],
  ]);
  assertEquals(json.inference_stats.success.count, 7);
  assertEquals(json.inference_stats.compute_infer, { count: 7, ns: 700 });
});

Deno.test("scheduler: the sum of batch dimensions stays within max_batch_size", async () => {
  const executor = new FakeExecutor(1);
  const scheduler = new Scheduler(
    executor,
    policy({ maxBatchSize: 8 }),
    new ModelStatistics("m", 1),
  );
  const done = [
    scheduler.submit(fakeRequest("first", [1, 2])),
    scheduler.submit(fakeRequest("a", [3, 2])),
    scheduler.submit(fakeRequest("b", [3, 2])),
    scheduler.submit(fakeRequest("c", [3, 2])),
  ];
  await executor.waitForBatches(1);
  executor.batches[0].complete();
  await executor.waitForBatches(2);
  assertEquals(executor.batches[1].ids, ["a", "b"]);
  executor.batches[1].complete();
  await executor.waitForBatches(3);
  assertEquals(executor.batches[2].ids, ["c"]);
  executor.batches[2].complete();
  await Promise.all(done);
});

Deno.test("scheduler: a preferred size leaves at once; the rest waits for the queue delay", async () => {
  const executor = new FakeExecutor(1, { autoComplete: true });
  const scheduler = new Scheduler(
    executor,
    policy({ preferredBatchSizes: [2], maxQueueDelayUs: 40_000 }),
    new ModelStatistics("m", 1),
  );
  const start = performance.now();
  const first = scheduler.submit(fakeRequest("a"));
  await tick();
  assertEquals(executor.batches.length, 0); // Waiting for a second request or the delay.
  const second = scheduler.submit(fakeRequest("b"));
  await Promise.all([first, second]);
  assertEquals(executor.batches[0].ids, ["a", "b"]);
  assert(performance.now() - start < 40, "the preferred batch did not wait for the delay");
  const lateStart = performance.now();
  await scheduler.submit(fakeRequest("c"));
  const waited = performance.now() - lateStart;
  assertEquals(executor.batches[1].ids, ["c"]);
  assert(waited >= 35, `a lone request waited ${waited} ms, expected about the 40 ms delay`);
});

Deno.test("scheduler: requests with different shapes of a variable input are not batched", async () => {
  const executor = new FakeExecutor(1);
  const scheduler = new Scheduler(
    executor,
    policy({ equalShapeInputs: new Set(["X"]) }),
    new ModelStatistics("m", 1),
  );
  const done = [
    scheduler.submit(fakeRequest("first", [1, 2])),
    scheduler.submit(fakeRequest("a", [1, 2])),
    scheduler.submit(fakeRequest("b", [2, 2])),
    scheduler.submit(fakeRequest("c", [1, 3])),
  ];
  await executor.waitForBatches(1);
  executor.batches[0].complete();
  await executor.waitForBatches(2);
  assertEquals(executor.batches[1].ids, ["a", "b"]); // Batch dims differ; the rest matches.
  executor.batches[1].complete();
  await executor.waitForBatches(3);
  assertEquals(executor.batches[2].ids, ["c"]);
  executor.batches[2].complete();
  await Promise.all(done);
});

Deno.test("scheduler: an executor failure fails its batch; close drains then refuses", async () => {
  const executor = new FakeExecutor(1);
  const stats = new ModelStatistics("m", 1);
  const scheduler = new Scheduler(executor, policy(), stats);
  const failing = scheduler.submit(fakeRequest("a"));
  await executor.waitForBatches(1);
  const queued = scheduler.submit(fakeRequest("b"));
  const closed = scheduler.close("model 'm' is unloading");
  executor.batches[0].fail(new Error("stub died"));
  const outcome = await failing;
  assert(!outcome.result.ok);
  assertEquals(outcome.result.ok ? 0 : outcome.result.code, 1);
  await executor.waitForBatches(2);
  executor.batches[1].complete();
  assert((await queued).result.ok, "a request queued before close still runs");
  await closed;
  const refused = await scheduler.submit(fakeRequest("c"));
  assert(!refused.result.ok && refused.result.code === 4);
  assertEquals(stats.toJson().inference_stats.fail.count, 1);
});

Deno.test("scheduler: batchingPolicy reads dynamic_batching from the config", () => {
  const config = parseModelConfigText(`
    name: "m" max_batch_size: 16
    input [{ name: "A" data_type: TYPE_FP32 dims: [-1] },
           { name: "B" data_type: TYPE_FP32 dims: [3] },
           { name: "C" data_type: TYPE_FP32 dims: [-1] allow_ragged_batch: true }]
    dynamic_batching { preferred_batch_size: [8, 4, 32] max_queue_delay_microseconds: 100 }
  `);
  const result = batchingPolicy(config, modelSignature(config));
  assertEquals(result.dynamic, true);
  assertEquals(result.preferredBatchSizes, [4, 8]);
  assertEquals(result.maxQueueDelayUs, 100);
  assertEquals([...result.equalShapeInputs], ["A"]);
  const plain = parseModelConfigText('name: "p" max_batch_size: 4');
  assertEquals(batchingPolicy(plain, modelSignature(plain)).dynamic, false);
});
