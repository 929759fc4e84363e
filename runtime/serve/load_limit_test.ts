import { assertEquals, assertThrows } from "./_test_assert.ts";
import { LoadLimit } from "./load_limit.ts";

Deno.test("load limit: never more than N loads at once, in order, failures give the slot back", async () => {
  const limit = new LoadLimit(2);
  let most = 0;
  const started: number[] = [];
  const load = (index: number) =>
    limit.run(async () => {
      started.push(index);
      most = Math.max(most, limit.running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (index === 1) throw new Error("load 1 fails");
      return index;
    });
  const outcomes = await Promise.allSettled([0, 1, 2, 3, 4].map(load));
  assertEquals(most, 2);
  assertEquals(started, [0, 1, 2, 3, 4]);
  assertEquals(outcomes.map((outcome) => outcome.status), [
    "fulfilled",
    "rejected",
    "fulfilled",
    "fulfilled",
    "fulfilled",
  ]);
  assertEquals(limit.running, 0);
});

Deno.test("load limit: the count must be a positive integer", () => {
  for (const bad of [0, -1, 1.5, NaN]) assertThrows(() => new LoadLimit(bad), RangeError);
});
