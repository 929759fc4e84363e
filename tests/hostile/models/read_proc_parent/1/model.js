/**
 * Hostile fixture `read_proc_parent` (tests/hostile/hostile_test.ts): reads the parent's (Triton's) command line through /proc/<ppid>.
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
  Deno.readTextFileSync(`/proc/${process.ppid}/cmdline`);
}

export default hostileModel(attack);
