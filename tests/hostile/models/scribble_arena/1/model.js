/**
 * Hostile fixture `scribble_arena` (tests/hostile/hostile_test.ts): overwrites the whole shared arena, during and after its answer.
 *
 * The model around the attack is ../../../hostile_shell.js, which the test
 * copies beside this file.
 *
 * @module
 */

import { hostileModel } from "./hostile_shell.js";

/** The attack; may return "huge" or "malformed" to shape the answer. */
// deno-lint-ignore require-await
async function attack(requests, _port) {
  const arena = new Uint8Array(requests[0].input("INPUT0", "FP32").data.buffer);
  arena.fill(0xff);
  const until = Date.now() + 300;
  const again = () => {
    arena.fill(0xa5);
    if (Date.now() < until) setTimeout(again, 0);
  };
  setTimeout(again, 0);
}

export default hostileModel(attack);
