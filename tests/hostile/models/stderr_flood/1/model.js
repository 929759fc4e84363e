/**
 * Hostile fixture `stderr_flood` (tests/hostile/hostile_test.ts): writes 100000 chunks to stderr.
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
  const chunk = new TextEncoder().encode("flood\n");
  for (let i = 0; i < 100000; i++) Deno.stderr.writeSync(chunk);
}

export default hostileModel(attack);
