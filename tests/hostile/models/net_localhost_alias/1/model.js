/**
 * Hostile fixture `net_localhost_alias` (tests/hostile/hostile_test.ts): is granted localhost:<port> and connects to 127.0.0.1:<port>.
 *
 * The model around the attack is ../../../hostile_shell.js, which the test
 * copies beside this file.
 *
 * @module
 */

import { hostileModel } from "./hostile_shell.js";

/** The attack; may return "huge" or "malformed" to shape the answer. */
async function attack(_requests, _port) {
  (await Deno.connect({ hostname: "127.0.0.1", port: 9 })).close();
}

export default hostileModel(attack);
