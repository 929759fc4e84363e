/**
 * The Worker's doorbells (ffi/WIRE_FORMAT.md, "Sleeping and waking"): the
 * model's Worker sleeps by reading its doorbell pipe (descriptor 0) and wakes
 * a sleeping parent by writing a byte to the parent's (descriptor 1). Both
 * are one system call on this thread, so a wake-up costs one thread hop;
 * going through the main thread's futex calls costs two.
 *
 * The functions are bound when this module loads, before any model code
 * runs; the realm's `Deno.stdin` and `Deno.stdout` are then taken from the
 * model (runtime/worker/harden_realm.ts). The bytes mean nothing to the parent,
 * which re-checks its ring whatever woke it; but the model can still reach
 * descriptor 1 through `node:fs`, so the parent counts the bytes against
 * the records they announce (one per record published while it sleeps),
 * and a stub that rings far more often breaks the protocol and is restarted
 * (ffi/src/channel.h, TDN_DOORBELL_EXCESS_MAX). Ring only for a record.
 *
 * @example
 * ```ts ignore
 * import { stdioDoorbell } from "./doorbell.ts";
 *
 * const doorbell = stdioDoorbell();
 * doorbell.ringParent();
 * console.log(doorbell.sleep()); // "record" once the parent rang
 * ```
 *
 * @module
 */

import { DOORBELL_BYTE } from "./layout.ts";

/** What ended a sleep on the doorbell. */
export type DoorbellWake =
  /** A producer rang: re-check the ring. */
  | "record"
  /** A producer is writing a record (a large one): spin for it. */
  | "coming"
  /** A batch is likely within microseconds: spin for it a while. */
  | "soon"
  /** The main thread's tick: let the event loop run the model's timers. */
  | "tick"
  /** The doorbell's writers are all gone (the parent died), or it failed. */
  | "closed";

/** The Worker's two doorbells. */
export interface Doorbell {
  /** Blocks this thread until a byte arrives, and says what woke it. */
  sleep(): DoorbellWake;
  /**
   * Waits for a byte without blocking this thread: the event loop runs
   * meanwhile (the sleep of a Worker idle for a while; a wake-up costs one
   * more thread hop than {@linkcode Doorbell.sleep}'s).
   */
  sleepAsync(): Promise<DoorbellWake>;
  /** Wakes a parent that sleeps on its doorbell. */
  ringParent(): void;
}

/** Reads once into `buffer`: the byte count, or null at end of file. */
export type ReadOnce = (buffer: Uint8Array) => number | null;
/** Reads once into `buffer` without blocking the thread: the byte count, or null at end of file. */
export type ReadOnceAsync = (buffer: Uint8Array) => Promise<number | null>;
/** Writes once from `buffer`: the byte count. */
export type WriteOnce = (buffer: Uint8Array) => number;

/** What the bytes of one read of the doorbell say. */
function wakeFrom(bytes: Uint8Array): DoorbellWake {
  if (bytes.length === 0) return "closed";
  if (bytes.includes(DOORBELL_BYTE.TICK)) return "tick";
  // Announced and published by now: the record is there.
  if (bytes.includes(DOORBELL_BYTE.RECORD)) return "record";
  if (bytes.includes(DOORBELL_BYTE.COMING)) return "coming";
  return bytes.includes(DOORBELL_BYTE.SOON) ? "soon" : "record";
}

/**
 * The doorbells on standard input and output (descriptors 0 and 1).
 *
 * @param read Blocking read of the stub's doorbell (default `Deno.stdin.readSync`, bound now).
 * @param write Write of the parent's doorbell (default `Deno.stdout.writeSync`, bound now).
 * @param readAsync Read of the stub's doorbell through the event loop
 * (default `Deno.stdin.read`, bound now).
 */
export function stdioDoorbell(
  read: ReadOnce = Deno.stdin.readSync.bind(Deno.stdin),
  write: WriteOnce = Deno.stdout.writeSync.bind(Deno.stdout),
  readAsync: ReadOnceAsync = Deno.stdin.read.bind(Deno.stdin),
): Doorbell {
  const received = new Uint8Array(64);
  const ring = new Uint8Array([DOORBELL_BYTE.RECORD]);
  return {
    sleep(): DoorbellWake {
      try {
        return wakeFrom(received.subarray(0, read(received) ?? 0));
      } catch {
        return "closed";
      }
    },
    async sleepAsync(): Promise<DoorbellWake> {
      // Its own buffer: a read in flight owns it until it completes.
      const buffer = new Uint8Array(64);
      try {
        return wakeFrom(buffer.subarray(0, await readAsync(buffer) ?? 0));
      } catch {
        return "closed";
      }
    },
    ringParent(): void {
      try {
        write(ring);
      } catch {
        // A full pipe (EAGAIN) already holds a wake-up; a parent that is
        // gone is noticed by the main thread.
      }
    },
  };
}
