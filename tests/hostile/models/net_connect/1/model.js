/**
 * Hostile fixture `net_connect` (tests/hostile/hostile_test.ts): opens a TCP connection to 127.0.0.1:<port> (undeclared).
 *
 * The model around the attack is ../../../hostile_shell.js, which the test
 * copies beside this file.
 *
 * @module
 */

import { hostileModel } from "./hostile_shell.js";

/** The attack; may return "huge" or "malformed" to shape the answer. */
async function attack(_requests, port) {
  (await Deno.connect({ hostname: "127.0.0.1", port })).close();
}

export default hostileModel(attack);
