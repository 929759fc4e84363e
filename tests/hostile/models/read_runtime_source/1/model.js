/**
 * Hostile fixture `read_runtime_source` (tests/hostile/hostile_test.ts): reads the trusted stub's own source next to the runtime it was given.
 *
 * A request with id "attack" runs the attack first; every request is
 * otherwise answered like add_sub, so the test can tell whether the model
 * still serves afterwards. `port` is INPUT0[0] of the attack request: the
 * port of a server the test runs.
 *
 * @module
 */

import { InferenceResponse } from "@triton/deno";

/** The attack; may return "huge" or "malformed" to shape the answer. */
// deno-lint-ignore require-await
async function attack(_requests, _port) {
  Deno.readTextFileSync(new URL("../stub/main.ts", import.meta.resolve("@triton/deno")));
}

function answer(request, mode) {
  const a = request.input("INPUT0", "FP32").data;
  const b = request.input("INPUT1", "FP32").data;
  const length = mode === "huge" ? 8 * 1024 * 1024 : a.length;
  const sum = request.allocateOutput("OUTPUT0", "FP32", [length]);
  const difference = request.allocateOutput("OUTPUT1", "FP32", [length]);
  for (let i = 0; i < a.length; i++) {
    sum.data[i] = a[i] + b[i];
    difference.data[i] = a[i] - b[i];
  }
  return new InferenceResponse([sum, difference]);
}

/** add_sub, except that a request with id "attack" runs the attack first. */
export default class Hostile {
  /** Runs the attack for an "attack" request, then answers every request. */
  async execute(requests) {
    const attacker = requests.find((request) => request.id === "attack");
    const mode = attacker === undefined
      ? undefined
      : await attack(requests, attacker.input("INPUT0", "FP32").data[0]);
    if (mode === "malformed") return requests.map(() => ({ outputs: "not tensors" }));
    return requests.map((request) => answer(request, mode));
  }
}
