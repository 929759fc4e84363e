/**
 * Hostile fixture `import_relative` (tests/hostile/hostile_test.ts): imports a module beside its directory with ../.
 *
 * The model around the attack is ../../../hostile_shell.js, which the test
 * copies beside this file.
 *
 * @module
 */

import { hostileModel } from "./hostile_shell.js";

/** The attack; may return "huge" or "malformed" to shape the answer. */
async function attack(_requests, _port) {
  await import(["..", "..", "outside_module.js"].join("/"));
}

export default hostileModel(attack);
