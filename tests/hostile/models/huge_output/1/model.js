/**
 * Hostile fixture `huge_output` (tests/hostile/hostile_test.ts): answers 32 MiB of output while its limit is 1 MiB.
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
  return "huge";
}

export default hostileModel(attack);
