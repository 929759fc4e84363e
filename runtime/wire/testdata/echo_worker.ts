/**
 * Test Worker for ring_test.ts: echoes every record from `toWorker` back on
 * `toMain` with `id + 1`, until a record of kind 0 arrives. Waits with
 * `popAsync` (as the model's Worker does) or blocking `pop`.
 *
 * @module
 */

import { openWorkerChannel } from "../worker_channel.ts";

self.addEventListener("message", async (event: Event) => {
  const { buffer, blocking } = (event as MessageEvent<{
    buffer: SharedArrayBuffer;
    blocking: boolean;
  }>).data;
  const channel = openWorkerChannel(buffer);
  for (;;) {
    const record = blocking ? channel.toWorker.pop() : await channel.toWorker.popAsync();
    if (record === undefined) continue;
    if (record.kind === 0) break;
    channel.toMain.push({ ...record, id: record.id + 1n });
  }
  self.close();
});
