import { parseModelConfigText } from "../model_config/mod.ts";
import { assert, assertEquals, assertThrows } from "./_test_assert.ts";
import { FakeExecutor, fakeRequest } from "./_test_fakes.ts";
import { modelSignature } from "./model_signature.ts";
import { priorityLevel, priorityPolicy, RequestQueue } from "./queue_policy.ts";
import { batchingPolicy, Scheduler } from "./scheduler.ts";
import { ModelStatistics } from "./stats.ts";

function settings(text: string) {
  const config = parseModelConfigText(`name: "m" max_batch_size: 4 dynamic_batching { ${text} }`);
  if (config.schedulingChoice.case !== "dynamicBatching") throw new Error("no dynamic_batching");
  return config.schedulingChoice.value;
}

Deno.test("queue_policy: levels, the default level and per-level policies", () => {
  const policy = priorityPolicy(settings(`
    priority_levels: 3 default_priority_level: 2
    default_queue_policy { max_queue_size: 5 }
    priority_queue_policy { key: 1 value { timeout_action: DELAY default_timeout_microseconds: 100 } }
  `));
  assertEquals([policy.levels, policy.defaultLevel], [3, 2]);
  assertEquals(policy.defaultPolicy.maxQueueSize, 5);
  assertEquals(policy.perLevel.get(1)?.timeoutAction, "DELAY");
  // 0 and levels beyond priority_levels mean the default level.
  assertEquals([0, 1, 3, 4].map((p) => priorityLevel(policy, p)), [2, 1, 3, 2]);
  assertEquals(priorityLevel(priorityPolicy(settings("")), 7), 0);
  assertThrows(
    () => priorityPolicy(settings("priority_levels: 2 default_priority_level: 0")),
    Error,
    "default_priority_level must be in range [1, 2]",
  );
});

Deno.test("queue_policy: lower levels first, then arrival; DELAY moves behind, REJECT removes", () => {
  const policy = priorityPolicy(settings(`
    priority_levels: 2 default_priority_level: 2
    priority_queue_policy { key: 2 value { timeout_action: DELAY default_timeout_microseconds: 10 } }
    priority_queue_policy { key: 1 value { default_timeout_microseconds: 10 allow_timeout_override: true } }
  `));
  const queue = new RequestQueue<string>(policy);
  queue.enqueue("low-a", 2, 0n, 0);
  queue.enqueue("high-a", 1, 5n, 0); // Its own 5 µs, shorter than the level's 10.
  queue.enqueue("low-b", 0, 0n, 5_000);
  queue.enqueue("high-b", 1, 50n, 0); // Cannot lengthen the level's 10 µs.
  assertEquals(queue.items(), ["high-a", "high-b", "low-a", "low-b"]);
  assertEquals(queue.expire(6_000), ["high-a"]);
  assertEquals(queue.nextDeadline(), 10_000);
  assertEquals(queue.expire(12_000), ["high-b"]);
  assertEquals(queue.items(), ["low-b", "low-a"]); // low-a timed out: delayed behind low-b.
  assertEquals(queue.take(1), ["low-b"]);
  assertEquals(queue.length, 1);
});

Deno.test("queue_policy: without a default timeout a request's timeout does not apply", () => {
  const queue = new RequestQueue<string>(priorityPolicy(settings(
    "default_queue_policy { allow_timeout_override: true }",
  )));
  queue.enqueue("a", 0, 5n, 0);
  assertEquals(queue.nextDeadline(), undefined);
  assertEquals(queue.expire(1e12), []);
});

Deno.test("scheduler: a full queue and an expired timeout are UNAVAILABLE as in Triton", async () => {
  const config = parseModelConfigText(`name: "m" max_batch_size: 4 dynamic_batching {
    default_queue_policy { max_queue_size: 1 default_timeout_microseconds: 20000 }
  }`);
  const executor = new FakeExecutor(1);
  const stats = new ModelStatistics("m", 1);
  const scheduler = new Scheduler(executor, batchingPolicy(config, modelSignature(config)), stats);
  const running = scheduler.submit(fakeRequest("running"));
  await executor.waitForBatches(1);
  const waiting = scheduler.submit(fakeRequest("waiting"));
  const refused = await scheduler.submit(fakeRequest("extra"));
  assert(!refused.result.ok);
  assertEquals(
    [refused.result.code, refused.result.message],
    [4, "[request id: extra] Exceeds maximum queue size"],
  );
  const expired = await waiting; // The instance stays busy past the 20 ms timeout.
  assert(!expired.result.ok);
  assertEquals([expired.result.code, expired.result.message], [4, "Request timeout expired"]);
  executor.batches[0].complete();
  assert((await running).result.ok);
  assertEquals(executor.batches.length, 1);
  assertEquals(stats.toJson().inference_stats.fail.count, 2);
  await scheduler.close("done");
});

Deno.test("scheduler: with priority levels the higher priority leaves first", async () => {
  const config = parseModelConfigText(`name: "m" max_batch_size: 1 dynamic_batching {
    priority_levels: 2 default_priority_level: 2
  }`);
  const executor = new FakeExecutor(1);
  const scheduler = new Scheduler(
    executor,
    batchingPolicy(config, modelSignature(config)),
    new ModelStatistics("m", 1),
  );
  const done = [
    scheduler.submit(fakeRequest("first")),
    scheduler.submit(fakeRequest("low")),
    scheduler.submit(fakeRequest("high", [1, 2], { priority: 1 })),
  ];
  for (let i = 0; i < 3; i++) {
    await executor.waitForBatches(i + 1);
    executor.batches[i].complete();
  }
  await Promise.all(done);
  assertEquals(executor.batches.map((batch) => batch.ids[0]), ["first", "high", "low"]);
  await scheduler.close("done");
});
