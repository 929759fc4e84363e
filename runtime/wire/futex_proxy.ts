/**
 * The futex proxy: how the model's Worker sleeps on, and wakes, ring words
 * of the region's control page although only the stub's main thread can
 * make futex system calls (it holds FFI; the Worker has none).
 *
 * After READY the Worker itself consumes `to_stub` and produces `to_parent`
 * (ffi/WIRE_FORMAT.md, "The stub process"); the main thread is off the
 * request path. The busy path makes no system call: the Worker spins on
 * `to_stub.tail` after each batch and the parent spins on `to_parent.tail`.
 * Only when a side stops spinning does this proxy come in, through one small
 * SharedArrayBuffer of `Int32` words ({@linkcode PROXY}):
 *
 * - Worker going to sleep on a control word (it has already set
 *   `consumer_sleeping` and re-read `tail`, the ring's Dekker protocol):
 *   it posts a park request (word, value, sequence number), rings the main
 *   thread's bell and `Atomics.wait`s on `PARK_DONE`. The main thread
 *   futex-waits on the control word while it still holds that value, then
 *   stores the sequence number in `PARK_DONE` and notifies the Worker.
 * - Worker publishing to a sleeping parent: it sets a bit in `WAKE` and
 *   rings the bell; the main thread (parked in `Atomics.wait` on the bell)
 *   futex-wakes the word.
 * - Worker done (FINALIZED sent, or a failure reported): it stores
 *   1 + the exit code in `EXIT` and rings the bell.
 *
 * The two ends never wait for each other in a cycle: the main thread reads
 * a park request before it takes the wakes, so a wake asked for before the
 * park is done before it sleeps. A park made without blocking the Worker
 * (`waitAsync`, the Inbox's reader) leaves the Worker running, and it may
 * then publish for a sleeping parent: while it says it is busy (`BUSY`) the
 * main thread parks in short slices and serves wakes between them. At most
 * one park is outstanding: a blocking wait made while an asynchronous park
 * is (a full ring) polls its word instead of asking for another, and a park
 * counts as done once any later one is. The Worker is untrusted; the main thread accepts only
 * the words and exit codes listed here.
 *
 * @example Both ends (on one thread here; normally the client is in the Worker)
 * ```ts
 * import { createFutexProxy, FutexProxyClient, FutexProxyHost, WAKE_BIT } from "./futex_proxy.ts";
 * import { CONTROL, RING } from "./layout.ts";
 *
 * const buffer = createFutexProxy();
 * const host = new FutexProxyHost(buffer);
 * const client = new FutexProxyClient(buffer);
 * const control = new Int32Array(1024);
 * client.waiter.wake(control, (CONTROL.TO_PARENT + RING.TAIL) / 4);
 * console.log(host.takeWakes() === WAKE_BIT.TO_PARENT_TAIL); // true
 * ```
 *
 * @module
 */

import type { Doorbell, DoorbellWake } from "./doorbell.ts";
import { yieldToEventLoop } from "./macrotask.ts";
import { CONTROL, RING, SLEEP } from "./layout.ts";
import type { RingWaiter, WaitOutcome } from "./ring.ts";

/** Word indices of the proxy's SharedArrayBuffer (`Int32Array`). */
export const PROXY = {
  /** Bumped by the Worker after every request; the main thread sleeps on it. */
  BELL: 0,
  /** `WAKE_BIT`s: control words the Worker asks to be futex-woken. */
  WAKE: 1,
  /** Park requests made so far (the Worker's counter). */
  PARK_SEQ: 2,
  /** Control-page word index of the current park request. */
  PARK_WORD: 3,
  /** The value that word had when the Worker decided to sleep. */
  PARK_VALUE: 4,
  /** The last park request the main thread completed; the Worker sleeps on it. */
  PARK_DONE: 5,
  /** 0 while running; 1 + the exit code once the stub should exit. */
  EXIT: 6,
  /**
   * 1 while model work is pending (a decoupled batch, calls to other
   * models): the main thread then parks in short slices and serves the
   * Worker's wakes between them, since the Worker may publish for a
   * sleeping parent while its own park is outstanding.
   */
  BUSY: 7,
  /**
   * While the Worker sleeps on its doorbell (runtime/wire/doorbell.ts), a
   * `PARKED` value: the main thread then rings it with a tick now and then,
   * often when the model has timers pending, rarely when it has none.
   */
  DOORBELL_PARKED: 8,
  /**
   * A park request the Worker no longer waits for (its sequence number): it
   * was made while model work was pending, and the Worker has gone back to
   * sleeping on its doorbell. The main thread ends it at its next slice.
   */
  PARK_CANCEL: 9,
  /** Words in the buffer. */
  WORDS: 16,
} as const;

