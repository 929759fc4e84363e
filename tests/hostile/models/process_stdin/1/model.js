/**
 * Hostile fixture `process_stdin` (tests/hostile/hostile_test.ts): reads
 * node's process.stdin, which is the Worker's doorbell (the pipe its
 * runtime sleeps on between batches): bytes taken there would be wake-ups
 * the runtime never sees. The runtime loads node's process only when the
 * model does, after the realm is hardened; the model must be refused and
 * still serve its next request.
 *
 * The model around the attack is ../../../hostile_shell.js, which the test
 * copies beside this file.
 *
 * @module
 */

import process from "node:process";
import { hostileModel } from "./hostile_shell.js";

/** The attack; may return "huge" or "malformed" to shape the answer. */
function attack(_requests, _port) {
  // Whatever the stream does with the refusal (throw now, or emit "error"
  // later), the attack fails; data would mean the doorbell was read.
  return new Promise((resolve, reject) => {
    process.stdin.once("error", reject);
    process.stdin.once("data", resolve);
    process.stdin.read();
  });
}

export default hostileModel(attack);
