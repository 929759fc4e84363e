import { assert, assertEquals } from "../api/_test_assert.ts";
import {
  HISTORY,
  PROBE_EVERY,
  PROBE_EVERY_MAX,
  SPIN_MAX_MICROS,
  SPIN_MIN_MICROS,
  SpinPolicy,
  TRIAL_GIVE_UP_MICROS,
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

/** The 1-based positions of the waits that spun. */
function spinning(spins: number[]): number[] {
  return spins.flatMap((spin, i) => spin > 0 ? [i + 1] : []);
}

const SPORADIC = 10 * TRIAL_GIVE_UP_MICROS;

Deno.test("spin policy: it starts asleep; with sporadic traffic each trial is one spin, and trials get rarer", () => {
  const spins = waits(new SpinPolicy(), 16 + 32 + 64, () => SPORADIC);
  assertEquals(spinning(spins), [16, 16 + 32, 16 + 32 + 64]);
  assert(spins.every((spin) => spin === 0 || spin === SPIN_MAX_MICROS));
});

Deno.test("spin policy: a trial that mostly misses spins its HISTORY waits, then sleeps twice as long", () => {
  const spins = waits(new SpinPolicy(), 16 + HISTORY + 32 + HISTORY, () => 400);
  const trial = (from: number) => Array.from({ length: HISTORY }, (_, i) => from + i);
  assertEquals(spinning(spins), [...trial(16), ...trial(16 + HISTORY + 31)]);
});

Deno.test("spin policy: trials never get rarer than one in PROBE_EVERY_MAX", () => {
  const spins = waits(new SpinPolicy(), 20 * PROBE_EVERY_MAX, () => SPORADIC);
  const trials = spinning(spins);
  const gaps = trials.slice(1).map((at, i) => at - trials[i]);
  assertEquals(Math.max(...gaps), PROBE_EVERY_MAX);
});

Deno.test("spin policy: a trial that catches its batches starts the spinning", () => {
  const policy = new SpinPolicy();
  const spins = waits(policy, PROBE_EVERY - 1 + HISTORY, () => 30);
  assertEquals(spins.slice(-HISTORY), new Array(HISTORY).fill(SPIN_MAX_MICROS));
  assertEquals(policy.nextSpinMicros(), 60);
});

Deno.test("spin policy: a trial judges its waits together, so a slow start does not end it", () => {
  // The first spins of a trial miss while a thread that this one serves is
  // queued behind it on its core; then the scheduler moves that thread.
  const policy = new SpinPolicy();
  waits(policy, PROBE_EVERY - 1, () => 80);
  waits(policy, HISTORY, (i) => i < 5 ? SPIN_MAX_MICROS + 60 : 30);
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
  // Traffic now goes to other instances: stop, and try again now and then.
  const spins = waits(policy, 16 + PROBE_EVERY, () => SPORADIC);
  assertEquals(spins.slice(-PROBE_EVERY).filter((spin) => spin > 0), [SPIN_MAX_MICROS]);
});

Deno.test("spin policy: a sleep says nothing about the gap", () => {
  const policy = new SpinPolicy();
  policy.noteWait(0, 5);
  assertEquals(policy.nextSpinMicros(), 0);
});
