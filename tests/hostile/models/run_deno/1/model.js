/**
 * Hostile fixture `run_deno` (tests/hostile/hostile_test.ts): runs the deno binary the trusted thread may run.
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
  new Deno.Command(Deno.execPath(), { args: ["--version"] }).outputSync();
}

export default hostileModel(attack);
