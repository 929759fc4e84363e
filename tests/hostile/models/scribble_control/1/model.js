/**
 * Hostile fixture `scribble_control` (tests/hostile/hostile_test.ts): captures the control page and fills the rings with garbage.
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
  const realSetUint16 = DataView.prototype.setUint16;
  DataView.prototype.setUint16 = function (offset, value, little) {
    if (this.buffer.byteLength === 4096) new Uint8Array(this.buffer, 64).fill(0x5a);
    return realSetUint16.call(this, offset, value, little);
  };
}

export default hostileModel(attack);
