/**
 * Test Worker for futex_proxy_test.ts and runtime/stub/futex_service_test.ts:
 * plays the model's Worker on a control page held in a SharedArrayBuffer,
 * sleeping and waking through the futex proxy.
 *
 * Scripts:
 * - `"pop-async"`: starts a timer (`timerMs`) that sets word 0 of `flags`, pops
 *   one record from `to_stub` without spinning (so it parks at once, in
 *   slices of `sliceMs`) and reports its id and whether the timer fired
 *   meanwhile;
 * - `"echo"`: pops one record (blocking), pushes it back on `to_parent`
 *   with `id + 1`, then asks the main thread to exit with 0.
 *
 * @module
 */

import { FutexProxyClient } from "../futex_proxy.ts";
import { CONTROL } from "../layout.ts";
import { Ring } from "../ring.ts";

/** The message that starts a script. */
export interface ProxyWorkerStart {
  /** The futex proxy buffer. */
  proxy: SharedArrayBuffer;
  /** The control page. */
  control: SharedArrayBuffer;
  /** What to do. */
  script: "pop-async" | "echo";
  /** The proxy client's blocking slice (`eventLoopSliceMs`); 5 if absent. */
  sliceMs?: number;
  /** `pop-async`: its timer stores 1 in word 0 when it fires. */
  flags?: SharedArrayBuffer;
  /** `pop-async`: the timer's delay; 1 if absent. */
  timerMs?: number;
}

/** What the `pop-async` script reports. */
export interface ProxyWorkerReport {
  /** Id of the record popped. */
  id: bigint;
  /** Whether a timer fired while the Worker was parked. */
  timerFired: boolean;
}

self.addEventListener("message", async (event: Event) => {
  const { proxy, control, script, sliceMs, flags, timerMs } =
    (event as MessageEvent<ProxyWorkerStart>).data;
  const client = new FutexProxyClient(proxy, { eventLoopSliceMs: sliceMs ?? 5 });
  const toStub = new Ring(control, CONTROL.TO_STUB, client.waiter);
  const toParent = new Ring(control, CONTROL.TO_PARENT, client.waiter);
  if (script === "pop-async") {
    let timerFired = false;
    setTimeout(() => {
      timerFired = true;
      if (flags !== undefined) Atomics.store(new Int32Array(flags), 0, 1);
    }, timerMs ?? 1);
    const record = await toStub.popAsync(Infinity, 0);
    const report: ProxyWorkerReport = { id: record?.id ?? -1n, timerFired };
    (self as unknown as { postMessage(message: ProxyWorkerReport): void }).postMessage(report);
  } else {
    const record = toStub.pop(Infinity, 0);
    if (record !== undefined) toParent.push({ ...record, id: record.id + 1n });
    client.requestExit(0);
  }
  self.close();
});
