/**
 * Hostile fixture `deno_exit` (tests/hostile/hostile_test.ts): calls Deno.exit(0).
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
  Deno.exit(0);
}

export default hostileModel(attack);
