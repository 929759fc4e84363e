/**
 * End-to-end: a decoupled model (models/stream_text) through the test host
 * and the real backend: several responses per request, sent after execute
 * returned, FINAL closing each request, request and response parameters,
 * the model's logger in Triton's log, and batches in flight at once.
 */

import { assert, assertEquals } from "./harness/assert.ts";
import { exampleModelDir, hasModel } from "./harness/fixtures.ts";
import type { InferRequest } from "./harness/host.ts";
import { withHost } from "./harness/session.ts";

const MODEL = exampleModelDir("stream_text");

function textRequest(id: string, text: string, delayMs = 0): InferRequest {
  return {
    id,
    inputs: [{ name: "TEXT", datatype: "BYTES", shape: [1], data: [text] }],
    parameters: delayMs > 0 ? { delay_ms: delayMs } : {},
  };
}

Deno.test({
  name: "decoupled: one response per word, then FINAL, with parameters both ways",
  ignore: !hasModel(MODEL),
  fn: () =>
    withHost((host) => {
      const model = host.loadModel(MODEL);
      const [result] = model.execute(0, [textRequest("r1", "the quick brown fox", 1)]);
      assertEquals(result.error, null);
      assertEquals(result.releaseCount, 1);
      assert(result.final, "no FINAL");
      const words = result.responses.filter((response) => !response.flagsOnly);
      assertEquals(words.length, 4);
      assertEquals(
        words.map((response) => {
          const token = response.outputs[0];
          return token.kind === "bytes" ? token.strings[0] : "?";
        }),
        ["the", "quick", "brown", "fox"],
      );
      assertEquals(words.map((response) => response.parameters["index"]), [0, 1, 2, 3]);
      const last = result.responses[result.responses.length - 1];
      assertEquals(last.flags & 1, 1, "the last response carries FINAL");
      assertEquals(result.statsReports, 1);
      assert(host.log().includes("streaming 4 words for request 'r1'"), host.log());
      model.unload();
    }),
});

Deno.test({
  name: "decoupled: several requests of one batch stream independently",
  ignore: !hasModel(MODEL),
  fn: () =>
    withHost((host) => {
      const model = host.loadModel(MODEL);
      const results = model.execute(0, [
        textRequest("a", "one two"),
        textRequest("b", "three four five", 2),
        textRequest("c", ""),
      ]);
      assertEquals(results.map((r) => r.error), [null, null, null]);
      assertEquals(
        results.map((r) => r.responses.filter((response) => !response.flagsOnly).length),
        [2, 3, 0],
      );
      assert(results.every((r) => r.final && r.releaseCount === 1));
      model.unload();
    }),
});
