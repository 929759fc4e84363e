/**
 * The part every hostile fixture shares (tests/hostile/hostile_test.ts
 * copies this file beside each fixture's model.js): add_sub, except that a
 * request with id "attack" runs the fixture's attack first, so the test can
 * tell whether the model still serves afterwards. `port` is INPUT0[0] of the
 * attack request: the port of a server the test runs. The attack may return
 * "huge" (outputs of 8 Mi elements) or "malformed" (responses that are not
 * responses) to shape the answer.
 *
 * @module
 */

import { InferenceResponse } from "@triton/deno";

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

/**
 * The fixture's model class around its attack.
 *
 * @param attack `async (requests, port) => mode | undefined`.
 * @returns The class to export as the model.
 */
export function hostileModel(attack) {
  return class Hostile {
    /** Runs the attack for an "attack" request, then answers every request. */
    async execute(requests) {
      const attacker = requests.find((request) => request.id === "attack");
      const mode = attacker === undefined
        ? undefined
        : await attack(requests, attacker.input("INPUT0", "FP32").data[0]);
      if (mode === "malformed") return requests.map(() => ({ outputs: "not tensors" }));
      return requests.map((request) => answer(request, mode));
    }
  };
}
