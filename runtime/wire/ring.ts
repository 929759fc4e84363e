/**
 * The ring protocol of `tdn_wire.h`: a single-producer, single-consumer
 * queue of 32-byte `tdn_record`s with free-running u32 `head`/`tail`
 * counters, usable over the region's control page (shared with the parent
 * process) or over a SharedArrayBuffer with the same layout (tests).
 *
 * The sleep/wake rule is the header's: a consumer that finds the ring empty
 * spins briefly, sets `consumer_sleeping`, re-reads `tail` and only then
 * sleeps on `tail`; a producer writes the record, bumps `tail`, and wakes the
 * consumer only when `consumer_sleeping` is set. Every store, and every
 * read of a word the other side writes, is an `Atomics` operation
 * (sequentially consistent), so a wake-up cannot be lost and the busy path
 * makes no system call; a side reads its own counter plainly (only it
 * writes it; a ring object that takes over a side starts after a message
 * from the previous owner). A full ring is handled the same way with `head`
 * and `producer_sleeping`.
 *
 * How to sleep is pluggable ({@linkcode RingWaiter}): `Atomics.wait` /
 * `Atomics.waitAsync` for a SharedArrayBuffer ({@linkcode atomicsWaiter}), a
 * shared futex through FFI for the region on the stub's main thread
 * (runtime/stub/region.ts), and the main thread's futex calls on behalf of
 * the model's Worker (runtime/wire/futex_proxy.ts).
 *
 * @example A ring in a SharedArrayBuffer
 * ```ts
 * import { atomicsWaiter, Ring } from "./ring.ts";
 * import { MSG, RING } from "./layout.ts";
 *
 * const ring = new Ring(new SharedArrayBuffer(RING.SIZE), 0, atomicsWaiter);
 * ring.push({ kind: MSG.READY, flags: 0, aux: 0, id: 0n, offset: 0, length: 0 });
 * console.log(ring.tryPop()?.kind); // 64
 * ```
 *
 * @module
 */

import { RECORD, RING, RING_CAPACITY, SLEEP, SOON_SPIN_US } from "./layout.ts";

/** One `tdn_record`. */
export interface WireRecord {
  /** `MSG` kind. */
  kind: number;
  /** Reserved, 0. */
  flags: number;
  /** Small kind-specific value (u32). */
  aux: number;
  /** Batch id (u64) where the kind has one, else 0n. */
  id: bigint;
  /** Arena offset of the payload. */
  offset: number;
  /** Payload bytes, or a size for GROW/GROWN. */
  length: number;
}

/**
 * A record to push, with `flags` 0.
 *
 * @param kind The record kind (`MSG`).
 * @param aux Its kind-specific number.
 * @param id The batch or call it belongs to.
 * @param offset Its payload's arena offset.
 * @param length Its payload's length.
 * @returns The record.
 */
export function wireRecord(kind: number, aux = 0, id = 0n, offset = 0, length = 0): WireRecord {
  return { kind, flags: 0, aux, id, offset, length };
}

/** Outcome of a wait: woken (or the word already differed), or timed out. */
export type WaitOutcome = "ok" | "timed-out";

/**
 * How a ring sleeps and wakes. `words` is the ring's Int32Array view, which
 * starts at byte 0 of the ring's buffer; `index` is a word index into it.
 */
export interface RingWaiter {
  /** Sleeps while `words[index] === expected`, at most `timeoutMs` ms. */
  wait(
    words: Int32Array,
    index: number,
    expected: number,
    timeoutMs: number,
  ): WaitOutcome;
  /** Wakes a thread sleeping on `words[index]`. */
  wake(words: Int32Array, index: number): void;
  /**
   * The `consumer_sleeping` value (`SLEEP.*`) for the next wait on `tail`,
   * which tells the producer how to wake it; `SLEEP.FUTEX` if absent.
   *
   * @param async Whether the wait will be `waitAsync`.
   */
  sleepMark?(async: boolean): number;
  /** Like `wait` without blocking the event loop (only where possible). */
  waitAsync?(
    words: Int32Array,
    index: number,
    expected: number,
    timeoutMs: number,
  ): Promise<WaitOutcome>;
}

