/**
 * Hostile fixture `doorbell_flood` (tests/hostile/hostile_test.ts): writes
 * bytes to descriptor 1 through node:fs while its request is in flight.
 * Descriptor 1 is the parent's doorbell: every byte ends the sleep of the
 * Triton thread that waits for this stub, so a flood would keep a thread of
 * Triton's spinning on CPU outside the stub's limits. Bytes that no record
 * explains break the protocol: the stub is killed and restarted.
 *
 * The model around the attack is ../../../hostile_shell.js, which the test
 * copies beside this file.
 *
 * @module
 */

import { hostileModel } from "./hostile_shell.js";
import fs from "node:fs";

/** The attack; may return "huge" or "malformed" to shape the answer. */
function attack(_requests, _port) {
  const bytes = new Uint8Array(64).fill(0x72);
  return new Promise((resolve) => {
    const started = Date.now();
    const timer = setInterval(() => {
      for (let i = 0; i < 64; i++) {
        try {
          fs.writeSync(1, bytes);
        } catch {
          // A full pipe: the parent has stopped reading it.
        }
      }
      // Well within the suite's 1000 ms deadline: an answer would mean the
      // flood went unnoticed.
      if (Date.now() - started > 600) {
        clearInterval(timer);
        resolve(undefined);
      }
    }, 1);
  });
}

export default hostileModel(attack);
