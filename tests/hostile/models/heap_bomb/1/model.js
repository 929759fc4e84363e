/**
 * Hostile fixture `heap_bomb` (tests/hostile/hostile_test.ts): fills its V8 heap.
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
  const keep = [];
  for (;;) keep.push(new Array(1 << 16).fill(keep.length));
}

export default hostileModel(attack);
