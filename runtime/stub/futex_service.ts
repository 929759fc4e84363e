/**
 * The trusted main thread's loop once the model's Worker has its start
 * message. The Worker talks to the parent process directly through the
 * region's rings (runtime/worker/parent_link.ts); this thread is off the
 * request path and does only what the Worker cannot:
 *
 * - futex calls for the Worker (runtime/wire/futex_proxy.ts): park on a
 *   control-page word until it changes, or wake the parent;
 * - watch both ends: when the Worker dies, send the parent an ERROR in its
 *   place and exit; when the parent is gone, exit;
 * - exit when the Worker asks (0 after FINALIZED, 1 after a failure it
 *   reported).
 *
 * Waiting: a blocking `Atomics.wait` on the proxy's bell in 50 ms slices
 * while the Worker is busy, a blocking shared-futex wait in 1 s slices while
 * it is parked (1 ms slices, serving its wakes between them, while it says
 * model work is pending: it may publish for a sleeping parent meanwhile);
 * between slices the event loop turns (Worker failures arrive
 * as events) and the parent's liveness is checked. The main thread trusts
 * nothing the Worker or the control page says: it compares the parent's
 * process id with the one read at start, accepts only the proxy's known
 * words, and writes an error text only within the arena size read at start
 * (the arena never shrinks).
 *
 * @example
 * ```ts ignore
 * import { FutexService } from "./futex_service.ts";
 *
 * const service = new FutexService(region, proxyBuffer, hooks);
 * Deno.exit(await service.run(initErrorOffset));
 * ```
 *
 * @module
 */

import { writeErrorText } from "../wire/error_text.ts";
import {
  FutexProxyHost,
  PARKED,
  type ParkRequest,
  WAKE_BIT,
  WAKE_WORDS,
} from "../wire/futex_proxy.ts";
import { ERROR_CODE, MSG } from "../wire/layout.ts";
import { yieldToEventLoop } from "../wire/macrotask.ts";
import type { Ring, RingWaiter } from "../wire/ring.ts";
import { EXIT_FAILURE } from "./exit_code.ts";

/** The region as this loop needs it (runtime/stub/region.ts provides it). */
export interface ServiceRegion {
  /** The control page as u32 words (the main thread's own view). */
  readonly controlWords: Int32Array;
  /** Shared-futex wait and wake on control-page words. */
  readonly futexWaiter: RingWaiter;
  /** The main thread's end of stub -> parent: used only once the Worker is gone. */
  readonly toParent: Ring;
  /** The arena (the main thread's view). */
  readonly arena: ArrayBuffer;
  /** The arena size read at start, before any model code ran. */
  readonly startArenaSize: number;
  /** Wakes the parent, which sleeps on its doorbell (descriptor 1). */
  ringParent(): void;
  /** Rings the Worker's doorbell with a tick (descriptor 5). */
  tickWorker(): void;
}

/** What the loop needs to know about the world around it. */
export interface ServiceHooks {
  /** False once the parent process is gone. */
  parentAlive(): boolean;
  /** Why the Worker died, once it has. */
  workerFailure(): string | undefined;
  /**
   * Called when the Worker settles: the first time it sleeps on its
   * doorbell (it has answered READY, or the start failed, and waits for
   * work), and each time it falls idle after work (it sleeps in its event
   * loop): what it touched only to start, or to get busy, may go.
   */
  settled?(): void;
  /**
   * A promise that settles when either end may be gone (the Worker died,
   * the parent exited), or `undefined` when that cannot be watched for:
   * with it, the main thread of a stub whose Worker sleeps in its event loop
   * waits for events alone and wakes for nothing; without it, it checks
   * both ends once a second.
   */
  ended?(): Promise<void> | undefined;
}

/** Timing of the waits (tests shorten them). */
export interface ServiceTiming {
  /** Sleep slice on the bell while the Worker runs, milliseconds. */
  watchSliceMs: number;
  /** Sleep slice in a futex park for the Worker, milliseconds. */
  parkSliceMs: number;
  /**
   * Tick interval of a Worker blocked on its doorbell with no timers, and
   * how often both ends are checked while it sleeps in its event loop,
   * milliseconds.
   */
  idleTickMs: number;
  /**
   * Tick interval of a Worker asleep on its doorbell while it awaits calls
   * to other models, milliseconds: the longest the model's other work
   * (timers, I/O) waits then.
   */
  callTickMs: number;
}

