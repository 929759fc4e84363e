/**
 * The trusted main thread's loop: relay records between the region's rings
 * (the parent process) and the channel's rings (the model's Worker), checking
 * each record the Worker sends against the one state it may be answering.
 *
 * Waiting is where the time goes, so it follows the measurements:
 * - idle (or waiting for GROWN): spin ~20 us on the region's `to_stub` tail,
 *   then a blocking shared-futex wait in ~1 s slices; between slices, check
 *   that the parent is alive and let the event loop deliver Worker events;
 * - a batch, INIT or FINALIZE in flight: spin ~50 us (a small batch's
 *   answer often comes within that; sleeping adds a wake-up to the
 *   request), then `Atomics.wait` on the channel's tail in ~50 ms
 *   slices, yielding to the event loop between slices so a Worker that died
 *   is noticed.
 *
 * @example
 * ```ts ignore
 * import { Relay } from "./relay.ts";
 *
 * const relay = new Relay(region, channel, hooks);
 * Deno.exit(await relay.run(initErrorOffset));
 * ```
 *
 * @module
 */

import { writeErrorText } from "../wire/error_text.ts";
import {
  BATCH_HEADER,
  ERROR_CODE,
  FINALIZED_AUX,
  GROWN_AUX,
  MSG,
  TENSOR_ALIGN,
} from "../wire/layout.ts";
import type { Ring, WireRecord } from "../wire/ring.ts";
import type { WorkerChannel } from "../wire/worker_channel.ts";

/** The region as the relay needs it (runtime/stub/region.ts provides it). */
export interface RelayRegion {
  /** Parent -> stub. */
  readonly toStub: Ring;
  /** Stub -> parent. */
  readonly toParent: Ring;
  /** The arena (main thread's view). */
  readonly arena: ArrayBuffer;
  /** The arena size the parent published. */
  arenaSize(): number;
}

/** What the relay needs to know about the world around it. */
export interface RelayHooks {
  /** False once the parent process is gone. */
  parentAlive(): boolean;
  /** Why the Worker died, once it has. */
  workerFailure(): string | undefined;
}

/** Timing of the waits (tests shorten them). */
export interface RelayTiming {
  /** Busy-wait before sleeping on the parent's ring, microseconds. */
  spinMicros: number;
  /** Busy-wait before sleeping on the Worker's ring, microseconds. */
  busySpinMicros: number;
  /** Sleep slice while idle, milliseconds. */
  idleSliceMs: number;
  /** Sleep slice while the Worker is busy, milliseconds. */
  busySliceMs: number;
}

/** Defaults from ../shared/notes/ipc-limits.md measurements. */
export const DEFAULT_TIMING: RelayTiming = Object.freeze({
  spinMicros: 20,
  busySpinMicros: 50,
  idleSliceMs: 1000,
  busySliceMs: 50,
});

type State =
  | { phase: "init" }
  | { phase: "idle" }
  | { phase: "batch"; id: bigint; errorAt: number }
  | { phase: "grow"; id: bigint; errorAt: number }
  | { phase: "finalize" };

/** Exit code of a stub that must be restarted. */
export const EXIT_FAILURE = 1;

const KNOWN_CODES = Object.values(ERROR_CODE) as readonly number[];

/** Relays records until the stub should exit. */
export class Relay {
  readonly #region: RelayRegion;
  readonly #channel: WorkerChannel;
  readonly #hooks: RelayHooks;
  readonly #timing: RelayTiming;
  readonly #arenaView: DataView;
  #state: State = { phase: "init" };

  /**
   * @param region The parent's side.
   * @param channel The Worker's side.
   * @param hooks Liveness of both.
   * @param timing Wait slices.
   */
  constructor(
    region: RelayRegion,
    channel: WorkerChannel,
    hooks: RelayHooks,
    timing: RelayTiming = DEFAULT_TIMING,
  ) {
    this.#region = region;
    this.#channel = channel;
    this.#hooks = hooks;
    this.#timing = timing;
    this.#arenaView = new DataView(region.arena);
  }

  /**
   * Waits for the Worker's READY, then relays until FINALIZE is done or
   * something fails.
   *
   * @param initErrorOffset Where an initialization error's text may go.
   * @returns The exit code: 0 after FINALIZED, 1 when the stub must restart.
   */
  async run(initErrorOffset: number): Promise<number> {
    for (;;) {
      const state = this.#state;
      if (state.phase === "idle" || state.phase === "grow") {
        const record = await this.#fromParent(state);
        if (record === undefined) return EXIT_FAILURE;
        const exit = this.#onParentRecord(state, record);
        if (exit !== undefined) return exit;
      } else {
        const errorAt = state.phase === "batch" ? state.errorAt : initErrorOffset;
        const record = await this.#fromWorker(errorAt);
        if (record === undefined) return EXIT_FAILURE;
        const exit = this.#onWorkerRecord(state, record, errorAt);
        if (exit !== undefined) return exit;
      }
    }
  }

