/**
 * Hostile fixture `malformed_output` (tests/hostile/hostile_test.ts): answers objects that are not responses.
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
  return "malformed";
}

export default hostileModel(attack);
