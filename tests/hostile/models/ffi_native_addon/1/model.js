/**
 * Hostile fixture `ffi_native_addon` (tests/hostile/hostile_test.ts): loads a native addon (a .node file the test writes).
 *
 * The model around the attack is ../../../hostile_shell.js, which the test
 * copies beside this file.
 *
 * @module
 */

import { hostileModel } from "./hostile_shell.js";
import { createRequire } from "node:module";

/** The attack; may return "huge" or "malformed" to shape the answer. */
// deno-lint-ignore require-await
async function attack(_requests, _port) {
  createRequire(import.meta.url)("./addon.node");
}

export default hostileModel(attack);
