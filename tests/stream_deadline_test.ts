/**
 * End-to-end, through the stand-in: decoupled requests that the model never
 * closes are ended by the backend, so they cannot pile up (issue: 200
 * abandoned streams slowed every model on the server, and shutdown never
 * finished).
 *
 * - A request that goes without a response for longer than
 *   `deno.stream_idle_timeout_ms` once `execute` returned ends with an
 *   UNAVAILABLE error saying so.
 * - A request Triton cancelled that the model does not close within 5 s
 *   ends as CANCELLED.
 *
 * Either way the stub keeps running (the model is not at fault for the
 * other requests), the model's sender for the request closes (a send throws
 * CANCELLED), and what the model sent meanwhile is dropped without harm.
 * The fixture (tests/fixtures/decoupled_stubborn) sets the limit to 400 ms.
 *
 * @module
 */

import { assert, assertEquals, assertStringIncludes } from "./harness/assert.ts";
import { fixtureDir } from "./harness/fixtures.ts";
import type { InferRequest, RequestResult, SentResponse } from "./harness/host.ts";
import { withHost } from "./harness/session.ts";

const STUBBORN = fixtureDir("decoupled_stubborn");

/**
 * The fixture's configuration with a silence limit no stream reaches: for
 * streams that keep sending, so that a machine too busy to run the model's
 * 50 ms timer for 400 ms cannot end them early.
 */
function withoutSilenceLimit(): string {
  const text = Deno.readTextFileSync(`${STUBBORN}/config.pbtxt`);
  return text.replace('string_value: "400"', 'string_value: "60000"');
}
const FINAL = 1;
const UNAVAILABLE = 4;
const CANCELLED = 7;

function request(id: string, mode: string, value: number, signal?: AbortSignal): InferRequest {
  return {
    id,
    inputs: [{ name: "INPUT0", datatype: "INT32", shape: [1], data: new Int32Array([value]) }],
    parameters: { mode },
    signal,
  };
}

function outputOf(response: SentResponse): number | null {
  const output = response.outputs.find((o) => o.name === "OUTPUT0");
  return output?.kind === "numeric" ? Number(output.data[0]) : null;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Released once, statistics once, ended by an error FINAL. */
function assertEndedWith(result: RequestResult, code: number, words: string): void {
  assert(result.completed && result.final, `request '${result.id}' did not complete`);
  assertEquals([result.releaseCount, result.statsReports], [1, 1], `request '${result.id}'`);
  assert(!result.statsSuccess, `request '${result.id}' counted as a success`);
  const last = result.responses[result.responses.length - 1];
  assertEquals(last.flags & FINAL, FINAL);
  assertEquals(last.error?.code, code, JSON.stringify(last.error));
  assertStringIncludes(last.error!.message, words);
}

Deno.test({
  name:
    "stream deadline: a request silent past deno.stream_idle_timeout_ms ends; the stub serves on",
  sanitizeOps: false,
  fn: () =>
    withHost(async (host) => {
      const model = host.loadModel(STUBBORN);
      const started = performance.now();
      const results = await model.executeAsync(0, [
        request("forgotten-1", "forget", 5),
        request("forgotten-2", "forget", 6),
      ]);
      const elapsed = performance.now() - started;
      results.forEach((result, i) => {
        assertEquals(result.responses.length, 2, `request '${result.id}'`);
        assertEquals(outputOf(result.responses[0]), 5 + i);
        assertEquals(result.responses[0].flags, 0);
        assertEndedWith(result, UNAVAILABLE, "sent no response for 400 ms");
      });
      assert(elapsed >= 400, `ended after ${elapsed.toFixed(0)} ms, before the limit`);
      const log = host.log();
      assertStringIncludes(log, "request 'forgotten-1' got no response for 400 ms");
      assertStringIncludes(log, "deno.stream_idle_timeout_ms");
      // The same Worker (it remembers both senders: the stub was not
      // restarted) sees them closed by the server: a send on either throws
      // CANCELLED.
      const [report] = await model.executeAsync(0, [request("report", "report", 0)]);
      assertEquals(report.error, null, report.error?.message);
      assertEquals(outputOf(report.responses[0]), 2);
      model.unload();
    }),
});

Deno.test({
  name: "stream deadline: a cancelled request the model ignores ends as CANCELLED after 5 s",
  sanitizeOps: false,
  fn: () =>
    withHost(async (host) => {
      const model = host.loadModel(STUBBORN, { configText: withoutSilenceLimit() });
      const controller = new AbortController();
      const pending = model.executeAsync(0, [
        request("ignored-cancel", "stream", 9, controller.signal),
      ], { waitMs: 30_000 });
      await sleep(200);
      const cancelledAt = performance.now();
      controller.abort();
      const [result] = await pending;
      const elapsed = performance.now() - cancelledAt;
      assert(result.cancelled);
      // Responses every 50 ms until then (the silence limit never applied),
      // and whatever the model sent after the end was dropped.
      assert(result.responses.length > 10, `${result.responses.length} responses`);
      assertEndedWith(result, CANCELLED, "cancelled");
      assert(elapsed >= 4900, `ended ${elapsed.toFixed(0)} ms after the cancellation`);
      assertStringIncludes(
        host.log(),
        "request 'ignored-cancel' was cancelled and its model did not close it within 5000 ms",
      );
      // The model's next send threw and its interval stopped; the count
      // comes from the same Worker (the stub was not restarted).
      await sleep(300);
      const [report] = await model.executeAsync(0, [request("report", "report", 0)]);
      assertEquals(outputOf(report.responses[0]), 1);
      model.unload();
    }),
});
