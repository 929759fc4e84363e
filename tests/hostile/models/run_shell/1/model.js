/**
 * Hostile fixture `run_shell` (tests/hostile/hostile_test.ts): runs /bin/sh.
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
  new Deno.Command("/bin/sh", { args: ["-c", "touch /tmp/tdn_hostile_ran"] }).outputSync();
}

export default hostileModel(attack);