/** Thrown when a ring's counters are impossible (more pending records than slots). */
export class RingCorruptedError extends Error {
  /** @param message What was found. */
  constructor(message: string) {
    super(message);
    this.name = "RingCorruptedError";
  }
}

/** {@linkcode RingWaiter} for rings in a SharedArrayBuffer: `Atomics.wait`/`waitAsync`/`notify`. */
export const atomicsWaiter: Required<RingWaiter> = {
  sleepMark: () => SLEEP.FUTEX,
  wait(words, index, expected, timeoutMs): WaitOutcome {
    const result = Atomics.wait(words, index, expected, timeoutMs);
    return result === "timed-out" ? "timed-out" : "ok";
  },
  wake(words, index): void {
    Atomics.notify(words, index);
  },
  async waitAsync(words, index, expected, timeoutMs): Promise<WaitOutcome> {
    const result = Atomics.waitAsync(words, index, expected, timeoutMs);
    const value = result.async ? await result.value : result.value;
    return value === "timed-out" ? "timed-out" : "ok";
  },
};

/** Default busy-wait before sleeping: ~20 us keeps a busy round trip at ~0.2 us. */
export const DEFAULT_SPIN_MICROS = 20;

/**
 * How long a consumer woken by `DOORBELL_BYTE.COMING` spins for the record
 * before sleeping again. The parent announces only batches it copies in
 * well under this (ffi/src/supervisor.c, `ANNOUNCE_MAX_BYTES`); a record
 * that comes later rings the doorbell as usual.
 */
export const ANNOUNCED_SPIN_MICROS = 1000;

const TWO_TO_32 = 0x1_0000_0000;

/** One direction of `tdn_ring` at a byte offset of a buffer. */
export class Ring {
  readonly #words: Int32Array;
  readonly #view: DataView;
  readonly #waiter: RingWaiter;
  readonly #records: number;
  readonly #tail: number;
  readonly #consumerSleeping: number;
  readonly #soon: number;
  readonly #head: number;
  readonly #producerSleeping: number;
  readonly #done: number;
  /** A `head` read earlier: never ahead of the real one, so room it shows is there. */
  #knownHead: number;

  /**
   * @param buffer The buffer holding the ring: the control page or a SharedArrayBuffer.
   * @param byteOffset Where the `tdn_ring` starts in `buffer` (a multiple of 4).
   * @param waiter How to sleep and wake.
   * @throws {RangeError} If the ring does not fit in `buffer`.
   */
  constructor(
    buffer: ArrayBufferLike,
    byteOffset: number,
    waiter: RingWaiter,
  ) {
    if (
      !Number.isSafeInteger(byteOffset) || byteOffset < 0 ||
      byteOffset % 4 !== 0 || byteOffset + RING.SIZE > buffer.byteLength
    ) {
      throw new RangeError(
        `a ring at byte ${byteOffset} does not fit a ${buffer.byteLength}-byte buffer`,
      );
    }
    this.#words = new Int32Array(buffer, 0, (byteOffset + RING.SIZE) >> 2);
    this.#view = new DataView(buffer, byteOffset, RING.SIZE);
    this.#waiter = waiter;
    this.#records = RING.RECORDS;
    this.#tail = (byteOffset + RING.TAIL) >> 2;
    this.#consumerSleeping = (byteOffset + RING.CONSUMER_SLEEPING) >> 2;
    this.#soon = (byteOffset + RING.SOON) >> 2;
    this.#head = (byteOffset + RING.HEAD) >> 2;
    this.#producerSleeping = (byteOffset + RING.PRODUCER_SLEEPING) >> 2;
    this.#done = (byteOffset + RING.DONE) >> 2;
    this.#knownHead = Atomics.load(this.#words, this.#head);
  }

  /**
   * Producer side: records published so far (u32, wraps). A record's
   * sequence number is this value right after pushing it.
   */
  get published(): number {
    return this.#words[this.#tail] >>> 0;
  }

