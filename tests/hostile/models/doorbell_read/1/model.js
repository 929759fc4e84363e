/**
 * Hostile fixture `doorbell_read` (tests/hostile/hostile_test.ts): reads
 * descriptor 0 through node:fs inside its execute. Descriptor 0 is the
 * stub's own doorbell, which the runtime reads while the Worker sleeps;
 * nobody rings it while the Worker runs a batch, so the read blocks the
 * model's own Worker until the execute deadline ends the stub. Nothing
 * beyond its own request is harmed, and a new stub serves the next one.
 *
 * The model around the attack is ../../../hostile_shell.js, which the test
 * copies beside this file.
 *
 * @module
 */

import { hostileModel } from "./hostile_shell.js";
import fs from "node:fs";

/** The attack; may return "huge" or "malformed" to shape the answer. */
function attack(_requests, _port) {
  fs.readSync(0, new Uint8Array(64));
  return undefined;
}

export default hostileModel(attack);
