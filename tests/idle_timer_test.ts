/**
 * End-to-end, through the stand-in: a model's timers fire on time while its
 * instance is idle. An idle Worker first blocks on its doorbell and is
 * ticked by the stub's main thread: often while timers are pending, after a
 * second when none are (runtime/worker/timers.ts). A timer armed by a Worker
 * whose last sleep had none must still fire promptly, not at the rare tick.
 * After a tick the Worker sleeps in its event loop, where timers run on
 * their own, with no ticks at all.
 *
 * @module
 */

import { assert, assertEquals } from "./harness/assert.ts";
import { fixtureDir } from "./harness/fixtures.ts";
import type { InferRequest, RequestResult } from "./harness/host.ts";
import { withHost } from "./harness/session.ts";

function arm(delayMs: number): InferRequest {
  return {
    id: `arm-${delayMs}`,
    inputs: [{ name: "INPUT0", datatype: "FP32", shape: [1], data: new Float32Array([delayMs]) }],
  };
}

function report(result: RequestResult): number[] {
  const output = result.outputs.get("OUTPUT0");
  assert(output?.data instanceof Float32Array, "OUTPUT0 is FP32");
  return Array.from(output.data);
}

/**
 * Loads the fixture, idles `idleFirstMs`, arms a timer of `delayMs`, waits
 * `waitMs` and checks that the timer fired, at most 400 ms late.
 */
function firesOnTime(options: { idleFirstMs: number; delayMs: number; waitMs: number }) {
  return withHost(async (host) => {
    const model = host.loadModel(fixtureDir("idle_timer"), { instanceCount: 1 });
    await new Promise((resolve) => setTimeout(resolve, options.idleFirstMs));
    const [armed] = model.execute(0, [arm(options.delayMs)]);
    assertEquals(armed.error, null, armed.error?.message);
    assertEquals(report(armed), [0, -1]);
    await new Promise((resolve) => setTimeout(resolve, options.waitMs));
    const [checked] = model.execute(0, [arm(0)]);
    assertEquals(checked.error, null, checked.error?.message);
    const [fired, lateMs] = report(checked);
    assertEquals(fired, 1);
    assert(lateMs < 400, `the timer fired ${lateMs.toFixed(0)} ms late`);
    model.unload();
  });
}

// Idle a moment first: the Worker's sleep says "no timers", and the main
// thread begins a one-second wait. The timer is due 100 ms after it is
// armed; the rare tick would fire it some 800 ms late, ticks every 50 ms
// within a few tens.
Deno.test("idle timers: a timer armed in execute fires on time while the instance is idle", () =>
  firesOnTime({ idleFirstMs: 50, delayMs: 100, waitMs: 1500 }));

// Ticked once (timers pending: within 50 ms), the Worker sleeps in its event
// loop long before the timer is due; nothing ticks it then.
Deno.test("idle timers: a timer due long after the last request fires on time from the event-loop sleep", () =>
  firesOnTime({ idleFirstMs: 0, delayMs: 1500, waitMs: 2000 }));

Deno.test("idle timers: an instance asleep in its event loop unloads at once", () =>
  withHost(async (host) => {
    const model = host.loadModel(fixtureDir("idle_timer"), { instanceCount: 1 });
    const [served] = model.execute(0, [arm(0)]);
    assertEquals(served.error, null, served.error?.message);
    // Past the tick: the Worker awaits its doorbell in its event loop.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const started = performance.now();
    model.unload();
    const seconds = (performance.now() - started) / 1000;
    // FINALIZE wakes it like any record; a missed wake-up would wait for the unload's timeout.
    assert(seconds < 2, `the unload took ${seconds.toFixed(1)} s`);
  }));
