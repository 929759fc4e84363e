/**
 * Test Worker for futex_proxy_test.ts and runtime/stub/futex_service_test.ts:
 * plays the model's Worker on a control page held in a SharedArrayBuffer,
 * sleeping and waking through the futex proxy.
 *
 * Scripts:
 * - `"pop-async"`: starts a 1 ms timer, pops one record from `to_stub`
 *   without spinning (so it parks at once) and reports its id and whether
 *   the timer fired meanwhile;
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
}

/** What the `pop-async` script reports. */
export interface ProxyWorkerReport {
  /** Id of the record popped. */
  id: bigint;
  /** Whether a timer fired while the Worker was parked. */
  timerFired: boolean;
}

self.addEventListener("message", async (event: Event) => {
  const { proxy, control, script } = (event as MessageEvent<ProxyWorkerStart>).data;
  const client = new FutexProxyClient(proxy, { eventLoopSliceMs: 5 });
  const toStub = new Ring(control, CONTROL.TO_STUB, client.waiter);
  const toParent = new Ring(control, CONTROL.TO_PARENT, client.waiter);
  if (script === "pop-async") {
    let timerFired = false;
    setTimeout(() => (timerFired = true), 1);
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
