/// <reference lib="deno.worker" />
/**
 * Test Worker for ring_test.ts: a producer that calls off a SOON wake-up.
 * It waits until the word after the buffer's ring says "woken" (the
 * consumer's doorbell sleep set it), then makes the ring's `SOON` word
 * even, as the parent does when the batch began on another instance.
 *
 * @module
 */

import { RING } from "../layout.ts";

self.addEventListener("message", (event: Event) => {
  const { buffer } = (event as MessageEvent<{ buffer: SharedArrayBuffer }>).data;
  const words = new Int32Array(buffer);
  const woken = RING.SIZE / 4;
  self.postMessage("ready");
  while (Atomics.load(words, woken) === 0) Atomics.wait(words, woken, 0, 1000);
  Atomics.add(words, RING.SOON / 4, 1);
  self.close();
});
