/**
 * Hostile fixture `fd_exhaustion` (tests/hostile/hostile_test.ts): opens its own file until descriptors run out.
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
  const files = [];
  for (let i = 0; i < 100000; i++) {
    files.push(Deno.openSync(new URL("./model.js", import.meta.url)));
  }
}

export default hostileModel(attack);
