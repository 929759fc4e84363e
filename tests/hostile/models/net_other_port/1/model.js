/**
 * Hostile fixture `net_other_port` (tests/hostile/hostile_test.ts): is granted 127.0.0.1:9 and connects to another port.
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
