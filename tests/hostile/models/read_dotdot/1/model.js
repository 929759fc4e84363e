/**
 * Hostile fixture `read_dotdot` (tests/hostile/hostile_test.ts): climbs out of its directory with ../ to read /etc/hostname.
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
  Deno.readTextFileSync(new URL("../../../../../../../../../../etc/hostname", import.meta.url));
}

export default hostileModel(attack);
