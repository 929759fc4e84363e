/**
 * Hostile fixture `import_npm` (tests/hostile/hostile_test.ts): imports an npm package nobody prepared.
 *
 * The model around the attack is ../../../hostile_shell.js, which the test
 * copies beside this file.
 *
 * @module
 */

import { hostileModel } from "./hostile_shell.js";

/** The attack; may return "huge" or "malformed" to shape the answer. */
async function attack(_requests, _port) {
  await import(["npm:left-pad", "1.3.0"].join("@"));
}

export default hostileModel(attack);
