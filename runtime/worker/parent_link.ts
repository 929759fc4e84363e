/**
 * The Worker's link to the parent process: the region's two rings, seen
 * through the control page the main thread transferred. Once the Worker has sent READY it is the only
 * consumer of `to_stub` and the only producer of `to_parent`
 * (ffi/WIRE_FORMAT.md, "The stub process"). It spins on the rings itself;
 * idle, it sleeps on its doorbell and it rings the parent's
 * (runtime/wire/doorbell.ts); with model work pending it sleeps through the
 * main thread (runtime/wire/futex_proxy.ts), which alone can make futex calls.
 *
 * Nothing here is a secret from the model, which runs on this thread: the
 * parent checks every record and every byte the stub sends.
 *
 * @example
 * ```ts ignore
 * import { openParentLink } from "./parent_link.ts";
 *
 * const link = openParentLink(start.control, start.proxy);
 * const execute = await link.toStub.popAsync(Infinity, 50);
 * ```
 *
 * @module
 */

import type { Doorbell, DoorbellWake } from "../wire/doorbell.ts";
import { DEFAULT_CLIENT_TIMING, FutexProxyClient, type StubExitCode } from "../wire/futex_proxy.ts";
import { CONTROL, CONTROL_SIZE } from "../wire/layout.ts";
import { Ring } from "../wire/ring.ts";

/** The rings, from the Worker's side. */
export interface ParentLink {
  /** Parent -> stub: EXECUTE, CANCEL, FINALIZE, ... (the Worker consumes). */
  readonly toStub: Ring;
  /** Stub -> parent: READY, RESULT, ERROR, RESPONSE, FINALIZED, ... (the Worker produces). */
  readonly toParent: Ring;
  /**
   * While some reason is busy, waiting for the parent never blocks the
   * event loop (model work is pending). Reasons are independent: a
   * decoupled batch running (the default reason) and calls to other models
   * in flight ("bls"). With calls alone in flight, the wait for their
   * answers blocks on the doorbell, ticked every few milliseconds
   * (runtime/wire/futex_proxy.ts, `PARKED.CALL`).
   */
  setEventLoopBusy(busy: boolean, reason?: string): void;
  /** Asks the main thread to end the stub once the records sent so far are out. */
  requestExit(code: StubExitCode): void;
  /**
   * Blocks on the Worker's doorbell (the idle sleep between batches).
   *
   * @returns What woke it, or `undefined` when the Worker may not block now.
   */
  sleepOnDoorbell(): DoorbellWake | undefined;
  /**
   * From now on (until turned off), the idle Worker's asynchronous wait for
   * work sleeps in its event loop, needing no ticks (after a whole tick with
   * no record).
   */
  sleepInEventLoop(on: boolean): void;
}

/**
 * Views the control page and builds the Worker's ends of both rings.
 *
 * @param control The control page (a transferred view of its 4096 bytes).
 * @param proxy The futex proxy buffer shared with the main thread.
 * @param doorbell The Worker's doorbells: an idle Worker sleeps on its own
 * and rings the parent's (runtime/wire/doorbell.ts); without them every
 * sleep and wake goes through the main thread.
 * @param timersPending Whether the model has timers pending
 * (runtime/worker/timers.ts): a Worker asleep on its doorbell is ticked
 * often then, and rarely otherwise. Without it, always often.
 * @returns The link.
 * @throws {RangeError} If `control` is not a control page.
 */
export function openParentLink(
  control: ArrayBuffer,
  proxy: SharedArrayBuffer,
  doorbell?: Doorbell,
  timersPending?: () => boolean,
): ParentLink {
  if (!(control instanceof ArrayBuffer) || control.byteLength !== CONTROL_SIZE) {
    throw new RangeError("the control page view must be exactly one control page");
  }
  const client = new FutexProxyClient(
    proxy,
    { ...DEFAULT_CLIENT_TIMING, timersPending },
    doorbell,
  );
  const busyReasons = new Set<string>();
  return {
    toStub: new Ring(control, CONTROL.TO_STUB, client.waiter),
    toParent: new Ring(control, CONTROL.TO_PARENT, client.waiter),
    setEventLoopBusy: (busy, reason = "decoupled") => {
      if (busy) busyReasons.add(reason);
      else busyReasons.delete(reason);
      const calls = busyReasons.has("bls");
      client.setEventLoopBusy(busyReasons.size > (calls ? 1 : 0), calls);
    },
    requestExit: (code) => client.requestExit(code),
    sleepOnDoorbell: () => client.sleepOnDoorbellNow(),
    sleepInEventLoop: (on) => client.sleepInEventLoop(on),
  };
}
