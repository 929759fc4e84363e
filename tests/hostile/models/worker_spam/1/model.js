/**
 * Hostile fixture `worker_spam` (tests/hostile/hostile_test.ts): starts Workers in a loop.
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
  for (let i = 0; i < 200; i++) {
    new Worker(new URL("./model.js", import.meta.url), { type: "module" });
  }
}

export default hostileModel(attack);
