/**
 * Hostile fixture `write_tmp` (tests/hostile/hostile_test.ts): writes /tmp/tdn_hostile_written.
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
  Deno.writeTextFileSync("/tmp/tdn_hostile_written", "owned");
}

export default hostileModel(attack);
