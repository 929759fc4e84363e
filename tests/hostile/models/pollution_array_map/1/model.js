/**
 * Hostile fixture `pollution_array_map` (tests/hostile/hostile_test.ts): replaces Array.prototype.map, which the runtime uses for every batch.
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
  Array.prototype.map = function () {
    return [{ not: "a response" }];
  };
}

export default hostileModel(attack);
