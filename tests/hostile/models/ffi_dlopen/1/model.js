/**
 * Hostile fixture `ffi_dlopen` (tests/hostile/hostile_test.ts): opens libc with Deno.dlopen.
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
  Deno.dlopen("libc.so.6", { getpid: { parameters: [], result: "i32" } });
}

export default hostileModel(attack);