/**
 * Defaults: a dead Worker is noticed within 50 ms during a batch, 1 s when
 * idle; an idle model's timers run within 50 ms of being due, those of a
 * model awaiting other models within 10 ms.
 */
export const DEFAULT_TIMING: ServiceTiming = Object.freeze({
  watchSliceMs: 50,
  parkSliceMs: 1000,
  idleTickMs: 1000,
  callTickMs: 10,
});

/**
 * Park slices while the Worker has model work pending: a wake it asks for
 * meanwhile (a response or a call for a parent that sleeps) waits at most
 * one slice. The slice starts at the minimum, doubles while no wake is
 * asked for and drops back after one, so a busy stream is served within a
 * millisecond and a quiet one costs a few wake-ups a second; a parent that
 * sleeps re-checks its ring every 5-10 ms anyway.
 */
const BUSY_PARK_SLICE_MIN_MS = 1;
const BUSY_PARK_SLICE_MAX_MS = 8;

/** Whether a Worker asleep this way (`PARKED`) needs ticks for its timers to run. */
function wantsTicks(parked: number): boolean {
  return parked !== PARKED.NO && parked !== PARKED.LOOP;
}

/** Serves the Worker's futex requests until the stub should exit. */
export class FutexService {
  readonly #region: ServiceRegion;
  readonly #host: FutexProxyHost;
  readonly #hooks: ServiceHooks;
  readonly #timing: ServiceTiming;
  /** The Worker was seen asleep on its doorbell: its start is over. */
  #started = false;
  /** The Worker was last seen asleep in its event loop. */
  #idle = false;

  /**
   * @param region The parent's side.
   * @param proxy The futex proxy buffer posted to the Worker.
   * @param hooks Liveness of both ends.
   * @param timing Wait slices.
   */
  constructor(
    region: ServiceRegion,
    proxy: SharedArrayBuffer,
    hooks: ServiceHooks,
    timing: ServiceTiming = DEFAULT_TIMING,
  ) {
    this.#region = region;
    this.#host = new FutexProxyHost(proxy);
    this.#hooks = hooks;
    this.#timing = timing;
  }

