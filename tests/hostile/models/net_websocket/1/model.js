/**
 * Hostile fixture `net_websocket` (tests/hostile/hostile_test.ts): opens a WebSocket to 127.0.0.1:<port> (undeclared).
 *
 * The model around the attack is ../../../hostile_shell.js, which the test
 * copies beside this file.
 *
 * @module
 */

import { hostileModel } from "./hostile_shell.js";

/** The attack; may return "huge" or "malformed" to shape the answer. */
// deno-lint-ignore require-await
async function attack(_requests, port) {
  new WebSocket(`ws://127.0.0.1:${port}/`);
}

export default hostileModel(attack);
