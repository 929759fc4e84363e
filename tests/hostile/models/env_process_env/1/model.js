/**
 * Hostile fixture `env_process_env` (tests/hostile/hostile_test.ts): reads process.env.PATH through node.
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
  void process.env.PATH;
}

export default hostileModel(attack);
