/**
 * Hostile fixture `write_check_verdict` (tests/hostile/hostile_test.ts):
 * forges a passing type-check verdict in the backend's verdict directory
 * (sandbox/checks/check_verdicts.ts), which would let broken sources skip the check.
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
  const verdict = new URL(
    `../../deno_dir/check_verdicts/${"0".repeat(64)}`,
    import.meta.resolve("@triton/deno"),
  );
  Deno.writeTextFileSync(verdict, '{"passed":true}');
}

export default hostileModel(attack);
