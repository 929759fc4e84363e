import { parseModelConfigText } from "../model_config/mod.ts";
import { assert, assertEquals } from "./_test_assert.ts";
import { FakeExecutor, fakeRequest, FunctionExecutor, inputOf, readInt32 } from "./_test_fakes.ts";
import { sequencePolicy, SequenceScheduler } from "./sequence_scheduler.ts";
import { ModelStatistics } from "./stats.ts";
import type { InferRequest, RequestOutcome } from "./types.ts";

const START = 1;
const END = 2;

function config(text: string) {
  return parseModelConfigText(`name: "acc" ${text}`);
}

/** A sequence request: batch 1, the given id and flags. */
function seq(id: string, correlationId: bigint | string, flags = 0): InferRequest {
  return fakeRequest(id, [1, 2], { correlationId, flags });
}

function message(outcome: RequestOutcome): string {
  return outcome.result.ok ? "ok" : outcome.result.message;
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("sequence_scheduler: sequencePolicy reads the strategy and Triton's defaults", () => {
  const direct = sequencePolicy(config("max_batch_size: 4 sequence_batching { }"));
  assertEquals(
    [direct.strategy, direct.slotsPerInstance, direct.maxSequenceIdleUs, direct.batchThreshold],
    ["direct", 4, 1_000_000, 1],
  );
  const utilization = sequencePolicy(config(
    "max_batch_size: 4 sequence_batching { direct { max_queue_delay_microseconds: 100 " +
      "minimum_slot_utilization: 0.5 } max_sequence_idle_microseconds: 5000 }",
  ));
  assertEquals(
    [utilization.batchThreshold, utilization.maxQueueDelayUs, utilization.maxSequenceIdleUs],
    [2, 100, 5000],
  );
  const oldest = sequencePolicy(config(
    "max_batch_size: 8 sequence_batching { oldest { max_candidate_sequences: 3 " +
      "preferred_batch_size: [2] } }",
  ));
  assertEquals([oldest.strategy, oldest.slotsPerInstance, oldest.batchThreshold], [
    "oldest",
    3,
    2,
  ]);
  const single = sequencePolicy(config("sequence_batching { }"));
  assertEquals(single.slotsPerInstance, 1);
});

Deno.test("sequence_scheduler: a sequence stays on one instance; requests get the controls", async () => {
  const executor = new FunctionExecutor("{}", () => ({ ok: true, outputs: [], parameters: {} }), 2);
  const scheduler = new SequenceScheduler(
    "acc",
    executor,
    sequencePolicy(config(`
      input [{ name: "X" data_type: TYPE_FP32 dims: [2] }]
      sequence_batching { control_input [
        { name: "START" control [{ kind: CONTROL_SEQUENCE_START int32_false_true: [0, 1] }] },
        { name: "READY" control [{ kind: CONTROL_SEQUENCE_READY int32_false_true: [0, 1] }] }
      ] }`)),
    new ModelStatistics("acc", 1),
  );
  try {
    await Promise.all([
      scheduler.submit(seq("a1", 1n, START)),
      scheduler.submit(seq("b1", "bee", START)),
    ]);
    await scheduler.submit(seq("a2", 1n));
    await scheduler.submit(seq("b2", "bee", END));
    await scheduler.submit(seq("a3", 1n, END));
    const instanceOf = (id: string) =>
      executor.executed.find((entry) => entry.request.id === id)!.instance;
    assert(instanceOf("a1") !== instanceOf("b1"), "two sequences spread over two instances");
    assertEquals([instanceOf("a2"), instanceOf("a3")], [instanceOf("a1"), instanceOf("a1")]);
    assertEquals(instanceOf("b2"), instanceOf("b1"));
    const controls = (id: string) => {
      const request = executor.executed.find((entry) => entry.request.id === id)!.request;
      return [
        readInt32(inputOf(request, "START").data)[0],
        readInt32(inputOf(request, "READY").data)[0],
      ];
    };
    assertEquals(controls("a1"), [1, 1]);
    assertEquals(controls("a2"), [0, 1]);
    assertEquals(scheduler.activeSequences, 0); // Both ended.
  } finally {
    await scheduler.close("done");
  }
});

Deno.test("sequence_scheduler: Triton's errors for requests outside a sequence", async () => {
  const executor = new FakeExecutor(1, { autoComplete: true });
  const scheduler = new SequenceScheduler(
    "acc",
    executor,
    sequencePolicy(config("max_batch_size: 4 sequence_batching { }")),
    new ModelStatistics("acc", 1),
  );
  try {
    assertEquals(
      message(await scheduler.submit(fakeRequest("big", [2, 2], { correlationId: 1n }))),
      "inference request to model 'acc' must specify batch-size 1 due to requirements of " +
        "sequence batcher",
    );
    assertEquals(
      message(await scheduler.submit(seq("none", 0n, START))),
      "inference request to model 'acc' must specify a non-zero or non-empty correlation ID",
    );
    assertEquals(
      message(await scheduler.submit(seq("empty", "", START))),
      "inference request to model 'acc' must specify a non-zero or non-empty correlation ID",
    );
    const notStarted = await scheduler.submit(seq("late", 77n));
    assertEquals(
      message(notStarted),
      "inference request for sequence 77 to model 'acc' must specify the START flag on the " +
        "first request of the sequence",
    );
    assertEquals(notStarted.result.ok ? 0 : notStarted.result.code, 3); // INVALID_ARG → 400
    assertEquals(
      message(await scheduler.submit(seq("s", "uuid-1"))),
      "inference request for sequence uuid-1 to model 'acc' must specify the START flag on the " +
        "first request of the sequence",
    );
    assertEquals(executor.batches.length, 0);
  } finally {
    await scheduler.close("done");
  }
  assertEquals(
    message(await scheduler.submit(seq("after", 5n, START))),
    "Server is stopping, scheduler for model has stopped accepting new inference requests",
  );
});

Deno.test("sequence_scheduler: one request per sequence per batch, in order; others batch alongside", async () => {
  const executor = new FakeExecutor(1);
  const scheduler = new SequenceScheduler(
    "acc",
    executor,
    sequencePolicy(config("max_batch_size: 4 sequence_batching { }")),
    new ModelStatistics("acc", 1),
  );
  const done = [
    scheduler.submit(seq("a1", 1n, START)),
    scheduler.submit(seq("a2", 1n)),
    scheduler.submit(seq("b1", 2n, START)),
    scheduler.submit(seq("a3", 1n, END)),
    scheduler.submit(seq("b2", 2n, END)),
  ];
  await executor.waitForBatches(1);
  assertEquals(executor.batches[0].ids, ["a1"]); // The instance was free: a1 left alone.
  executor.batches[0].complete();
  await executor.waitForBatches(2);
  assertEquals(executor.batches[1].ids, ["a2", "b1"]);
  executor.batches[1].complete();
  await executor.waitForBatches(3);
  assertEquals(executor.batches[2].ids, ["a3", "b2"]); // By arrival.
  executor.batches[2].complete();
  await Promise.all(done);
  assert(!executor.overlapped);
  await scheduler.close("done");
});

Deno.test("sequence_scheduler: without a free slot a sequence waits in the backlog", async () => {
  const executor = new FakeExecutor(1, { autoComplete: true });
  const scheduler = new SequenceScheduler(
    "acc",
    executor,
    sequencePolicy(config("sequence_batching { }")), // One instance, one slot.
    new ModelStatistics("acc", 1),
  );
  try {
    await scheduler.submit(seq("a1", 1n, START));
    const b1 = scheduler.submit(seq("b1", 2n, START));
    const b2 = scheduler.submit(seq("b2", 2n, END));
    await tick();
    assertEquals(scheduler.backlogged, 1);
    assertEquals(executor.batches.map((batch) => batch.ids), [["a1"]]);
    await scheduler.submit(seq("a2", 1n, END)); // Releases the slot to sequence 2.
    assert((await b1).result.ok && (await b2).result.ok);
    assertEquals(executor.batches.map((batch) => batch.ids).flat(), ["a1", "a2", "b1", "b2"]);
    assertEquals(scheduler.backlogged, 0);
  } finally {
    await scheduler.close("done");
  }
});

Deno.test("sequence_scheduler: an idle sequence is released after max_sequence_idle_microseconds", async () => {
  let now = 0;
  const executor = new FakeExecutor(1, { autoComplete: true });
  const scheduler = new SequenceScheduler(
    "acc",
    executor,
    sequencePolicy(config("sequence_batching { max_sequence_idle_microseconds: 1000 }")),
    new ModelStatistics("acc", 1),
    () => now,
  );
  try {
    await scheduler.submit(seq("a1", 1n, START));
    now = 500_000; // 0.5 ms: still within the idle time.
    scheduler.reapIdle();
    assertEquals(scheduler.activeSequences, 1);
    assert((await scheduler.submit(seq("a2", 1n))).result.ok);
    now += 2_000_000; // 2 ms without a request.
    scheduler.reapIdle();
    assertEquals(scheduler.activeSequences, 0);
    assertEquals(
      message(await scheduler.submit(seq("a3", 1n))),
      "inference request for sequence 1 to model 'acc' must specify the START flag on the " +
        "first request of the sequence",
    );
    // The slot is free again: a new sequence starts without waiting.
    assert((await scheduler.submit(seq("b1", 2n, START | END))).result.ok);
  } finally {
    await scheduler.close("done");
  }
});

Deno.test("sequence_scheduler: direct with a queue delay waits for enough slots to fill", async () => {
  const executor = new FakeExecutor(1, { autoComplete: true });
  const scheduler = new SequenceScheduler(
    "acc",
    executor,
    sequencePolicy(config(
      "max_batch_size: 2 sequence_batching { direct { max_queue_delay_microseconds: 30000 " +
        "minimum_slot_utilization: 1.0 } }",
    )),
    new ModelStatistics("acc", 1),
  );
  try {
    const start = performance.now();
    const a = scheduler.submit(seq("a1", 1n, START));
    const b = scheduler.submit(seq("b1", 2n, START));
    await Promise.all([a, b]);
    assertEquals(executor.batches.map((batch) => batch.ids), [["a1", "b1"]]);
    assert(performance.now() - start < 25, "two of two slots filled: no wait");
    const lone = performance.now();
    await scheduler.submit(seq("a2", 1n, END));
    assert(performance.now() - lone >= 25, "one of two slots: waited for the delay");
  } finally {
    await scheduler.close("done");
  }
});
