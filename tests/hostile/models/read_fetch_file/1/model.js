/**
 * Hostile fixture `read_fetch_file` (tests/hostile/hostile_test.ts): reads /etc/passwd with fetch(file://).
 *
 * The model around the attack is ../../../hostile_shell.js, which the test
 * copies beside this file.
 *
 * @module
 */

import { hostileModel } from "./hostile_shell.js";

/** The attack; may return "huge" or "malformed" to shape the answer. */
async function attack(_requests, _port) {
  await fetch("file:///etc/passwd");
}

export default hostileModel(attack);