  /** Producer side: records the consumer has finished with (`done`, u32, wraps). */
  peerDone(): number {
    return Atomics.load(this.#words, this.#done) >>> 0;
  }

  /**
   * Consumer side: publishes that every record taken so far has been
   * handled, so the producer may reuse their payloads' space.
   */
  markDone(): void {
    Atomics.store(this.#words, this.#done, this.#words[this.#head]);
  }

  /** Records published and not yet consumed. */
  get pending(): number {
    return this.#pendingCount(
      Atomics.load(this.#words, this.#tail),
      Atomics.load(this.#words, this.#head),
    );
  }

  /**
   * Publishes `record` if there is a free slot.
   *
   * @returns `false` if the ring is full.
   * @throws {RingCorruptedError} If the counters are impossible.
   */
  tryPush(record: WireRecord): boolean {
    // Only this side writes tail: a plain read sees its own last store.
    const tail = this.#words[this.#tail];
    // The consumer only moves head forward, so an old head can only
    // understate the room: re-read it when that room looks used up.
    if (((tail - this.#knownHead) >>> 0) >= RING_CAPACITY) {
      this.#knownHead = Atomics.load(this.#words, this.#head);
      if (this.#pendingCount(tail, this.#knownHead) === RING_CAPACITY) return false;
    }
    this.#write((tail >>> 0) % RING_CAPACITY, record);
    Atomics.store(this.#words, this.#tail, (tail + 1) | 0);
    if (Atomics.load(this.#words, this.#consumerSleeping) !== 0) {
      this.#waiter.wake(this.#words, this.#tail);
    }
    return true;
  }

  /**
   * Publishes `record`, sleeping while the ring is full.
   *
   * @param record The record.
   * @param timeoutMs The longest to wait for a free slot.
   * @returns `false` if the ring stayed full for `timeoutMs`.
   */
  push(record: WireRecord, timeoutMs = Infinity): boolean {
    if (this.tryPush(record)) return true; // the busy path reads no clock
    const deadline = performance.now() + timeoutMs;
    while (!this.tryPush(record)) {
      Atomics.store(this.#words, this.#producerSleeping, 1);
      const head = Atomics.load(this.#words, this.#head);
      const tail = Atomics.load(this.#words, this.#tail);
      if (this.#pendingCount(tail, head) === RING_CAPACITY) {
        const left = deadline - performance.now();
        if (left <= 0) {
          Atomics.store(this.#words, this.#producerSleeping, 0);
          return false;
        }
        this.#waiter.wait(this.#words, this.#head, head, left);
      }
      Atomics.store(this.#words, this.#producerSleeping, 0);
    }
    return true;
  }

  /**
   * Takes the oldest record if there is one.
   *
   * @throws {RingCorruptedError} If the counters are impossible.
   */
  tryPop(): WireRecord | undefined {
    // Only this side writes head: a plain read sees its own last store.
    const head = this.#words[this.#head];
    const tail = Atomics.load(this.#words, this.#tail);
    if (this.#pendingCount(tail, head) === 0) return undefined;
    const record = this.#read((head >>> 0) % RING_CAPACITY);
    Atomics.store(this.#words, this.#head, (head + 1) | 0);
    if (Atomics.load(this.#words, this.#producerSleeping) !== 0) {
      this.#waiter.wake(this.#words, this.#head);
    }
    return record;
  }

  /**
   * Takes the oldest record, spinning up to `spinMicros` for one; never
   * sleeps. The busy path of a consumer: no promise, no system call.
   *
   * @returns The record, or `undefined` if none came while spinning.
   */
  poll(spinMicros: number): WireRecord | undefined {
    return this.tryPop() ?? (this.#spin(spinMicros) ? this.tryPop() : undefined);
  }

  /**
   * Takes the oldest record, spinning for `spinMicros` and then sleeping
   * (blocking the thread) until one arrives or `timeoutMs` passes.
   *
   * @returns The record, or `undefined` on timeout.
   */
  pop(
    timeoutMs = Infinity,
    spinMicros = DEFAULT_SPIN_MICROS,
  ): WireRecord | undefined {
    let deadline = Infinity;
    for (;;) {
      const record = this.poll(spinMicros);
      if (record !== undefined) return record;
      if (deadline === Infinity) deadline = performance.now() + timeoutMs;
      const head = this.#prepareToSleep(false);
      if (head !== undefined) {
        const left = deadline - performance.now();
        if (left <= 0) {
          Atomics.store(this.#words, this.#consumerSleeping, 0);
          return this.tryPop();
        }
        this.#waiter.wait(this.#words, this.#tail, head, left);
      }
      Atomics.store(this.#words, this.#consumerSleeping, 0);
    }
  }

  /**
   * Takes the oldest record, sleeping in `sleep` (which blocks this thread
   * on the consumer's doorbell) while the ring is empty. The ring marks its
   * consumer as asleep on the doorbell first, so the producer rings it.
   *
   * A producer that announced its record ("coming": it rang before
   * writing a large one) is waited for by spinning, up to
   * {@linkcode ANNOUNCED_SPIN_MICROS}, so that this thread's wake-up
   * overlapped the writing; then the ring sleeps again. A wake-up ahead of
   * a likely batch ("soon": ffi/src/siblings.h) spins the same way, up to
   * `SOON_SPIN_US` (layout.ts), while the ring's `SOON` word stays odd: the
   * producer makes it even when the batch went to another instance, and
   * the ring then sleeps again at once.
   *
   * @param sleep Blocks until a byte arrives on the doorbell; says why.
   * @param announcedSpinMicros How long to spin for an announced record.
   * @param soonSpinMicros How long to spin for a likely batch.
   * @returns The record, or what ended the sleep when it was not a
   * producer's byte ("tick", "closed").
   */
  popOnDoorbell(
    sleep: () => "record" | "coming" | "soon" | "tick" | "closed",
    announcedSpinMicros: number = ANNOUNCED_SPIN_MICROS,
    soonSpinMicros: number = SOON_SPIN_US,
  ): WireRecord | "tick" | "closed" {
    for (;;) {
      const record = this.tryPop();
      if (record !== undefined) return record;
      Atomics.store(this.#words, this.#consumerSleeping, SLEEP.DOORBELL);
      const head = Atomics.load(this.#words, this.#head);
      const empty = this.#pendingCount(Atomics.load(this.#words, this.#tail), head) === 0;
      const woke = empty ? sleep() : "record";
      Atomics.store(this.#words, this.#consumerSleeping, 0);
      if (woke === "coming") {
        const announced = this.poll(announcedSpinMicros);
        if (announced !== undefined) return announced;
      } else if (woke === "soon") {
        const standing = Atomics.load(this.#words, this.#soon);
        if ((standing & 1) !== 0 && this.#spin(soonSpinMicros, standing)) {
          const record = this.tryPop();
          if (record !== undefined) return record;
        }
      } else if (woke !== "record") {
        return woke;
      }
    }
  }

  /**
   * Like {@linkcode Ring.pop} but sleeps without blocking the event loop.
   *
   * @returns The record, or `undefined` on timeout.
   * @throws {TypeError} If the waiter cannot wait asynchronously.
   */
  async popAsync(
    timeoutMs = Infinity,
    spinMicros = DEFAULT_SPIN_MICROS,
  ): Promise<WireRecord | undefined> {
    const waitAsync = this.#waiter.waitAsync;
    if (waitAsync === undefined) {
      throw new TypeError("this ring's waiter cannot wait asynchronously");
    }
    let deadline = Infinity;
    for (;;) {
      const record = this.poll(spinMicros);
      if (record !== undefined) return record;
      // Spin before the first sleep only: a wake-up here is mostly the event
      // loop's tick, after which the record is rarely microseconds away.
      spinMicros = 0;
      if (deadline === Infinity) deadline = performance.now() + timeoutMs;
      const head = this.#prepareToSleep(true);
      if (head !== undefined) {
        const left = deadline - performance.now();
        if (left <= 0) {
          Atomics.store(this.#words, this.#consumerSleeping, 0);
          return this.tryPop();
        }
        await waitAsync.call(this.#waiter, this.#words, this.#tail, head, left);
      }
      Atomics.store(this.#words, this.#consumerSleeping, 0);
    }
  }

  /**
   * Sets `consumer_sleeping` (to how the waiter will sleep) and re-reads `tail`.
   *
   * @returns The head value to sleep on, or `undefined` if a record arrived
   * meanwhile (then do not sleep).
   */
  #prepareToSleep(async: boolean): number | undefined {
    Atomics.store(
      this.#words,
      this.#consumerSleeping,
      this.#waiter.sleepMark?.(async) ?? SLEEP.FUTEX,
    );
    const head = Atomics.load(this.#words, this.#head);
    const tail = Atomics.load(this.#words, this.#tail);
    return this.#pendingCount(tail, head) === 0 ? head : undefined;
  }

  /**
   * Busy-waits up to `micros` for a record; true if one is there. With
   * `soon`, gives up early once the `SOON` word is no longer that value.
   */
  #spin(micros: number, soon?: number): boolean {
    if (micros <= 0) return false;
    const head = this.#words[this.#head];
    // The clock is read only after a first round of loads: a record that is
    // already on its way costs no clock read (~0.1 us each).
    let end = 0;
    for (;;) {
      for (let i = 0; i < 64; i++) {
        if (Atomics.load(this.#words, this.#tail) !== head) return true;
      }
      if (soon !== undefined && Atomics.load(this.#words, this.#soon) !== soon) return false;
      const now = performance.now();
      if (end === 0) end = now + micros / 1000;
      else if (now >= end) return false;
    }
  }

  #pendingCount(tail: number, head: number): number {
    const pending = (tail - head) >>> 0;
    if (pending > RING_CAPACITY) {
      throw new RingCorruptedError(
        `ring counters are impossible: tail ${tail >>> 0}, head ${head >>> 0}`,
      );
    }
    return pending;
  }

  #write(slot: number, record: WireRecord): void {
    const at = this.#records + slot * RECORD.SIZE;
    const view = this.#view;
    view.setUint16(at + RECORD.KIND, record.kind, true);
    view.setUint16(at + RECORD.FLAGS, record.flags, true);
    view.setUint32(at + RECORD.AUX, record.aux >>> 0, true);
    view.setBigUint64(at + RECORD.ID, record.id, true); // taken modulo 2^64
    writeU64(view, at + RECORD.OFFSET, record.offset);
    writeU64(view, at + RECORD.LENGTH, record.length);
  }

  #read(slot: number): WireRecord {
    const at = this.#records + slot * RECORD.SIZE;
    const view = this.#view;
    return {
      kind: view.getUint16(at + RECORD.KIND, true),
      flags: view.getUint16(at + RECORD.FLAGS, true),
      aux: view.getUint32(at + RECORD.AUX, true),
      id: view.getBigUint64(at + RECORD.ID, true),
      offset: readU64(view, at + RECORD.OFFSET, "offset"),
      length: readU64(view, at + RECORD.LENGTH, "length"),
    };
  }
}

/** Writes a non-negative safe integer as a little-endian u64. */
function writeU64(view: DataView, at: number, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`record field ${value} is not a u64 this side can write`);
  }
  // No `%` on the common path: a floating-point remainder is slow.
  const high = value < TWO_TO_32 ? 0 : Math.floor(value / TWO_TO_32);
  view.setUint32(at, value - high * TWO_TO_32, true);
  view.setUint32(at + 4, high, true);
}

/** Reads a little-endian u64 that must be a safe integer (offsets, sizes). */
function readU64(view: DataView, at: number, field: string): number {
  const low = view.getUint32(at, true);
  const high = view.getUint32(at + 4, true);
  if (high >= 0x20_0000) {
    throw new RingCorruptedError(`record ${field} exceeds 2^53`);
  }
  return high * TWO_TO_32 + low;
}
