/**
 * End-to-end: a client cancels a request while the model works on it. The
 * test host cancels it the way Triton does (TRITONBACKEND_RequestIsCancelled
 * turns true); the backend forwards it to the stub, and the model sees it
 * through `request.isCancelled()` / `sender.isCancelled()`. A decoupled
 * stream (models/stream_text) stops early and closes; a model that is not
 * decoupled (tests/fixtures/poll_cancel) notices within a few tens of
 * milliseconds, whether it polls between timers or in a busy loop.
 */

import { assert, assertEquals, assertStringIncludes } from "./harness/assert.ts";
import { exampleModelDir, fixtureDir } from "./harness/fixtures.ts";
import type { InferRequest, RequestResult } from "./harness/host.ts";
import { withHost } from "./harness/session.ts";

const STREAM_TEXT = exampleModelDir("stream_text");
const POLL_CANCEL = fixtureDir("poll_cancel");

/** How soon after the cancellation the model must have seen it. */
const NOTICE_WITHIN_MS = 50;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function words(result: RequestResult): string[] {
  return result.responses.filter((response) => !response.flagsOnly).map((response) => {
    const token = response.outputs[0];
    return token?.kind === "bytes" ? token.strings[0] : "?";
  });
}

function streamRequest(id: string, count: number, delayMs: number, signal?: AbortSignal) {
  const text = Array.from({ length: count }, (_, i) => `w${i}`).join(" ");
  return {
    id,
    inputs: [{ name: "TEXT", datatype: "BYTES", shape: [1], data: [text] }],
    parameters: { delay_ms: delayMs },
    signal,
  } satisfies InferRequest;
}

function pollRequest(id: string, signal: AbortSignal, spin = false): InferRequest {
  return {
    id,
    inputs: [{ name: "INPUT0", datatype: "INT32", shape: [1], data: new Int32Array([0]) }],
    parameters: { spin },
    signal,
  };
}

/** NOTICED_MS and POLLS of a poll_cancel answer. */
function noticed(result: RequestResult): { noticedMs: number; polls: number } {
  assertEquals(result.error, null, `request '${result.id}' failed`);
  const at = result.outputs.get("NOTICED_MS");
  const polls = result.outputs.get("POLLS");
  assert(at?.kind === "numeric" && polls?.kind === "numeric", "outputs missing");
  return { noticedMs: Number(at.data[0]), polls: Number(polls.data[0]) };
}

Deno.test({
  name: "cancellation: a cancelled stream stops early and closes; its batch mate streams on",
  sanitizeOps: false,
  fn: () =>
    withHost(async (host) => {
      const model = host.loadModel(STREAM_TEXT);
      const controller = new AbortController();
      const started = performance.now();
      const pending = model.executeAsync(0, [
        streamRequest("cancelled", 40, 50, controller.signal),
        streamRequest("kept", 8, 50),
      ]);
      await sleep(220);
      controller.abort();
      const [cancelled, kept] = await pending;
      const elapsed = performance.now() - started;

      assert(cancelled.cancelled, "the host did not record the cancellation");
      assertEquals(cancelled.error, null);
      assert(cancelled.final && cancelled.completed, "the cancelled stream was not closed");
      assertEquals(cancelled.releaseCount, 1);
      const sent = words(cancelled);
      assert(sent.length >= 1 && sent.length < 20, `sent ${sent.length} of 40 words`);
      assertEquals(sent, Array.from({ length: sent.length }, (_, i) => `w${i}`));
      // The last response is the close(): FINAL without a response.
      const last = cancelled.responses[cancelled.responses.length - 1];
      assert(last.flagsOnly && last.flags === 1, "the stream should end with a bare FINAL");
      assert(elapsed < 40 * 50, `the cancelled stream took ${elapsed.toFixed(0)} ms`);
      assertStringIncludes(
        host.log(),
        `request 'cancelled' was cancelled after ${sent.length} words`,
      );

      assert(!kept.cancelled);
      assertEquals(words(kept), ["w0", "w1", "w2", "w3", "w4", "w5", "w6", "w7"]);
      assert(kept.final && kept.releaseCount === 1);
      model.unload();
    }),
});

for (const spin of [false, true]) {
  const how = spin ? "in a busy loop" : "between timers";
  Deno.test({
    name: `cancellation: a model that is not decoupled, polling ${how}, sees it within ` +
      `${NOTICE_WITHIN_MS} ms`,
    sanitizeOps: false,
    fn: () =>
      withHost(async (host) => {
        const model = host.loadModel(POLL_CANCEL);
        for (let round = 0; round < 3; round++) {
          const controller = new AbortController();
          const pending = model.executeAsync(0, [
            pollRequest(`${spin ? "spin" : "poll"}-${round}`, controller.signal, spin),
          ]);
          await sleep(150);
          const cancelledAt = Date.now();
          controller.abort();
          const [result] = await pending;
          const answeredAfter = Date.now() - cancelledAt;
          const { noticedMs, polls } = noticed(result);
          const lag = noticedMs - cancelledAt;
          assert(polls > 0, "the model never polled before the cancellation");
          assert(
            lag <= NOTICE_WITHIN_MS,
            `round ${round}: the model saw the cancellation ${lag} ms after it (${polls} polls)`,
          );
          assert(answeredAfter < 1_000, `answered ${answeredAfter} ms after the cancellation`);
          assert(result.cancelled && result.final);
          assertEquals([result.releaseCount, result.statsReports], [1, 1]);
        }
        model.unload();
      }),
  });
}

Deno.test("cancellation: a request cancelled before Execute is seen cancelled at once", () =>
  withHost((host) => {
    const model = host.loadModel(POLL_CANCEL);
    const controller = new AbortController();
    controller.abort();
    const [result] = model.execute(0, [pollRequest("early", controller.signal)]);
    // At once: the parent sends the CANCEL right behind the EXECUTE, so the
    // model's first look finds it (its second, if the parent's thread was
    // descheduled between the two), whatever the machine's speed; waiting
    // for the parent's next round of looks took several.
    const { polls } = noticed(result);
    assert(polls <= 1, `the model polled ${polls} times before it saw the cancellation`);
    assert(result.cancelled);
    model.unload();
  }));
