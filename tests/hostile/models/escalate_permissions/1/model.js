/**
 * Hostile fixture `escalate_permissions` (tests/hostile/hostile_test.ts): asks Deno for every permission, then reads /etc/passwd.
 *
 * The model around the attack is ../../../hostile_shell.js, which the test
 * copies beside this file.
 *
 * @module
 */

import { hostileModel } from "./hostile_shell.js";

/** The attack; may return "huge" or "malformed" to shape the answer. */
async function attack(_requests, _port) {
  for (const name of ["read", "write", "net", "env", "run", "ffi", "sys"]) {
    await Deno.permissions.request({ name });
  }
  Deno.readTextFileSync("/etc/passwd");
}

export default hostileModel(attack);
