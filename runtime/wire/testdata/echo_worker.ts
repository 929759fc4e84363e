/**
 * Test Worker for ring_test.ts: echoes every record from the buffer's first
 * ring back on its second with `id + 1`, until a record of kind 0 arrives.
 * Waits with `popAsync` or blocking `pop`.
 *
 * @module
 */

import { RING } from "../layout.ts";
import { atomicsWaiter, Ring } from "../ring.ts";

self.addEventListener("message", async (event: Event) => {
  const { buffer, blocking } = (event as MessageEvent<{
    buffer: SharedArrayBuffer;
    blocking: boolean;
  }>).data;
  const toWorker = new Ring(buffer, 0, atomicsWaiter);
  const toMain = new Ring(buffer, RING.SIZE, atomicsWaiter);
  for (;;) {
    const record = blocking ? toWorker.pop() : await toWorker.popAsync();
    if (record === undefined) continue;
    if (record.kind === 0) break;
    toMain.push({ ...record, id: record.id + 1n });
  }
  self.close();
});