  /** Handles a parent record; returns an exit code to stop. */
  #onParentRecord(state: State, record: WireRecord): number | undefined {
    const channel = this.#channel;
    if (state.phase === "grow") {
      if (record.kind !== MSG.GROWN) {
        return this.#fail(
          state.id,
          state.errorAt,
          `expected GROWN, the parent sent kind ${record.kind}`,
        );
      }
      // The Worker reads the size from the channel: publish it first.
      if (record.aux === GROWN_AUX.GRANTED) channel.setArenaSize(this.#region.arenaSize());
      channel.toWorker.push(record);
      this.#state = { phase: "batch", id: state.id, errorAt: state.errorAt };
      return undefined;
    }
    switch (record.kind) {
      case MSG.EXECUTE:
        // The parent may have grown the arena for this batch's inputs.
        channel.setArenaSize(this.#region.arenaSize());
        channel.toWorker.push(record);
        this.#state = { phase: "batch", id: record.id, errorAt: this.#batchErrorOffset(record) };
        return undefined;
      case MSG.FINALIZE:
        channel.toWorker.push(record);
        this.#state = { phase: "finalize" };
        return undefined;
      default: {
        const known = record.kind === MSG.INIT || record.kind === MSG.GROWN;
        this.#sendError(
          record.id,
          known ? ERROR_CODE.INTERNAL : ERROR_CODE.UNSUPPORTED,
          0,
          known
            ? `the stub received record kind ${record.kind} while idle`
            : `the stub does not know record kind ${record.kind}`,
        );
        return undefined;
      }
    }
  }

  /** Checks and forwards a Worker record; returns an exit code to stop. */
  #onWorkerRecord(state: State, record: WireRecord, errorAt: number): number | undefined {
    const toParent = this.#region.toParent;
    const forward = (kind: number, aux: number, id: bigint, offset: number, length: number) =>
      toParent.push({ kind, flags: 0, aux, id, offset, length });
    switch (state.phase) {
      case "init":
        if (record.kind === MSG.READY) {
          forward(MSG.READY, 0, 0n, 0, 0);
          this.#state = { phase: "idle" };
          return undefined;
        }
        if (record.kind === MSG.ERROR) {
          forward(MSG.ERROR, errorCode(record.aux), 0n, record.offset, record.length);
          return EXIT_FAILURE;
        }
        break;
      case "batch":
        if ((record.kind === MSG.RESULT || record.kind === MSG.ERROR) && record.id === state.id) {
          const aux = record.kind === MSG.ERROR ? errorCode(record.aux) : 0;
          forward(record.kind, aux, state.id, record.offset, record.length);
          this.#state = { phase: "idle" };
          return undefined;
        }
        if (record.kind === MSG.GROW) {
          forward(MSG.GROW, 0, 0n, 0, record.length);
          this.#state = { phase: "grow", id: state.id, errorAt: state.errorAt };
          return undefined;
        }
        break;
      case "finalize":
        if (record.kind === MSG.FINALIZED) {
          const aux = record.aux === FINALIZED_AUX.OK ? FINALIZED_AUX.OK : FINALIZED_AUX.THREW;
          forward(MSG.FINALIZED, aux, 0n, 0, 0);
          return 0;
        }
        break;
    }
    const id = state.phase === "batch" ? state.id : 0n;
    return this.#fail(
      id,
      errorAt,
      `the model's Worker sent an unexpected record (kind ${record.kind}, id ${record.id}) ` +
        `while the stub was in phase ${state.phase}`,
    );
  }

  /** Waits for the parent's next record; undefined when the stub must exit. */
  async #fromParent(state: State): Promise<WireRecord | undefined> {
    const { idleSliceMs, spinMicros } = this.#timing;
    for (;;) {
      const record = this.#region.toStub.pop(idleSliceMs, spinMicros);
      if (record !== undefined) return record;
      if (!this.#hooks.parentAlive()) return undefined;
      await yieldToEventLoop();
      const failure = this.#hooks.workerFailure();
      if (failure !== undefined) {
        const id = state.phase === "grow" ? state.id : 0n;
        const errorAt = state.phase === "grow" ? state.errorAt : 0;
        this.#fail(id, errorAt, failure);
        return undefined;
      }
    }
  }

  /** Waits for the Worker's next record; undefined when the stub must exit. */
  async #fromWorker(errorAt: number): Promise<WireRecord | undefined> {
    const { busySliceMs, busySpinMicros } = this.#timing;
    for (;;) {
      let record: WireRecord | undefined;
      try {
        record = this.#channel.toMain.pop(busySliceMs, busySpinMicros);
      } catch (error) {
        // The model can scribble on the channel; that ends this stub, not the parent.
        const state = this.#state;
        const message = error instanceof Error ? error.message : String(error);
        this.#fail(
          state.phase === "batch" ? state.id : 0n,
          errorAt,
          `the model's Worker broke its channel: ${message}`,
        );
        return undefined;
      }
      if (record !== undefined) return record;
      await yieldToEventLoop();
      const failure = this.#hooks.workerFailure();
      if (failure !== undefined) {
        const state = this.#state;
        this.#fail(state.phase === "batch" ? state.id : 0n, errorAt, failure);
        return undefined;
      }
      if (!this.#hooks.parentAlive()) return undefined;
    }
  }

  /** Sends ERROR and returns the failure exit code. */
  #fail(id: bigint, errorAt: number, text: string): number {
    this.#sendError(id, ERROR_CODE.INTERNAL, errorAt, text);
    return EXIT_FAILURE;
  }

  #sendError(id: bigint, code: number, errorAt: number, text: string): void {
    const region = this.#region;
    const written = writeErrorText(region.arena, region.arenaSize(), errorAt, text);
    region.toParent.push({
      kind: MSG.ERROR,
      flags: 0,
      aux: code,
      id,
      offset: written.offset,
      length: written.length,
    });
  }

  /** The batch's `arena_used` (the stub's part of the arena), or 0 if unreadable. */
  #batchErrorOffset(execute: WireRecord): number {
    const size = this.#region.arenaSize();
    const at = execute.offset + BATCH_HEADER.ARENA_USED;
    if (at + 8 > size) return 0;
    const used = Number(this.#arenaView.getBigUint64(at, true));
    return used <= size && used % TENSOR_ALIGN === 0 ? used : 0;
  }
}

/** A Triton error code the parent knows, else INTERNAL. */
function errorCode(aux: number): number {
  return KNOWN_CODES.includes(aux) ? aux : ERROR_CODE.INTERNAL;
}

/** Lets timers and Worker events run. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
