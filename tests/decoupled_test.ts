/**
 * End-to-end: a decoupled model (models/stream_text) through the test host
 * and the real backend: several responses per request, sent after execute
 * returned, FINAL closing each request, request and response parameters,
 * the model's logger in Triton's log, and batches in flight at once.
 */

import { assert, assertEquals, assertStringIncludes } from "./harness/assert.ts";
import { exampleModelDir, hasModel } from "./harness/fixtures.ts";
import type { InferRequest } from "./harness/host.ts";
import { findStubPids, waitFor } from "./harness/processes.ts";
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

Deno.test({
  name:
    "decoupled: a stub killed mid-stream fails its open requests naming the instance, then recovers",
  sanitizeOps: false,
  ignore: !hasModel(MODEL),
  fn: () =>
    withHost(async (host) => {
      const model = host.loadModel(MODEL);
      const [stub] = findStubPids(MODEL);
      assert(stub !== undefined, "no stub found");
      // Ten words, 200 ms apart: the stream is still going when the stub dies.
      const pending = model.executeAsync(0, [
        textRequest("long", "a b c d e f g h i j", 200),
      ]);
      await new Promise((resolve) => setTimeout(resolve, 700));
      Deno.kill(stub, "SIGKILL");
      const [killed] = await pending;
      assert(killed.final, "the request was left without a FINAL");
      assertEquals(killed.releaseCount, 1);
      const words = killed.responses.filter((response) => !response.flagsOnly && !response.error);
      assert(words.length >= 1 && words.length < 10, `${words.length} words before the kill`);
      const last = killed.responses[killed.responses.length - 1];
      assert(last.error !== null, "the last response should carry the error");
      assertStringIncludes(last.error.message, "stream_text_0");
      assert(await waitFor(() => !findStubPids(MODEL).includes(stub), 5_000), "not reaped");

      const [next] = model.execute(0, [textRequest("after", "still here")]);
      assertEquals(next.error, null, next.error?.message);
      assertEquals(next.responses.filter((response) => !response.flagsOnly).length, 2);
      model.unload();
    }),
});
