/**
 * Hostile fixture `sys_node_cpus` (tests/hostile/hostile_test.ts): asks node:os for the CPUs.
 *
 * The model around the attack is ../../../hostile_shell.js, which the test
 * copies beside this file.
 *
 * @module
 */

import { hostileModel } from "./hostile_shell.js";
import os from "node:os";

/** The attack; may return "huge" or "malformed" to shape the answer. */
// deno-lint-ignore require-await
async function attack(_requests, _port) {
  os.cpus();
}

export default hostileModel(attack);
