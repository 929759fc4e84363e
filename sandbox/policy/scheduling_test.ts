import { assertEquals } from "../../runtime/api/_test_assert.ts";
import { schedulingOf } from "./scheduling.ts";

Deno.test("scheduling: a plain model runs one batch at a time", () => {
  assertEquals(schedulingOf("{}"), { decoupled: false, maxBatchesInFlight: 1, maxBatchSize: 0 });
});

Deno.test("scheduling: batches in flight, decoupled or not", () => {
  const parameters = { "deno.max_batches_in_flight": { string_value: "8" } };
  assertEquals(schedulingOf(JSON.stringify({ parameters })), {
    decoupled: false,
    maxBatchesInFlight: 8,
    maxBatchSize: 0,
  });
  assertEquals(
    schedulingOf(JSON.stringify({ parameters, model_transaction_policy: { decoupled: true } })),
    { decoupled: true, maxBatchesInFlight: 8, maxBatchSize: 0 },
  );
});

Deno.test("scheduling: max_batch_size is carried for the batch statistics", () => {
  assertEquals(schedulingOf(JSON.stringify({ max_batch_size: 8 })).maxBatchSize, 8);
  assertEquals(schedulingOf(JSON.stringify({ max_batch_size: -1 })).maxBatchSize, 0);
});
