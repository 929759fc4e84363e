/**
 * The channel between the stub's trusted main thread and the model's Worker:
 * one SharedArrayBuffer holding two `tdn_ring`s (the region's layout, so the
 * same {@linkcode Ring} code and the same `tdn_record`s serve both hops) and
 * the current arena size, which the main thread updates before it forwards a
 * GROWN record.
 *
 * The Worker is untrusted: whatever it puts on `toMain` is checked by the
 * main thread before it reaches the parent, and the parent checks again.
 *
 * @example Both ends of a channel
 * ```ts
 * import { createWorkerChannel, openWorkerChannel } from "./worker_channel.ts";
 *
 * const buffer = createWorkerChannel(1 << 20);
 * const main = openWorkerChannel(buffer);
 * const worker = openWorkerChannel(buffer); // in the Worker, after postMessage
 * console.log(worker.arenaSize() === main.arenaSize()); // true
 * ```
 *
 * @module
 */

import { RING } from "./layout.ts";
import { atomicsWaiter, Ring } from "./ring.ts";

/** Byte layout of the channel's SharedArrayBuffer. */
export const CHANNEL = {
  /** `tdn_ring` main thread -> Worker. */
  TO_WORKER: 0,
  /** `tdn_ring` Worker -> main thread. */
  TO_MAIN: RING.SIZE,
  /** u64 current arena size in bytes. */
  ARENA_SIZE: 2 * RING.SIZE,
  /** Total bytes. */
  SIZE: 2 * RING.SIZE + 64,
} as const;

/** Both rings and the arena-size word of a channel. */
export interface WorkerChannel {
  /** The shared buffer (post it to the Worker). */
  readonly buffer: SharedArrayBuffer;
  /** Records for the Worker (INIT is not one: it arrives by postMessage). */
  readonly toWorker: Ring;
  /** Records from the Worker. */
  readonly toMain: Ring;
  /** The arena size in bytes as of the last GROWN. */
  arenaSize(): number;
  /** Publishes a new arena size (main thread only). */
  setArenaSize(bytes: number): void;
}

/**
 * Allocates a channel's buffer.
 *
 * @param arenaSize The arena's size at start.
 * @returns A zeroed buffer with the arena size set.
 */
export function createWorkerChannel(arenaSize: number): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(CHANNEL.SIZE);
  openWorkerChannel(buffer).setArenaSize(arenaSize);
  return buffer;
}

/**
 * Views a channel's buffer.
 *
 * @param buffer A buffer from {@linkcode createWorkerChannel}.
 * @returns The rings and the arena-size accessors.
 * @throws {RangeError} If the buffer is too small.
 */
export function openWorkerChannel(buffer: SharedArrayBuffer): WorkerChannel {
  if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < CHANNEL.SIZE) {
    throw new RangeError("not a worker channel buffer");
  }
  const arenaSizeWord = new BigUint64Array(buffer, CHANNEL.ARENA_SIZE, 1);
  return {
    buffer,
    toWorker: new Ring(buffer, CHANNEL.TO_WORKER, atomicsWaiter),
    toMain: new Ring(buffer, CHANNEL.TO_MAIN, atomicsWaiter),
    arenaSize(): number {
      return Number(Atomics.load(arenaSizeWord, 0));
    },
    setArenaSize(bytes: number): void {
      if (!Number.isSafeInteger(bytes) || bytes < 0) {
        throw new RangeError(`arena size ${bytes} is not a byte count`);
      }
      Atomics.store(arenaSizeWord, 0, BigInt(bytes));
    },
  };
}
