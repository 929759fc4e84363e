/**
 * End-to-end: a decoupled model's mistakes and corner cases, with small
 * fixtures under tests/fixtures/decoupled_*: a sender never closed (the
 * request ends, with an error naming it, when the model unloads), a send
 * after FINAL (the model's call throws; the request is unharmed), `execute`
 * throwing after it sent responses (each request still open gets the error
 * as its final response), response parameters of every type, and a model
 * that floods the parent's doorbell once its stream has ended (its stub is
 * restarted rather than waking the response thread for nothing forever).
 */

import { assert, assertEquals, assertStringIncludes } from "./harness/assert.ts";
import { fixtureDir } from "./harness/fixtures.ts";
import { waitFor } from "./harness/processes.ts";
import type { InferRequest, RequestResult, SentResponse } from "./harness/host.ts";
import { withHost } from "./harness/session.ts";

const FINAL = 1;

function request(
  id: string,
  value: number,
  parameters: Record<string, boolean> = {},
): InferRequest {
  return {
    id,
    inputs: [{ name: "INPUT0", datatype: "INT32", shape: [1], data: new Int32Array([value]) }],
    parameters,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** OUTPUT0 of one response, or null if it has none. */
function outputOf(response: SentResponse): number | null {
  const output = response.outputs.find((o) => o.name === "OUTPUT0");
  return output?.kind === "numeric" ? Number(output.data[0]) : null;
}

/** Released once, with its statistics reported once. */
function assertSettled(result: RequestResult): void {
  assert(result.completed && result.final, `request '${result.id}' did not complete`);
  assertEquals([result.releaseCount, result.statsReports], [1, 1], `request '${result.id}'`);
}

Deno.test({
  name: "decoupled edges: a sender never closed ends with an error naming its request at unload",
  sanitizeOps: false,
  fn: () =>
    withHost(async (host) => {
      const model = host.loadModel(fixtureDir("decoupled_never_close"));
      const pending = model.executeAsync(0, [request("left-open-1", 5), request("left-open-2", 6)]);
      // The responses arrive at once; then nothing happens until the unload.
      await sleep(500);
      model.unload();
      const results = await pending;
      results.forEach((result, i) => {
        assertSettled(result);
        assertEquals(result.responses.length, 2, `request '${result.id}'`);
        const [sent, closing] = result.responses;
        assertEquals([sent.error, sent.flags, outputOf(sent)], [null, 0, 5 + i]);
        assertEquals(closing.flags & FINAL, FINAL);
        assert(closing.error !== null, `request '${result.id}': closed without an error`);
        assertStringIncludes(closing.error.message, `'${result.id}'`);
        assert(!result.statsSuccess, "a request closed by the backend did not succeed");
      });
    }),
});

Deno.test("decoupled edges: a send after FINAL throws in the model; the request is fine", () =>
  withHost(async (host) => {
    const model = host.loadModel(fixtureDir("decoupled_send_after_final"));
    const results = model.execute(0, [request("a", 1), request("b", 2)]);
    results.forEach((result, i) => {
      assertSettled(result);
      assertEquals(result.responses.length, 1, `request '${result.id}' got more than its FINAL`);
      const [only] = result.responses;
      assertEquals([only.error, only.flags, outputOf(only)], [null, FINAL, i + 1]);
      assert(result.statsSuccess);
    });
    // The model's log lines travel on after its responses: wait for the last one.
    await waitFor(() => host.log().includes("'b' closed=true"), 5_000);
    const log = host.log();
    for (const id of ["a", "b"]) {
      const closed = `request '${id}': the response sender is closed (a final response was ` +
        "sent); no more responses can be sent";
      // INVALID_ARG is 3.
      assertStringIncludes(
        log,
        `'${id}' closed=true | send threw TritonError 3: ${closed} | send final threw ` +
          `TritonError 3: ${closed} | close threw TritonError 3: ${closed}`,
      );
    }
    assert(!log.includes("did not throw"), log);

    // Not caught: execute throws once every request is complete; nothing is left to fail.
    const [uncaught] = model.execute(0, [request("u", 3, { uncaught: true })]);
    assertSettled(uncaught);
    assertEquals(uncaught.responses.map((r) => [r.error, r.flags]), [[null, FINAL]]);
    const [after] = model.execute(0, [request("after", 4)]);
    assertEquals(after.error, null);
    assertEquals(outputOf(after.responses[0]), 4);
    model.unload();
  }));

Deno.test("decoupled edges: execute throwing after sending fails each open request as FINAL", () =>
  withHost((host) => {
    const model = host.loadModel(fixtureDir("decoupled_throw_after_send"));
    const [open, closed] = model.execute(0, [request("open", 1), request("closed", 2)]);
    assertSettled(open);
    assertEquals(open.responses.length, 2);
    assertEquals([open.responses[0].error, outputOf(open.responses[0])], [null, 1]);
    const failure = open.responses[1];
    assertEquals(failure.flags & FINAL, FINAL);
    assertEquals(failure.error?.codeString, "Unavailable");
    assertStringIncludes(failure.error?.message ?? "", "the fixture failed after sending");
    assert(!open.statsSuccess);

    // The request the model had closed keeps its own ending.
    assertSettled(closed);
    assertEquals(
      closed.responses.map((r) => [r.error, r.flags, r.flagsOnly, outputOf(r)]),
      [[null, 0, false, 2], [null, FINAL, true, null]],
    );

    // A plain Error is INTERNAL; the instance keeps serving.
    const [plain] = model.execute(0, [request("plain", 3, { plain: true })]);
    assertSettled(plain);
    const last = plain.responses[plain.responses.length - 1];
    assertEquals(last.error?.codeString, "Internal");
    assertStringIncludes(last.error?.message ?? "", "the fixture broke after sending");
    assertEquals(outputOf(plain.responses[0]), 3);
    model.unload();
  }));

Deno.test("decoupled edges: response parameters of every type reach Triton", () =>
  withHost(async (host) => {
    const model = host.loadModel(fixtureDir("decoupled_parameters"));
    const [result] = model.execute(0, [request("p", 9)]);
    assertSettled(result);
    assertEquals(result.responses.length, 2);
    const [first, last] = result.responses;
    assertEquals(first.error, null);
    assertEquals(first.parameters, {
      int: 42,
      negative: -7,
      zero: 0,
      big: 2n ** 62n,
      int64_max: 2n ** 63n - 1n,
      int64_min: -(2n ** 63n),
      whole_double: 3, // a whole number is sent as INT
      double: 0.5,
      tiny: -1.5e-300,
      nan: null, // DOUBLE NaN and infinity: JSON has no such numbers, the host shows null
      infinity: null,
      yes: true,
      no: false,
      text: "cat",
      empty: "",
      'quote"key\\': "ünïcødé ✓ \n tab\t",
    });
    assertEquals([last.parameters, last.flags, outputOf(last)], [{ last: true }, FINAL, 9]);
    const refused =
      "an INT outside int64: response parameter 'huge': 9223372036854775808n is outside int64";
    assert(await waitFor(() => host.log().includes(refused), 5_000), host.log());
    model.unload();
  }));

Deno.test("decoupled edges: flooding the parent's doorbell after the stream restarts the stub", () =>
  withHost(async (host) => {
    const model = host.loadModel(fixtureDir("decoupled_doorbell_flood"));
    const [flooding] = model.execute(0, [request("flooding", 7, { flood: true })]);
    assertSettled(flooding);
    assertEquals([flooding.responses[0].error, outputOf(flooding.responses[0])], [null, 7]);
    // Nothing is in flight: the response thread rests on the doorbell, and
    // the flood's bytes, explained by no record, break the protocol.
    await waitFor(() => host.log().includes("rang the parent's doorbell more than"), 10_000);
    assertStringIncludes(
      host.log(),
      "stub for instance 'decoupled_doorbell_flood_0' broke the protocol: rang the parent's " +
        "doorbell more than 4096 times with no record to show for it (the model writes to the " +
        "stub's descriptor 1?); it was killed and is restarting",
    );
    // A new stub serves the next request.
    const [after] = model.execute(0, [request("after", 8)]);
    assertSettled(after);
    assertEquals([after.responses[0].error, outputOf(after.responses[0])], [null, 8]);
    model.unload();
  }));
