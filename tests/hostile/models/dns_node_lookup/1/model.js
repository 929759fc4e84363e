/**
 * Hostile fixture `dns_node_lookup` (tests/hostile/hostile_test.ts): resolves a name with node:dns.
 *
 * The model around the attack is ../../../hostile_shell.js, which the test
 * copies beside this file.
 *
 * @module
 */

import { hostileModel } from "./hostile_shell.js";
import dns from "node:dns";

/** The attack; may return "huge" or "malformed" to shape the answer. */
async function attack(_requests, _port) {
  await dns.promises.lookup("example.com");
}

export default hostileModel(attack);
