/**
 * Hostile fixture `read_runtime_source` (tests/hostile/hostile_test.ts): reads the trusted stub's own source next to the runtime it was given.
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
  Deno.readTextFileSync(new URL("../stub/main.ts", import.meta.resolve("@triton/deno")));
}

export default hostileModel(attack);
