/// <reference lib="deno.worker" />
/**
 * Test Worker for ring_test.ts: a producer that announces its record. It
 * waits until the word after the buffer's ring says "announced" (the
 * consumer's doorbell sleep set it), then publishes one record with id 7.
 *
 * @module
 */

import { RING } from "../layout.ts";
import { atomicsWaiter, Ring } from "../ring.ts";

self.addEventListener("message", (event: Event) => {
  const { buffer } = (event as MessageEvent<{ buffer: SharedArrayBuffer }>).data;
  const ring = new Ring(buffer, 0, atomicsWaiter);
  const words = new Int32Array(buffer);
  const announced = RING.SIZE / 4;
  self.postMessage("ready");
  while (Atomics.load(words, announced) === 0) Atomics.wait(words, announced, 0, 1000);
  ring.push({ kind: 1, flags: 0, aux: 0, id: 7n, offset: 0, length: 0 });
  self.close();
});
