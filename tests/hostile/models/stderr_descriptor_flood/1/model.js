/**
 * Hostile fixture `stderr_descriptor_flood` (tests/hostile/hostile_test.ts):
 * writes 100000 lines to descriptor 2 through node:fs and node's raw debug
 * print, past the hardened `Deno.stderr`. Descriptor 2 is a pipe the
 * backend reads into Triton's log at a bounded rate.
 *
 * The model around the attack is ../../../hostile_shell.js, which the test
 * copies beside this file.
 *
 * @module
 */

import { hostileModel } from "./hostile_shell.js";
import fs from "node:fs";
import process from "node:process";

/** The attack; may return "huge" or "malformed" to shape the answer. */
// deno-lint-ignore require-await
async function attack(_requests, _port) {
  const line = new TextEncoder().encode("flood\n");
  for (let i = 0; i < 100000; i++) fs.writeSync(2, line);
  for (let i = 0; i < 100; i++) process._rawDebug("flood");
}

export default hostileModel(attack);
