/**
 * The Worker's reading end of `to_stub`. Records that only update state
 * (CANCEL, and the answers to calls the model made: BLS_RESPONSE,
 * CONTROL_DONE) are handled the moment they are read, wherever that
 * happens: in the serve loop, or inside a model's `isCancelled()` or BLS
 * call, which drain the ring without blocking. So the model learns of a
 * cancellation by reading shared memory, never by a round trip to the
 * parent. Records that start work (EXECUTE, FINALIZE, anything unknown)
 * wait in order for the serve loop.
 *
 * After each drain `to_stub.done` is published: every record read has been
 * handled (an EXECUTE's inputs stay valid regardless: the parent frees a
 * batch's block when the batch ends, not on `done`; a BLS_RESPONSE's blocks
 * are freed on it, so its handler copies what it keeps).
 *
 * One reader sleeps on the ring at a time (the futex proxy takes one park
 * request at a time): it runs while the serve loop waits in `nextAsync` or
 * while something {@linkcode Inbox.hold}s the inbox: a model awaiting
 * another model's answer inside `execute`, when the serve loop itself is
 * not reading. Synchronous reads (`drain`, `poll`) may happen beside it.
 *
 * While a model awaits answers to its calls, the reader spins for the next
 * record before it sleeps, as long as answers keep coming within the spin
 * ({@linkcode ANSWER_SPIN_MAX_MICROS}; ./spin_policy.ts decides): an answer
 * then costs no wake-up of this thread, which on this project's VM was the
 * largest hop of a call (about 40 us of a 270 us BLS call).
 *
 * @example
 * ```ts ignore
 * const inbox = new Inbox(link.toStub);
 * inbox.on(MSG.CANCEL, (record) => cancellations.mark(record.id, record.aux));
 * const work = inbox.poll(50) ?? await inbox.nextAsync();
 * ```
 *
 * @module
 */

import type { Ring, WireRecord } from "../wire/ring.ts";
import { SpinPolicy } from "./spin_policy.ts";

/**
 * The longest spin for an answer to a call: a call to a model of four
 * elements answers in about 200 us here (its whole round trip through
 * Triton), so a shorter spin would miss them all.
 */
export const ANSWER_SPIN_MAX_MICROS = 400;

/** Handles one record kind as soon as it is read. */
export type RecordHandler = (record: WireRecord) => void;

/** See the module documentation. */
export class Inbox {
  readonly #ring: Ring;
  readonly #handlers = new Map<number, RecordHandler>();
  readonly #queue: WireRecord[] = [];
  /** Serve-loop callers of `nextAsync` waiting for work. */
  readonly #waiters: { resolve: (record: WireRecord) => void; reject: (error: unknown) => void }[] =
    [];
  #holds = 0;
  /** Holds that await answers to calls to other models. */
  #answerHolds = 0;
  /** How long the asynchronous reader spins before it sleeps, awaiting answers. */
  readonly #answerSpin = new SpinPolicy(ANSWER_SPIN_MAX_MICROS);
  #reading = false;
  /** Why the reader stopped for good (a corrupted ring). */
  #failure: { error: unknown } | undefined;

  /** @param ring The `to_stub` ring (this thread is its only consumer). */
  constructor(ring: Ring) {
    this.#ring = ring;
  }

  /** Routes `kind` to `handler` from now on. */
  on(kind: number, handler: RecordHandler): void {
    this.#handlers.set(kind, handler);
  }

  /** Reads every record available now, handling or queueing each. */
  drain(): void {
    let read = false;
    for (let record = this.#ring.tryPop(); record !== undefined; record = this.#ring.tryPop()) {
      read = true;
      this.#take(record);
    }
    if (read) this.#ring.markDone();
  }

  /**
   * The next work record, spinning up to `spinMicros` for one; undefined
   * when none came.
   */
  poll(spinMicros: number): WireRecord | undefined {
    for (;;) {
      this.drain();
      const queued = this.#queue.shift();
      if (queued !== undefined) return queued;
      const record = this.#ring.poll(spinMicros);
      if (record === undefined) return undefined;
      this.#take(record);
      this.#ring.markDone();
      spinMicros = 0;
    }
  }

  /**
   * The next work record, blocking this thread in `sleep` (the doorbell)
   * while none is there: the idle Worker's sleep, with no promise between
   * the wake-up and the record.
   *
   * @param sleep Blocks on the doorbell; `undefined` when it may not now.
   * @returns The record; "tick" or "closed" when that ended the sleep (let
   * the event loop run, or fall back to {@linkcode Inbox.nextAsync});
   * `undefined` when this thread may not block now, or the asynchronous
   * reader is already waiting on the ring.
   */
  nextBlocking(
    sleep: () => "record" | "coming" | "soon" | "tick" | "closed" | undefined,
  ): WireRecord | "tick" | "closed" | undefined {
    if (this.#failure !== undefined) throw this.#failure.error;
    for (;;) {
      this.drain();
      const queued = this.#queue.shift();
      if (queued !== undefined) return queued;
      if (this.#reading) return undefined;
      let refused = false;
      const got = this.#ring.popOnDoorbell(() => {
        const woke = sleep();
        if (woke === undefined) refused = true;
        return woke ?? "closed";
      });
      if (refused) return undefined;
      if (typeof got === "string") return got;
      this.#take(got);
      this.#ring.markDone();
    }
  }

  /** Sleeps (letting the event loop run) until a work record comes. */
  nextAsync(): Promise<WireRecord> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure.error);
    const ready = this.poll(0);
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
      this.#read();
    });
  }

  /**
   * Keeps reading the ring (handling records as they come) until the
   * returned function is called, even while nobody waits for work.
   *
   * @param options `answers`: the hold awaits answers to calls (BLS), which
   * the reader spins for while that pays.
   */
  hold(options: { answers?: boolean } = {}): () => void {
    const answers = options.answers === true;
    this.#holds++;
    if (answers) this.#answerHolds++;
    this.#read();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#holds--;
      if (answers) this.#answerHolds--;
    };
  }

  /** Starts the one reader unless it runs. */
  #read(): void {
    if (this.#reading || this.#failure !== undefined) return;
    this.#reading = true;
    this.#readLoop().catch((error) => {
      this.#failure = { error };
      for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
    }).finally(() => {
      this.#reading = false;
      // Work may have been asked for while the loop was winding down.
      if (this.#waiters.length > 0 || this.#holds > 0) this.#read();
    });
  }

  async #readLoop(): Promise<void> {
    for (;;) {
      this.drain();
      while (this.#waiters.length > 0 && this.#queue.length > 0) {
        this.#waiters.shift()!.resolve(this.#queue.shift()!);
      }
      if (this.#waiters.length === 0 && this.#holds === 0) return;
      // Awaiting answers to calls, spin for one first while that pays.
      const spin = this.#answerHolds > 0 ? this.#answerSpin.nextSpinMicros() : 0;
      const started = performance.now();
      const record = await this.#ring.popAsync(Infinity, spin);
      if (record === undefined) continue;
      if (spin > 0) this.#answerSpin.noteWait(spin, (performance.now() - started) * 1000);
      this.#take(record);
      this.#ring.markDone();
    }
  }

  #take(record: WireRecord): void {
    const handler = this.#handlers.get(record.kind);
    if (handler === undefined) this.#queue.push(record);
    else handler(record);
  }
}
