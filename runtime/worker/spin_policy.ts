/**
 * How long the Worker busy-waits for its next batch before it sleeps on its
 * doorbell. Spinning pays only when the next batch comes within the spin:
 * then it saves a wake-up (tens of microseconds on a VM) on both sides;
 * otherwise it burns a CPU that other instances, the parent and Triton's
 * own threads need, which on a server with more instances than cores is
 * most of the time.
 *
 * So the Worker spins only while spinning works. Each spin is noted as
 * caught (the batch came after so many microseconds) or missed. It spins
 * while at least half of the last 16 spins caught their batch (one
 * instance serving a client back to back), for twice the median caught gap
 * (at least 20 us, at most 150 us, or the maximum it is made with), and
 * stops when they mostly miss (requests spread over several instances, or
 * sporadic traffic). While it
 * does not spin it learns nothing, so some waits are probes at the longest
 * spin: every 16th at first, then every 32nd, ... up to every 1024th while
 * probes keep missing (a probe burns its whole spin); one caught probe
 * starts the spinning again.
 *
 * @example
 * ```ts
 * import { SpinPolicy } from "./spin_policy.ts";
 *
 * const policy = new SpinPolicy();
 * for (let i = 0; i < 64; i++) policy.noteWait(policy.nextSpinMicros(), 30);
 * console.log(policy.nextSpinMicros()); // 60
 * for (let i = 0; i < 64; i++) policy.noteWait(policy.nextSpinMicros(), 400);
 * console.log(policy.nextSpinMicros()); // 0
 * ```
 *
 * @module
 */

/** Spins remembered. */
const HISTORY = 16;
/** The shortest spin when spinning. */
export const SPIN_MIN_MICROS = 20;
/** The longest spin (also the probe's). */
export const SPIN_MAX_MICROS = 150;
/** Without spinning, one wait in this many probes at first... */
export const PROBE_EVERY = 16;
/** ...and at least this often however many probes missed. */
export const PROBE_EVERY_MAX = 1024;

/** See the module documentation. */
export class SpinPolicy {
  /** Recent spins: the gap when caught, Infinity when missed. */
  readonly #outcomes = new Float64Array(HISTORY);
  readonly #sorted = new Float64Array(HISTORY);
  #noted = 0;
  #budget = 0;
  /** Waits since the last probe, and how many make the next one due. */
  #sinceProbe = 0;
  #probeEvery = PROBE_EVERY;
  readonly #maxMicros: number;

  /**
   * @param maxMicros The longest spin (also the probe's): the serve loop's
   * is {@linkcode SPIN_MAX_MICROS}; the inbox spins longer for answers to
   * calls (./inbox.ts).
   */
  constructor(maxMicros = SPIN_MAX_MICROS) {
    this.#maxMicros = maxMicros;
  }

  /** Microseconds to spin for the next batch (0: sleep at once). */
  nextSpinMicros(): number {
    if (this.#budget > 0) return this.#budget;
    if (++this.#sinceProbe < this.#probeEvery) return 0;
    this.#sinceProbe = 0;
    return this.#maxMicros;
  }

  /**
   * Notes how a wait went.
   *
   * @param spunMicros What `nextSpinMicros` said for it.
   * @param gapMicros The time from the answer to the next batch's arrival
   * as this thread saw it (after its wake-up when it slept).
   */
  noteWait(spunMicros: number, gapMicros: number): void {
    if (spunMicros <= 0) return; // a sleep says nothing about the true gap
    const caught = gapMicros <= spunMicros;
    if (this.#budget === 0) {
      // A probe. Caught: spin again, from a clean slate; missed: probe less often.
      if (caught) {
        this.#noted = 0;
        this.#probeEvery = PROBE_EVERY;
      } else {
        this.#probeEvery = Math.min(this.#probeEvery * 2, PROBE_EVERY_MAX);
        return;
      }
    }
    this.#outcomes[this.#noted % HISTORY] = caught ? gapMicros : Infinity;
    this.#noted++;
    const count = Math.min(this.#noted, HISTORY);
    const sorted = this.#sorted.subarray(0, count);
    sorted.set(this.#outcomes.subarray(0, count));
    sorted.sort();
    const caughtCount = sorted.findIndex((gap) => gap === Infinity);
    const caughtTotal = caughtCount < 0 ? count : caughtCount;
    if (caughtTotal * 2 < count) {
      this.#budget = 0;
      return;
    }
    const median = sorted[caughtTotal >> 1];
    this.#budget = Math.min(Math.max(Math.ceil(2 * median), SPIN_MIN_MICROS), this.#maxMicros);
  }
}
