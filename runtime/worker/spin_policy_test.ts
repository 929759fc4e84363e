import { assertEquals } from "../api/_test_assert.ts";
import { PROBE_EVERY, SPIN_MAX_MICROS, SPIN_MIN_MICROS, SpinPolicy } from "./spin_policy.ts";

/** Runs `count` waits whose batch comes `gap(i)` microseconds after the answer. */
function waits(policy: SpinPolicy, count: number, gap: (i: number) => number): number[] {
  const spins: number[] = [];
  for (let i = 0; i < count; i++) {
    const spin = policy.nextSpinMicros();
    spins.push(spin);
    policy.noteWait(spin, gap(i));
  }
  return spins;
}

Deno.test("spin policy: it starts asleep and probes every 16th wait", () => {
  const spins = waits(new SpinPolicy(), PROBE_EVERY * 2, () => 1000);
  assertEquals(spins.filter((spin) => spin > 0), [SPIN_MAX_MICROS, SPIN_MAX_MICROS]);
});

Deno.test("spin policy: one probe that catches its batch starts the spinning", () => {
  const policy = new SpinPolicy();
  waits(policy, PROBE_EVERY, () => 30);
  assertEquals(policy.nextSpinMicros(), 60);
});

Deno.test("spin policy: the spin is twice the median caught gap, within bounds", () => {
  const policy = new SpinPolicy();
  waits(policy, 64, () => 2);
  assertEquals(policy.nextSpinMicros(), SPIN_MIN_MICROS);
  waits(policy, 64, () => 100);
  assertEquals(policy.nextSpinMicros(), SPIN_MAX_MICROS);
});

Deno.test("spin policy: a few misses do not stop it, mostly misses do", () => {
  const policy = new SpinPolicy();
  waits(policy, 64, () => 30);
  // One batch in three comes late (a preemption, a slow client): keep spinning.
  waits(policy, 48, (i) => (i % 3 === 0 ? 1000 : 30));
  assertEquals(policy.nextSpinMicros(), 60);
  // Traffic now goes to other instances: stop.
  const spins = waits(policy, 64, () => 1000);
  assertEquals(spins.slice(-PROBE_EVERY).filter((spin) => spin > 0), [SPIN_MAX_MICROS]);
});

Deno.test("spin policy: a sleep says nothing about the gap", () => {
  const policy = new SpinPolicy();
  policy.noteWait(0, 5);
  assertEquals(policy.nextSpinMicros(), 0);
});
