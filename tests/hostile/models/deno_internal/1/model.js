/**
 * Hostile fixture `deno_internal` (tests/hostile/hostile_test.ts): reaches for Deno[Deno.internal].core.
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
  Deno[Deno.internal].core.ops.op_fs_read_file_sync;
}

export default hostileModel(attack);