/** Values of `PROXY.DOORBELL_PARKED`. */
export const PARKED = {
  /** Not asleep on the doorbell. */
  NO: 0,
  /** Asleep, with model timers pending: tick it often. */
  TIMERS: 1,
  /** Asleep, with none: an occasional tick for stray promises is enough. */
  IDLE: 2,
  /**
   * Asleep while the model awaits calls to other models (BLS): ticked every
   * few milliseconds, so that whatever else the model awaits meanwhile
   * (its timers, I/O) is not held up for long.
   */
  CALL: 3,
  /**
   * Asleep in its event loop (idle for a whole tick, it awaits the doorbell
   * without blocking its thread): its timers and I/O run on their own, so
   * it needs no ticks at all.
   */
  LOOP: 4,
} as const;

/** Control-page word index of a ring field. */
function controlWord(ring: number, field: number): number {
  return (ring + field) >> 2;
}

/** `to_stub.tail`: the word an idle Worker waits on for its next record. */
const TO_STUB_TAIL_WORD = controlWord(CONTROL.TO_STUB, RING.TAIL);

/** The control words the Worker may park on (it consumes to_stub, produces to_parent). */
export const PARK_WORDS: readonly number[] = Object.freeze([
  TO_STUB_TAIL_WORD,
  controlWord(CONTROL.TO_PARENT, RING.HEAD),
]);

/** Bits of `PROXY.WAKE`: the control words the Worker may have woken. */
export const WAKE_BIT = {
  /** `to_parent.tail`: a record for a parent that sleeps. */
  TO_PARENT_TAIL: 1,
  /** `to_stub.head`: room for a parent that waits for it. */
  TO_STUB_HEAD: 2,
} as const;

/** Control-page word index of each `WAKE_BIT`. */
export const WAKE_WORDS: ReadonlyMap<number, number> = new Map([
  [WAKE_BIT.TO_PARENT_TAIL, controlWord(CONTROL.TO_PARENT, RING.TAIL)],
  [WAKE_BIT.TO_STUB_HEAD, controlWord(CONTROL.TO_STUB, RING.HEAD)],
]);

/** Exit codes the Worker may ask for: 0 after FINALIZED, 1 to be restarted. */
export type StubExitCode = 0 | 1;

/**
 * Allocates a proxy's buffer.
 *
 * @returns A zeroed SharedArrayBuffer of `PROXY.WORDS` words.
 */
export function createFutexProxy(): SharedArrayBuffer {
  return new SharedArrayBuffer(PROXY.WORDS * 4);
}

function proxyWords(buffer: SharedArrayBuffer): Int32Array {
  if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < PROXY.WORDS * 4) {
    throw new RangeError("not a futex proxy buffer");
  }
  return new Int32Array(buffer, 0, PROXY.WORDS);
}

/** Timing of the Worker's end. */
export interface FutexProxyClientTiming {
  /**
   * Whether the model has timers pending (runtime/worker/timers.ts); an
   * idle Worker asleep on its doorbell is then ticked often. Assumed true
   * when absent.
   */
  timersPending?: () => boolean;
  /**
   * While parked without blocking the event loop ({@linkcode RingWaiter.waitAsync}),
   * how long each `Atomics.wait` lasts before the event loop gets a turn.
   */
  eventLoopSliceMs: number;
}

/**
 * Default: while parked with model work pending, the event loop gets a turn
 * every 50 ms. (Asleep on its doorbell, an idle Worker is ticked by the main
 * thread: see `PARKED`.)
 */
export const DEFAULT_CLIENT_TIMING: FutexProxyClientTiming = Object.freeze({
  eventLoopSliceMs: 50,
});

