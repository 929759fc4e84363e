/**
 * Hostile fixture `write_own_directory` (tests/hostile/hostile_test.ts): plants a file in its own model directory.
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
  Deno.writeTextFileSync(new URL("./planted.js", import.meta.url), "export {};");
}

export default hostileModel(attack);
