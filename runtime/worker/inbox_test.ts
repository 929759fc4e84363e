import { assert, assertEquals } from "../api/_test_assert.ts";
import type { Ring, WireRecord } from "../wire/ring.ts";
import { MSG } from "../wire/layout.ts";
import { ANSWER_SPIN_MAX_MICROS, Inbox } from "./inbox.ts";

/** A ring whose asynchronous pop answers at once, noting the spin it was asked for. */
class AnsweringRing {
  readonly spins: number[] = [];
  tryPop(): WireRecord | undefined {
    return undefined;
  }
  poll(): WireRecord | undefined {
    return undefined;
  }
  markDone(): void {}
  async popAsync(_timeoutMs: number, spinMicros: number): Promise<WireRecord> {
    this.spins.push(spinMicros);
    await Promise.resolve();
    return { kind: MSG.BLS_RESPONSE, flags: 0, aux: 0, id: 1n, offset: 0, length: 0 };
  }
}

/** Holds the inbox (for answers or not) until `count` answers were handled; the spins asked for. */
async function spinsWhileHeld(answers: boolean, count: number): Promise<number[]> {
  const ring = new AnsweringRing();
  const inbox = new Inbox(ring as unknown as Ring);
  let handled = 0;
  let release: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    inbox.on(MSG.BLS_RESPONSE, () => {
      if (++handled === count) {
        release();
        resolve();
      }
    });
  });
  release = inbox.hold({ answers });
  await done;
  return ring.spins;
}

Deno.test("inbox: awaiting answers to calls, the reader spins for them while they come quickly", async () => {
  const spins = await spinsWhileHeld(true, 64);
  // Not at first: a probe at the longest spin, and once it caught its answer, spins.
  assertEquals(spins.slice(0, 15).filter((spin) => spin > 0), []);
  assert(spins.includes(ANSWER_SPIN_MAX_MICROS), `no probe: ${spins}`);
  assert(spins.slice(-8).every((spin) => spin > 0), `not spinning: ${spins.slice(-8)}`);
});

Deno.test("inbox: a hold that awaits no answers never spins", async () => {
  assertEquals((await spinsWhileHeld(false, 64)).filter((spin) => spin > 0), []);
});
