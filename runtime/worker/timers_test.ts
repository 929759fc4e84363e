import { assertEquals } from "../api/_test_assert.ts";
import { trackTimers } from "./timers.ts";

Deno.test("timers: pending counts timeouts until they fire or are cleared, intervals until cleared", async () => {
  const timers = trackTimers();
  const before = timers.pending();
  let fired = 0;
  setTimeout(() => fired++, 1);
  const cleared = setTimeout(() => fired += 100, 1);
  const interval = setInterval(() => {}, 1);
  assertEquals(timers.pending(), before + 3);
  clearTimeout(cleared);
  assertEquals(timers.pending(), before + 2);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assertEquals(fired, 1);
  assertEquals(timers.pending(), before + 1, "the interval is still pending");
  clearInterval(interval);
  assertEquals(timers.pending(), before);
  assertEquals(trackTimers(), timers, "wrapped once");
});
