/**
 * Hostile fixture `env_get` (tests/hostile/hostile_test.ts): reads $HOME.
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
  Deno.env.get("HOME");
}

export default hostileModel(attack);
