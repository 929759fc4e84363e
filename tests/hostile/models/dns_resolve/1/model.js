/**
 * Hostile fixture `dns_resolve` (tests/hostile/hostile_test.ts): resolves a name with Deno.resolveDns.
 *
 * The model around the attack is ../../../hostile_shell.js, which the test
 * copies beside this file.
 *
 * @module
 */

import { hostileModel } from "./hostile_shell.js";

/** The attack; may return "huge" or "malformed" to shape the answer. */
async function attack(_requests, _port) {
  await Deno.resolveDns("example.com", "A");
}

export default hostileModel(attack);
