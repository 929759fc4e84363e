/**
 * Hostile fixture `wasm_memory_bomb` (tests/hostile/hostile_test.ts): grows a Wasm memory until something gives.
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
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536 });
  for (let i = 0; i < 4096; i++) memory.grow(1024);
}

export default hostileModel(attack);
