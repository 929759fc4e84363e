/**
 * Hostile fixture `net_listen` (tests/hostile/hostile_test.ts): listens on a port.
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
  Deno.listen({ hostname: "127.0.0.1", port: 0 }).close();
}

export default hostileModel(attack);
