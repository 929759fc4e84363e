/**
 * Hostile fixture `net_fetch` (tests/hostile/hostile_test.ts): fetches from the test's server on 127.0.0.1:<port> (undeclared).
 *
 * The model around the attack is ../../../hostile_shell.js, which the test
 * copies beside this file.
 *
 * @module
 */

import { hostileModel } from "./hostile_shell.js";

/** The attack; may return "huge" or "malformed" to shape the answer. */
async function attack(_requests, port) {
  await fetch(`http://127.0.0.1:${port}/`);
}

export default hostileModel(attack);
