/**
 * Hostile fixture `read_proc_self_maps` (tests/hostile/hostile_test.ts): reads /proc/self/maps to find the shared memory and FFI library.
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
  Deno.readTextFileSync("/proc/self/maps");
}

export default hostileModel(attack);
