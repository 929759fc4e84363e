/**
 * Hostile fixture `stdout_flood` (tests/hostile/hostile_test.ts): prints 100000 lines.
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
  for (let i = 0; i < 100000; i++) console.log(`flood ${i}`);
}

export default hostileModel(attack);
