/**
 * Hostile fixture `import_static` (tests/hostile/hostile_test.ts): imports a module outside its directory statically (load time).
 *
 * The model around the attack is ../../../hostile_shell.js, which the test
 * copies beside this file.
 *
 * @module
 */

import { hostileModel } from "./hostile_shell.js";
import "../../outside_module.js";

/** The attack; may return "huge" or "malformed" to shape the answer. */
async function attack(_requests, _port) {
  // The attack is the static import above: the model never loads.
}

export default hostileModel(attack);
