/**
 * Hostile fixture `read_hardlink` (tests/hostile/hostile_test.ts): ships a hard link to a file outside its directory (made by the test).
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
  Deno.readTextFileSync(new URL("./hard", import.meta.url));
}

export default hostileModel(attack);
