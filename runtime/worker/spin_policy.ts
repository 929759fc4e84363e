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
 * sporadic traffic).
 *
 * While it does not spin it learns nothing, so now and then it tries
 * again: a trial is 16 waits in a row at the longest spin, judged together
 * as above. A single probe is not enough. A thread that sleeps between
 * batches is woken on whichever core the scheduler picks, often the core
 * of a thread that it serves (the client that submits the next request,
 * say); once there, that thread is queued behind this one's spin and the
 * batch comes only after the spin has given up, so every lone probe
 * misses, although the batches come quickly when this thread sleeps. A
 * thread that keeps spinning keeps its core busy, and the scheduler moves
 * the others away within a few spins (measured in Triton's core on a
 * 2-vCPU VM: one instance, one client, lone probes kept it asleep at
 * 80-110 us a request; trials bring it back to 28-45 us). Trials come
 * every 16th wait at first, then every 32nd, ... up to every 1024th while
 * they keep failing; a trial ends at once, failed, on a gap longer than
 * {@linkcode TRIAL_GIVE_UP_MICROS} (no spin was about to catch that one),
 * so sporadic traffic pays one spin per trial, as for a probe.
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

/** Spins remembered, and the waits of a trial. */
export const HISTORY = 16;
/** The shortest spin when spinning. */
export const SPIN_MIN_MICROS = 20;
/** The longest spin (also a trial's). */
export const SPIN_MAX_MICROS = 150;
/** Without spinning, one trial every this many waits at first... */
export const PROBE_EVERY = 16;
/** ...and at least this often however many trials failed. */
export const PROBE_EVERY_MAX = 1024;
/** A gap this long (as measured, wake-up included) ends a trial as failed. */
export const TRIAL_GIVE_UP_MICROS = 1000;

/** See the module documentation. */
export class SpinPolicy {
  /** Recent spins: the gap when caught, Infinity when missed. */
  readonly #outcomes = new Float64Array(HISTORY);
  readonly #sorted = new Float64Array(HISTORY);
  #noted = 0;
  #budget = 0;
  /** Waits left in the current trial (0: none). */
  #trial = 0;
  /** Waits since the last trial, and how many make the next one due. */
  #sinceProbe = 0;
  #probeEvery = PROBE_EVERY;
  readonly #maxMicros: number;

  /**
   * @param maxMicros The longest spin (also a trial's): the serve loop's
   * is {@linkcode SPIN_MAX_MICROS}; the inbox spins longer for answers to
   * calls (./inbox.ts).
   */
  constructor(maxMicros = SPIN_MAX_MICROS) {
    this.#maxMicros = maxMicros;
  }

  /** Microseconds to spin for the next batch (0: sleep at once). */
  nextSpinMicros(): number {
    if (this.#trial > 0) return this.#maxMicros;
    if (this.#budget > 0) return this.#budget;
    if (++this.#sinceProbe < this.#probeEvery) return 0;
    this.#sinceProbe = 0;
    this.#trial = HISTORY;
    this.#noted = 0;
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
    if (this.#trial > 0) {
      if (!caught && gapMicros > TRIAL_GIVE_UP_MICROS) {
        this.#trial = 0;
        this.#failed();
        return;
      }
      this.#trial--;
    }
    this.#outcomes[this.#noted % HISTORY] = caught ? gapMicros : Infinity;
    this.#noted++;
    if (this.#trial > 0) return; // judged when the trial is complete
    const count = Math.min(this.#noted, HISTORY);
    const sorted = this.#sorted.subarray(0, count);
    sorted.set(this.#outcomes.subarray(0, count));
    sorted.sort();
    const caughtCount = sorted.findIndex((gap) => gap === Infinity);
    const caughtTotal = caughtCount < 0 ? count : caughtCount;
    if (caughtTotal * 2 < count) {
      this.#failed();
      return;
    }
    this.#probeEvery = PROBE_EVERY;
    const median = sorted[caughtTotal >> 1];
    this.#budget = Math.min(Math.max(Math.ceil(2 * median), SPIN_MIN_MICROS), this.#maxMicros);
  }

  /** Spinning stopped working (or a trial failed): sleep, and try less often after a trial. */
  #failed(): void {
    if (this.#budget === 0) {
      this.#probeEvery = Math.min(this.#probeEvery * 2, PROBE_EVERY_MAX);
    }
    this.#budget = 0;
  }
}
