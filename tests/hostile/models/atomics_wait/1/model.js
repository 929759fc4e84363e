/**
 * Hostile fixture `atomics_wait` (tests/hostile/hostile_test.ts): waits on Atomics forever.
 *
 * The model around the attack is ../../../hostile_shell.js, which the test
 * copies beside this file.
 *
 * @module
 */

import { hostileModel } from "./hostile_shell.js";

/** The attack; may return "huge" or "malformed" to shape the answer. */
// deno-lint-ignore require-await
async function attack(_requests, _port) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}

export default hostileModel(attack);
