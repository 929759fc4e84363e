/**
 * Hostile fixture `run_child_process` (tests/hostile/hostile_test.ts): runs a shell through node:child_process.
 *
 * The model around the attack is ../../../hostile_shell.js, which the test
 * copies beside this file.
 *
 * @module
 */

import { hostileModel } from "./hostile_shell.js";
import childProcess from "node:child_process";

/** The attack; may return "huge" or "malformed" to shape the answer. */
// deno-lint-ignore require-await
async function attack(_requests, _port) {
  childProcess.execSync("touch /tmp/tdn_hostile_ran");
}

export default hostileModel(attack);
