/**
 * Hostile fixture `signal_kill_group` (tests/hostile/hostile_test.ts): signals its whole process group through node.
 *
 * The model around the attack is ../../../hostile_shell.js, which the test
 * copies beside this file.
 *
 * @module
 */

import { hostileModel } from "./hostile_shell.js";
import process from "node:process";

/** The attack; may return "huge" or "malformed" to shape the answer. */
// deno-lint-ignore require-await
async function attack(_requests, _port) {
  process.kill(-process.pid, "SIGTERM");
}

export default hostileModel(attack);
