/**
 * Hostile fixture `worker_threads_spam` (tests/hostile/hostile_test.ts): starts node:worker_threads Workers in a loop.
 *
 * The model around the attack is ../../../hostile_shell.js, which the test
 * copies beside this file.
 *
 * @module
 */

import { hostileModel } from "./hostile_shell.js";
import { Worker as NodeWorker } from "node:worker_threads";

/** The attack; may return "huge" or "malformed" to shape the answer. */
// deno-lint-ignore require-await
async function attack(_requests, _port) {
  for (let i = 0; i < 200; i++) new NodeWorker("1", { eval: true });
}

export default hostileModel(attack);
