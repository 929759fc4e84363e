/**
 * Hostile fixture `import_runtime` (tests/hostile/hostile_test.ts): imports the trusted stub's entry point.
 *
 * The model around the attack is ../../../hostile_shell.js, which the test
 * copies beside this file.
 *
 * @module
 */

import { hostileModel } from "./hostile_shell.js";

/** The attack; may return "huge" or "malformed" to shape the answer. */
async function attack(_requests, _port) {
  await import(new URL("../stub/main.ts", import.meta.resolve("@triton/deno")).href);
}

export default hostileModel(attack);
