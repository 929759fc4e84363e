/**
 * Hostile fixture `read_symlink` (tests/hostile/hostile_test.ts): ships a symbolic link to /etc/passwd (made by the test) and reads through it.
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
  Deno.readTextFileSync(new URL("./leak", import.meta.url));
}

export default hostileModel(attack);
