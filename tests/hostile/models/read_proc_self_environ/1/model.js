/**
 * Hostile fixture `read_proc_self_environ` (tests/hostile/hostile_test.ts): reads /proc/self/environ for the stub's environment.
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
  Deno.readTextFileSync("/proc/self/environ");
}

export default hostileModel(attack);
