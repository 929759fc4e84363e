/**
 * Hostile fixture `read_absolute` (tests/hostile/hostile_test.ts): reads /etc/passwd by its absolute path.
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
  Deno.readTextFileSync("/etc/passwd");
}

export default hostileModel(attack);
