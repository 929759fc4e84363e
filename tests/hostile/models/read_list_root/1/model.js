/**
 * Hostile fixture `read_list_root` (tests/hostile/hostile_test.ts): lists the root directory.
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
  for (const entry of Deno.readDirSync("/")) void entry;
}

export default hostileModel(attack);
