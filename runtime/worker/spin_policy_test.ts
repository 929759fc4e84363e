import { assert, assertEquals } from "../api/_test_assert.ts";
import {
  PROBE_EVERY,
  PROBE_EVERY_MAX,
  SPIN_MAX_MICROS,
  SPIN_MIN_MICROS,
  SpinPolicy,
} from "./spin_policy.ts";

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

Deno.test("spin policy: it starts asleep and probes every 16th wait, then less often while probes miss", () => {
  const spins = waits(new SpinPolicy(), 16 + 32 + 64, () => 1000);
  const probes = spins.flatMap((spin, i) => spin > 0 ? [i + 1] : []);
  assertEquals(probes, [16, 16 + 32, 16 + 32 + 64]);
  assert(spins.every((spin) => spin === 0 || spin === SPIN_MAX_MICROS));
});

Deno.test("spin policy: probes never get rarer than one in PROBE_EVERY_MAX", () => {
  const spins = waits(new SpinPolicy(), 20 * PROBE_EVERY_MAX, () => 1000);
  const probes = spins.flatMap((spin, i) => spin > 0 ? [i] : []);
  const gaps = probes.slice(1).map((at, i) => at - probes[i]);
  assertEquals(Math.max(...gaps), PROBE_EVERY_MAX);
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
