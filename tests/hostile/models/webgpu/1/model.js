/**
 * Hostile fixture `webgpu` (tests/hostile/hostile_test.ts): asks for a GPU adapter.
 *
 * The model around the attack is ../../../hostile_shell.js, which the test
 * copies beside this file.
 *
 * @module
 */

import { hostileModel } from "./hostile_shell.js";

/** The attack; may return "huge" or "malformed" to shape the answer. */
async function attack(_requests, _port) {
  await navigator.gpu.requestAdapter();
}

export default hostileModel(attack);