  /**
   * Runs until the Worker asks to exit, the Worker dies or the parent is gone.
   *
   * @param errorTextOffset Where the text of an ERROR sent for a dead Worker
   * goes (after INIT's payload; a batch's payload is dead once it failed).
   * @returns The exit code: 0 after FINALIZED, 1 when the stub must restart.
   */
  async run(errorTextOffset: number): Promise<number> {
    const host = this.#host;
    for (;;) {
      // The bell first: a request made after this read rings it again, so
      // the wait below returns at once instead of missing it. Exit and park
      // before the wakes: a wake the Worker asked for before it parked (or
      // exited) is then surely among the ones done here, not left waiting
      // behind a long futex sleep.
      const bell = host.bell();
      const exit = host.exitRequest();
      const park = host.pendingPark();
      this.#serveWakes(host.takeWakes());
      if (exit !== undefined) return exit;
      if (park !== undefined) {
        const stop = await this.#park(park, errorTextOffset);
        if (stop !== undefined) return stop;
        continue;
      }
      // A Worker blocked on its doorbell gets a tick every slice, so that
      // its model's timers and promises move with no traffic: every 50 ms
      // when it has timers pending, every second when not. After one tick
      // with no record it sleeps in its event loop instead (PARKED.LOOP),
      // which needs no ticks: this thread then waits for either end's
      // departure as an event (or checks both ends once a second).
      const parked = host.doorbellParked();
      const settled = (parked !== PARKED.NO && !this.#started) ||
        (parked === PARKED.LOOP && !this.#idle);
      if (parked !== PARKED.NO) this.#started = true;
      this.#idle = parked === PARKED.LOOP;
      if (settled) this.#hooks.settled?.();
      const ended = parked === PARKED.LOOP ? this.#hooks.ended?.() : undefined;
      if (ended !== undefined) {
        // The Worker needs no ticks and each end's departure is an event:
        // sleep until the Worker rings or an end is gone.
        await Promise.race([host.bellRung(bell), ended]);
        const stop = await this.#checkBothEnds(errorTextOffset);
        if (stop !== undefined) return stop;
        continue;
      }
      const slice = parked === PARKED.IDLE || parked === PARKED.LOOP
        ? this.#timing.idleTickMs
        : parked === PARKED.CALL
        ? this.#timing.callTickMs
        : this.#timing.watchSliceMs;
      if (host.waitForBell(bell, slice) === "timed-out") {
        if (wantsTicks(parked) && wantsTicks(host.doorbellParked())) {
          this.#region.tickWorker();
        }
        const stop = await this.#checkBothEnds(errorTextOffset);
        if (stop !== undefined) return stop;
      }
    }
  }

  /** Futex-waits while the word holds the value, then releases the Worker. */
  async #park(park: ParkRequest, errorTextOffset: number): Promise<number | undefined> {
    const { controlWords, futexWaiter } = this.#region;
    const host = this.#host;
    let checkAt = performance.now() + this.#timing.parkSliceMs;
    let busySlice = BUSY_PARK_SLICE_MIN_MS;
    while (Atomics.load(controlWords, park.word) === park.value) {
      const busy = host.busy();
      const outcome = futexWaiter.wait(
        controlWords,
        park.word,
        park.value,
        busy ? Math.min(busySlice, this.#timing.parkSliceMs) : this.#timing.parkSliceMs,
      );
      if (busy) {
        const wakes = host.takeWakes();
        this.#serveWakes(wakes);
        busySlice = wakes !== 0
          ? BUSY_PARK_SLICE_MIN_MS
          : Math.min(busySlice * 2, BUSY_PARK_SLICE_MAX_MS);
      }
      if (outcome === "timed-out" && performance.now() >= checkAt) {
        checkAt = performance.now() + this.#timing.parkSliceMs;
        const stop = await this.#checkBothEnds(errorTextOffset);
        if (stop !== undefined) return stop;
      }
      // The Worker's work ended and it sleeps on its doorbell now.
      if (host.parkCancelled(park.seq)) break;
    }
    this.#host.completePark(park.seq);
    return undefined;
  }

  /** Makes the wakes the Worker asked for: the parent sleeps on its doorbell. */
  #serveWakes(wakes: number): void {
    const { controlWords, futexWaiter } = this.#region;
    for (const [bit, word] of WAKE_WORDS) {
      if ((wakes & bit) === 0) continue;
      if (bit === WAKE_BIT.TO_PARENT_TAIL) this.#region.ringParent();
      else futexWaiter.wake(controlWords, word);
    }
  }

  /** Lets Worker events in; returns an exit code if either end is gone. */
  async #checkBothEnds(errorTextOffset: number): Promise<number | undefined> {
    await yieldToEventLoop();
    const failure = this.#hooks.workerFailure();
    if (failure !== undefined) {
      this.#sendErrorForWorker(errorTextOffset, failure);
      return EXIT_FAILURE;
    }
    return this.#hooks.parentAlive() ? undefined : EXIT_FAILURE;
  }

  /**
   * The Worker is gone, so this thread may produce on `to_parent`: ERROR
   * with batch id 0, which the parent takes as the answer to the batch in
   * flight (or the start), if any.
   */
  #sendErrorForWorker(errorTextOffset: number, text: string): void {
    const { arena, startArenaSize, toParent } = this.#region;
    const written = writeErrorText(arena, startArenaSize, errorTextOffset, text);
    try {
      toParent.tryPush({
        kind: MSG.ERROR,
        flags: 0,
        aux: ERROR_CODE.INTERNAL,
        id: 0n,
        offset: written.offset,
        length: written.length,
      });
    } catch {
      // The model broke the ring before it died; the parent notices the exit.
    }
  }
}
