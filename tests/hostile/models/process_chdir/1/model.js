/**
 * Hostile fixture `process_chdir` (tests/hostile/hostile_test.ts): calls
 * node's process.chdir("/"), which would change the working directory of
 * the whole stub process, the trusted main thread's included.
 *
 * The model around the attack is ../../../hostile_shell.js, which the test
 * copies beside this file.
 *
 * @module
 */

import process from "node:process";
import { hostileModel } from "./hostile_shell.js";

/** The attack; may return "huge" or "malformed" to shape the answer. */
// deno-lint-ignore require-await
async function attack(_requests, _port) {
  process.chdir("/");
}

export default hostileModel(attack);