/** The Worker's end: a {@linkcode RingWaiter} for the region's rings. */
export class FutexProxyClient {
  readonly #words: Int32Array;
  readonly #timing: FutexProxyClientTiming;
  /** Sleeps of an idle Worker and wakes of the parent go here, when given. */
  #doorbell: Doorbell | undefined;
  #parkSeq: number;
  #eventLoopBusy = false;
  /** Calls to other models are in flight (and nothing else keeps the event loop busy). */
  #callsPending = false;
  /** Asynchronous parks outstanding (the Inbox's reader: at most one). */
  #asyncParks = 0;
  /** The park an asynchronous wait with model work pending waits for, if any. */
  #busyParkSeq: number | undefined;
  /** The value of this thread's last doorbell sleep (`PARKED`; `NO` before the first). */
  #lastParked: number = PARKED.NO;
  /** An idle sleep awaits the doorbell in the event loop (see `sleepInEventLoop`). */
  #idleInEventLoop = false;
  readonly #pause = new Int32Array(new SharedArrayBuffer(4));

  /**
   * @param buffer The proxy buffer from the start message.
   * @param timing How often an idle Worker lets its event loop turn.
   * @throws {RangeError} If `buffer` is not a proxy buffer.
   */
  constructor(
    buffer: SharedArrayBuffer,
    timing: FutexProxyClientTiming = DEFAULT_CLIENT_TIMING,
    doorbell?: Doorbell,
  ) {
    this.#words = proxyWords(buffer);
    this.#timing = timing;
    this.#doorbell = doorbell;
    this.#parkSeq = Atomics.load(this.#words, PROXY.PARK_SEQ);
  }

  /**
   * Marks this thread asleep on its doorbell, saying whether timers are
   * pending (or, with `call`, that it awaits other models). The main thread
   * may be in a long wait chosen when the last sleep had no timers; it is
   * woken to pick a shorter one when timers are pending now.
   */
  #markParked(how: "blocked" | "call" | "loop"): void {
    const pending = this.#timing.timersPending;
    const timers = pending === undefined || pending();
    const value = how === "loop"
      ? PARKED.LOOP
      : how === "call"
      ? PARKED.CALL
      : timers
      ? PARKED.TIMERS
      : PARKED.IDLE;
    Atomics.store(this.#words, PROXY.DOORBELL_PARKED, value);
    // The first sleep ends the stub's start: the main thread, which looks
    // at this word only between its wait slices, is woken to see it
    // (it then gives back the pages only starting needed).
    // A sleep that needs ticks after one in the event loop (which needs
    // none: the main thread may be waiting with no limit), or one that
    // needs them often after one that needed them rarely, wakes it too, to
    // choose its next wait.
    const last = this.#lastParked;
    const first = last === PARKED.NO;
    const ticksNeeded = value !== PARKED.LOOP &&
      (last === PARKED.LOOP || (timers && last === PARKED.IDLE));
    if (first || ticksNeeded) this.#ringBell();
    this.#lastParked = value;
  }

  /**
   * Whether an asynchronous wait now would sleep on the doorbell: not while
   * a read of it is in flight in the event loop (`PARKED.LOOP`, which only
   * this thread writes), since one reader takes each byte.
   */
  #sleepsOnDoorbell(): boolean {
    return this.#doorbell !== undefined && !this.#eventLoopBusy &&
      Atomics.load(this.#words, PROXY.DOORBELL_PARKED) !== PARKED.LOOP;
  }

