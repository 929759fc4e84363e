/**
 * Hostile fixture `write_symlink` (tests/hostile/hostile_test.ts): creates a symbolic link to /etc/passwd in its own directory.
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
  Deno.symlinkSync("/etc/passwd", new URL("./made_link", import.meta.url));
}

export default hostileModel(attack);
