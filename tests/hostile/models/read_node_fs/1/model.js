/**
 * Hostile fixture `read_node_fs` (tests/hostile/hostile_test.ts): reads /etc/passwd through node:fs.
 *
 * The model around the attack is ../../../hostile_shell.js, which the test
 * copies beside this file.
 *
 * @module
 */

import { hostileModel } from "./hostile_shell.js";
import fs from "node:fs";

/** The attack; may return "huge" or "malformed" to shape the answer. */
// deno-lint-ignore require-await
async function attack(_requests, _port) {
  fs.readFileSync("/etc/passwd");
}

export default hostileModel(attack);
