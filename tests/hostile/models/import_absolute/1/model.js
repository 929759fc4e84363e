/**
 * Hostile fixture `import_absolute` (tests/hostile/hostile_test.ts): imports a module outside its directory by absolute URL (written by the test).
 *
 * The model around the attack is ../../../hostile_shell.js, which the test
 * copies beside this file.
 *
 * @module
 */

import { hostileModel } from "./hostile_shell.js";

/** The attack; may return "huge" or "malformed" to shape the answer. */
async function attack(_requests, _port) {
  await import(["file:///tmp", "tdn_hostile_outside.js"].join("/"));
}

export default hostileModel(attack);