  /**
   * Marks this thread asleep (`how`), blocks on the doorbell unless the
   * word at `index` of `words` no longer holds `expected` (when given), and
   * unmarks it. A doorbell found closed has no writer left: the parent is
   * gone and the main thread ends the stub; waits park through it from then
   * on instead of spinning on the pipe.
   */
  #blockOnDoorbell(
    doorbell: Doorbell,
    how: "blocked" | "call",
    words?: Int32Array,
    index = 0,
    expected = 0,
  ): DoorbellWake {
    this.#markParked(how);
    let woke: DoorbellWake;
    try {
      woke = words !== undefined && Atomics.load(words, index) !== expected
        ? "record"
        : doorbell.sleep();
    } finally {
      Atomics.store(this.#words, PROXY.DOORBELL_PARKED, PARKED.NO);
    }
    if (woke === "closed") this.#doorbell = undefined;
    return woke;
  }

  /**
   * Sleeps and wakes through the main thread. `wait` blocks the thread;
   * `waitAsync` blocks it in slices and lets the event loop turn before the
   * first and go idle between them, so that the model's timers run. Both return once the main thread saw the word
   * differ from `expected`: a finite `timeoutMs` is not honoured (the
   * region's waits never have one; the parent's deadline bounds them).
   */
  readonly waiter: Required<RingWaiter> = {
    // An idle Worker sleeps on its doorbell (the parent writes a byte
    // there); with model work pending, or blocking, through the main
    // thread's futex wait (the parent makes a futex wake).
    sleepMark: (async) => async && this.#sleepsOnDoorbell() ? SLEEP.DOORBELL : SLEEP.FUTEX,
    wait: (words, index, expected): WaitOutcome => {
      if (this.#asyncParks > 0) {
        // The main thread serves one park; an asynchronous one is in
        // progress. A blocked Worker has nothing else to do: poll.
        let pauseMs = 0.05;
        while (Atomics.load(words, index) === expected) {
          Atomics.wait(this.#pause, 0, 0, pauseMs);
          pauseMs = Math.min(pauseMs * 2, 1);
        }
        return "ok";
      }
      const seq = this.#requestPark(index, expected);
      while (!this.#parkDone(seq, Infinity)) { /* woken for an older park */ }
      return "ok";
    },
    wake: (_words, index): void => {
      if (index === WAKE_WORDS.get(WAKE_BIT.TO_PARENT_TAIL) && this.#doorbell !== undefined) {
        // The parent sleeps on its doorbell once the stub runs.
        this.#doorbell.ringParent();
        return;
      }
      for (const [bit, word] of WAKE_WORDS) {
        if (word === index) {
          Atomics.or(this.#words, PROXY.WAKE, bit);
          this.#ringBell();
          return;
        }
      }
      throw new RangeError(`control word ${index} cannot be woken through the proxy`);
    },
    waitAsync: async (words, index, expected): Promise<WaitOutcome> => {
      if (this.#sleepsOnDoorbell() && index === TO_STUB_TAIL_WORD) {
        return this.#callsPending
          ? await this.#awaitAnswerOnDoorbell(words, index, expected)
          : await this.#sleepOnDoorbell(words, index, expected);
      }
      const seq = this.#requestPark(index, expected);
      this.#asyncParks++;
      try {
        if (this.#eventLoopBusy) return await this.#parkDoneAsync(seq);
        // The main thread goes to sleep meanwhile; a record that arrives
        // during this turn ends the park at once.
        await yieldToEventLoop();
        while (!this.#parkDone(seq, this.#timing.eventLoopSliceMs)) {
          if (await this.#parkDoneWhileIdle(seq)) return "ok";
          // Model work started meanwhile (a timer made a call): stop blocking.
          if (this.#eventLoopBusy) return await this.#parkDoneAsync(seq);
        }
        return "ok";
      } finally {
        this.#asyncParks--;
      }
    },
  };

  /**
   * Model work is pending (a decoupled model streaming from timers, a model
   * awaiting another model): never block the thread, wait through the
   * event loop instead.
   */
  async #parkDoneAsync(seq: number): Promise<WaitOutcome> {
    this.#busyParkSeq = seq;
    try {
      for (;;) {
        const done = Atomics.load(this.#words, PROXY.PARK_DONE);
        if (reached(done, seq)) return "ok";
        // The work is over (setEventLoopBusy): leave the park to the main
        // thread, which ends it, and let the caller sleep on the doorbell.
        if (this.#sleepsOnDoorbell()) return "ok";
        const waiting = Atomics.waitAsync(this.#words, PROXY.PARK_DONE, done);
        if (waiting.async) await waiting.value;
      }
    } finally {
      this.#busyParkSeq = undefined;
    }
  }

  /**
   * An idle Worker's sleep: one blocking read of its doorbell, woken by the
   * parent's byte (one thread hop) or by the main thread's tick, after which
   * the event loop goes idle once so that the model's timers run. The ring
   * has set `consumer_sleeping` to `SLEEP.DOORBELL`; the caller re-checks
   * the ring and sleeps again as needed.
   */
  async #sleepOnDoorbell(words: Int32Array, index: number, expected: number): Promise<WaitOutcome> {
    if (this.#idleInEventLoop) return await this.#sleepInEventLoop(words, index, expected);
    const woke = this.#blockOnDoorbell(this.#doorbell!, "blocked", words, index, expected);
    // A whole tick without a record: from now on this wait sleeps in the
    // event loop, as the serve loop's own idle sleep does (`sleepInEventLoop`).
    // It matters for a wait that began while model work was pending (a
    // decoupled model's stream) and outlived it: blocked, it would be
    // ticked every second for as long as the instance stays idle.
    if (woke === "tick") this.#idleInEventLoop = true;
    return "ok";
  }

  /**
   * The sleep of a Worker idle for a whole tick: it awaits its doorbell
   * without blocking the thread, so that the model's timers and I/O run on
   * time with no ticks from the main thread (`PARKED.LOOP`), and an idle
   * instance wakes no thread at all. The first record after it costs one
   * thread hop more than a blocking sleep's (the read completes on a thread
   * of Deno's, which wakes this one).
   */
  async #sleepInEventLoop(
    words: Int32Array,
    index: number,
    expected: number,
  ): Promise<WaitOutcome> {
    const doorbell = this.#doorbell!;
    this.#markParked("loop");
    let woke: DoorbellWake;
    try {
      woke = Atomics.load(words, index) === expected ? await doorbell.sleepAsync() : "record";
    } finally {
      Atomics.store(this.#words, PROXY.DOORBELL_PARKED, PARKED.NO);
    }
    if (woke === "closed") this.#doorbell = undefined;
    // Work came: the next idle sleep blocks again (one thread hop less per
    // record), until a tick finds it idle.
    else this.#idleInEventLoop = false;
    return "ok";
  }

  /**
   * Waits for the answers of calls to other models (BLS) when nothing else
   * keeps the event loop busy: once the model's ready work has run (a
   * macrotask), the thread blocks on its doorbell, so that the parent's
   * byte wakes it directly (one thread hop, where the main thread's futex
   * wait and a wake-up of the event loop make two). The main thread ticks
   * it every few milliseconds meanwhile (`PARKED.CALL`); after a tick the
   * event loop goes idle once, so that the model's timers and I/O move
   * while a long call lasts.
   */
  async #awaitAnswerOnDoorbell(
    words: Int32Array,
    index: number,
    expected: number,
  ): Promise<WaitOutcome> {
    await yieldToEventLoop();
    // A record, or other work: the caller re-checks before sleeping again.
    if (Atomics.load(words, index) !== expected || !this.#sleepsOnDoorbell()) return "ok";
    if (this.#blockOnDoorbell(this.#doorbell!, "call") === "tick") await this.#idleTurn();
    return "ok";
  }

  /**
   * Blocks this thread on the doorbell, as an idle Worker between batches
   * sleeps (the caller has marked its ring `SLEEP.DOORBELL`); the main
   * thread ticks it meanwhile.
   *
   * @returns What woke it, or `undefined` when it may not sleep that way now
   * (no doorbell, model work pending, a read of it in flight in the event
   * loop, or an asynchronous park in progress).
   */
  sleepOnDoorbellNow(): DoorbellWake | undefined {
    const doorbell = this.#doorbell;
    if (doorbell === undefined || !this.#sleepsOnDoorbell() || this.#asyncParks > 0) {
      return undefined;
    }
    return this.#blockOnDoorbell(doorbell, "blocked");
  }

  /**
   * While on, an idle Worker's asynchronous wait for its next record
   * (`waitAsync` on `to_stub.tail`) sleeps in the event loop instead of
   * blocking the thread: the serve loop turns it on once a whole tick
   * passed with no record, and off when a record came. (An asynchronous
   * wait that a tick wakes turns it on by itself, and a record that ends
   * such a sleep turns it off.)
   */
  sleepInEventLoop(on: boolean): void {
    this.#idleInEventLoop = on;
  }

  /**
   * Lets the event loop go idle once, for about a millisecond, so that due
   * timers and finished I/O of the model run (Deno runs them only when its
   * event loop finds nothing ready).
   */
  async #idleTurn(): Promise<void> {
    const waiting = Atomics.waitAsync(this.#pause, 0, 0, 1);
    if (waiting.async) await waiting.value;
  }

  /**
   * Between two blocking slices: lets the event loop go idle once, for about
   * a millisecond or until park `seq` completes. Deno runs due timers only
   * when its event loop finds nothing ready; a turn made of a ready
   * macrotask ({@linkcode yieldToEventLoop}) left a due timer waiting about
   * 130 turns (over 6 s with 50 ms slices).
   *
   * @returns Whether park `seq` is done.
   */
  async #parkDoneWhileIdle(seq: number): Promise<boolean> {
    const done = Atomics.load(this.#words, PROXY.PARK_DONE);
    if (reached(done, seq)) return true;
    const waiting = Atomics.waitAsync(this.#words, PROXY.PARK_DONE, done, 1);
    if (waiting.async) await waiting.value;
    return reached(Atomics.load(this.#words, PROXY.PARK_DONE), seq);
  }

  /**
   * While `busy`, `waitAsync` leaves the thread free for the event loop
   * (model work is pending: a decoupled batch, its streams) instead of
   * blocking it. While only `calls` (to other models) are in flight, it
   * blocks on the doorbell for their answers, ticked often.
   */
  setEventLoopBusy(busy: boolean, calls = false): void {
    this.#eventLoopBusy = busy;
    this.#callsPending = calls;
    Atomics.store(this.#words, PROXY.BUSY, busy || calls ? 1 : 0);
    const seq = this.#busyParkSeq;
    if (seq !== undefined && this.#sleepsOnDoorbell()) {
      // A wait made while the work was pending goes on through the main
      // thread (two hops per wake-up); the next record should wake this
      // thread on its doorbell instead. Cancel the park and wake the wait,
      // which returns so that its caller sleeps again, the new way.
      Atomics.store(this.#words, PROXY.PARK_CANCEL, seq);
      Atomics.notify(this.#words, PROXY.PARK_DONE);
    }
  }

  /** Asks the main thread to end the stub with `code`, after the records already sent. */
  requestExit(code: StubExitCode): void {
    Atomics.store(this.#words, PROXY.EXIT, 1 + code);
    this.#ringBell();
  }

  #requestPark(index: number, expected: number): number {
    if (!PARK_WORDS.includes(index)) {
      throw new RangeError(`control word ${index} cannot be waited on through the proxy`);
    }
    const seq = (this.#parkSeq + 1) | 0;
    this.#parkSeq = seq;
    Atomics.store(this.#words, PROXY.PARK_WORD, index);
    Atomics.store(this.#words, PROXY.PARK_VALUE, expected);
    Atomics.store(this.#words, PROXY.PARK_SEQ, seq);
    this.#ringBell();
    return seq;
  }

  /** Waits up to `timeoutMs` for park `seq` to complete; true once it has. */
  #parkDone(seq: number, timeoutMs: number): boolean {
    const done = Atomics.load(this.#words, PROXY.PARK_DONE);
    if (reached(done, seq)) return true;
    Atomics.wait(this.#words, PROXY.PARK_DONE, done, timeoutMs);
    return reached(Atomics.load(this.#words, PROXY.PARK_DONE), seq);
  }

  #ringBell(): void {
    Atomics.add(this.#words, PROXY.BELL, 1);
    Atomics.notify(this.#words, PROXY.BELL);
  }
}

/** True once park `seq` or a later one is done (counters wrap). */
function reached(done: number, seq: number): boolean {
  return ((done - seq) | 0) >= 0;
}

/** A park request as the main thread reads it. */
export interface ParkRequest {
  /** Its sequence number (to complete it). */
  seq: number;
  /** Control-page word index, one of `PARK_WORDS`. */
  word: number;
  /** Sleep while the word holds this value. */
  value: number;
}

/** The main thread's end: reads the Worker's requests (never trusting them). */
export class FutexProxyHost {
  readonly #words: Int32Array;
  #completedSeq: number;

  /**
   * @param buffer The proxy buffer (also posted to the Worker).
   * @throws {RangeError} If `buffer` is not a proxy buffer.
   */
  constructor(buffer: SharedArrayBuffer) {
    this.#words = proxyWords(buffer);
    // What was completed, not what was asked: a park the Worker asked for
    // before this end existed is still pending.
    this.#completedSeq = Atomics.load(this.#words, PROXY.PARK_DONE);
  }

  /** The bell's value: read it before looking at requests, then sleep on it. */
  bell(): number {
    return Atomics.load(this.#words, PROXY.BELL);
  }

  /**
   * Settles once the Worker rings the bell past `bell` (at once if it has),
   * leaving this thread's event loop free meanwhile.
   */
  async bellRung(bell: number): Promise<void> {
    const waiting = Atomics.waitAsync(this.#words, PROXY.BELL, bell);
    if (waiting.async) await waiting.value;
  }

  /**
   * Sleeps until the Worker rings the bell past `bell`, at most `timeoutMs`.
   *
   * @returns `"timed-out"` if nobody rang.
   */
  waitForBell(bell: number, timeoutMs: number): WaitOutcome {
    return Atomics.wait(this.#words, PROXY.BELL, bell, timeoutMs) === "timed-out"
      ? "timed-out"
      : "ok";
  }

  /**
   * How the Worker sleeps on its doorbell: `PARKED.NO`, `PARKED.TIMERS`
   * (tick it often), `PARKED.IDLE` (rarely) or `PARKED.CALL` (awaiting
   * other models: more often still); anything else counts as
   * `PARKED.TIMERS`.
   */
  doorbellParked(): number {
    const value = Atomics.load(this.#words, PROXY.DOORBELL_PARKED);
    return value === PARKED.NO || value === PARKED.IDLE || value === PARKED.CALL ||
        value === PARKED.LOOP
      ? value
      : PARKED.TIMERS;
  }

  /** Whether the Worker says model work is pending (it may publish while parked). */
  busy(): boolean {
    return Atomics.load(this.#words, PROXY.BUSY) === 1;
  }

  /** Takes the `WAKE_BIT`s asked for since the last call (unknown bits dropped). */
  takeWakes(): number {
    return Atomics.exchange(this.#words, PROXY.WAKE, 0) &
      (WAKE_BIT.TO_PARENT_TAIL | WAKE_BIT.TO_STUB_HEAD);
  }

  /**
   * The exit the Worker asked for, if any.
   *
   * @returns 0 or 1, or `undefined` while the stub should run (a value the
   * protocol does not know is 1: the stub is restarted).
   */
  exitRequest(): StubExitCode | undefined {
    const value = Atomics.load(this.#words, PROXY.EXIT);
    if (value === 0) return undefined;
    return value === 1 ? 0 : 1;
  }

  /**
   * The park request not yet completed, if any.
   *
   * @returns The request, or `undefined` (also for a word the Worker may not
   * park on: that request is completed at once, so the Worker re-checks).
   */
  pendingPark(): ParkRequest | undefined {
    const seq = Atomics.load(this.#words, PROXY.PARK_SEQ);
    if (seq === this.#completedSeq) return undefined;
    const word = Atomics.load(this.#words, PROXY.PARK_WORD);
    const value = Atomics.load(this.#words, PROXY.PARK_VALUE);
    if (!PARK_WORDS.includes(word)) {
      this.completePark(seq);
      return undefined;
    }
    return { seq, word, value };
  }

  /** Whether the Worker cancelled park `seq` (it sleeps on its doorbell instead). */
  parkCancelled(seq: number): boolean {
    return Atomics.load(this.#words, PROXY.PARK_CANCEL) === seq;
  }

  /** Tells the Worker that park `seq` is over (the word changed). */
  completePark(seq: number): void {
    this.#completedSeq = seq;
    Atomics.store(this.#words, PROXY.PARK_DONE, seq);
    Atomics.notify(this.#words, PROXY.PARK_DONE);
  }
}
