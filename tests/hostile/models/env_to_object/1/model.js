/**
 * Hostile fixture `env_to_object` (tests/hostile/hostile_test.ts): dumps the whole environment.
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
  Deno.env.toObject();
}

export default hostileModel(attack);
