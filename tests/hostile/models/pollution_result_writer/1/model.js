/**
 * Hostile fixture `pollution_result_writer` (tests/hostile/hostile_test.ts): pollutes DataView so the runtime writes garbage records.
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
  const realSetBigUint64 = DataView.prototype.setBigUint64;
  DataView.prototype.setBigUint64 = function (offset, _value, little) {
    return realSetBigUint64.call(this, offset, 0xfffffffffff0n, little);
  };
}

export default hostileModel(attack);
