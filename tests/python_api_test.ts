/**
 * End-to-end, through the test host and the real backend: the parts of
 * python_backend's request API added in wire version 3: the request's
 * timeout and flags, a response sender for models that are not decoupled,
 * and rescheduling for iterative sequence models (both kinds).
 */

import { assert, assertEquals, assertStringIncludes } from "./harness/assert.ts";
import { fixtureDir } from "./harness/fixtures.ts";
import type { InferRequest, RequestResult } from "./harness/host.ts";
import { withHost } from "./harness/session.ts";

function int32(name: string, value: number): InferRequest["inputs"][number] {
  return { name, datatype: "INT32", shape: [1], data: new Int32Array([value]) };
}

/** The numbers of output `name`. */
function values(result: RequestResult, name: string): number[] {
  const output = result.outputs.get(name);
  assert(output?.kind === "numeric", `${result.id}: no numeric output ${name}`);
  return Array.from(output.data as ArrayLike<number | bigint>, Number);
}

Deno.test("request.flags and request.timeoutMicros are the request's own", () =>
  withHost((host) => {
    const model = host.loadModel(fixtureDir("request_fields"));
    const [timed, plain] = model.execute(0, [
      { id: "t", flags: 3, timeoutUs: 2_500_000, inputs: [int32("INPUT0", 0)] },
      { id: "p", inputs: [int32("INPUT0", 0)] },
    ]);
    assertEquals([values(timed, "FLAGS"), values(timed, "TIMEOUT_US")], [[3], [2_500_000]]);
    assertEquals([values(plain, "FLAGS"), values(plain, "TIMEOUT_US")], [[0], [0]]);
    model.unload();
  }));

Deno.test({
  name: "a model that is not decoupled answers through its response sender, in execute or later",
  // A response sent from a timer: the execute runs on a blocking FFI thread.
  sanitizeOps: false,
  fn: () =>
    withHost(async (host) => {
      const model = host.loadModel(fixtureDir("sender_not_decoupled"));
      const request = (id: string, mode: string, value: number): InferRequest => ({
        id,
        parameters: { mode },
        inputs: [int32("INPUT0", value)],
      });
      const results = await model.executeAsync(0, [
        request("returned", "returned", 1),
        request("now", "now", 2),
        request("later", "later", 3),
        request("none", "none", 4),
        request("twice", "twice", 5),
      ]);
      const [returned, now, later, none, twice] = results;
      for (const result of results) {
        assertEquals([result.releaseCount, result.final], [1, true], result.id);
        assertEquals(result.responses.filter((r) => !r.flagsOnly).length, 1, result.id);
      }
      assertEquals(values(returned, "OUTPUT0"), [2]);
      assertEquals(values(now, "OUTPUT0"), [3]);
      assertEquals(values(later, "OUTPUT0"), [4]);
      assertStringIncludes(
        none.error?.message ?? "",
        "request 'none': execute returned no response for it and sent none",
      );
      assertEquals(values(twice, "OUTPUT0"), [6], "the first of two sends is the response");
      assertStringIncludes(
        host.log(),
        "second send: request 'twice' already has its response: a model that is not decoupled " +
          "sends exactly one response per request",
      );
      model.unload();
    }),
});

Deno.test({
  name: "rescheduling (not decoupled): a request runs turn after turn, then gets its one answer",
  sanitizeOps: false,
  fn: () =>
    withHost(async (host) => {
      const model = host.loadModel(fixtureDir("iterative_countdown"));
      const [three, one, both] = await model.executeIterative(0, [
        { id: "three", correlationId: 7, inputs: [int32("STEPS", 3)] },
        { id: "one", correlationId: 8, inputs: [int32("STEPS", 1)] },
        { id: "both", correlationId: 9, inputs: [int32("STEPS", -1)] },
      ]);
      assertEquals(values(three, "TURNS"), [3]);
      assertEquals([three.reschedules, three.releaseCount, three.final], [2, 1, true]);
      assertEquals(three.responses.length, 1, "a rescheduled turn sends no response");
      assertEquals(values(one, "TURNS"), [1]);
      assertEquals(one.reschedules, 0);
      // Rescheduled and answered: the answer is an error, and the request is done.
      assertEquals(both.reschedules, 0);
      assertStringIncludes(
        both.error?.message ?? "",
        "it was rescheduled, and execute also returned a response for it",
      );
      assertEquals(model.statistics(0).execute_calls, 3);
      model.unload();
    }),
});

Deno.test({
  name: "rescheduling (decoupled): one response per turn, the last one final",
  sanitizeOps: false,
  fn: () =>
    withHost(async (host) => {
      const model = host.loadModel(fixtureDir("iterative_stream"));
      const [result] = await model.executeIterative(0, [
        { id: "s", correlationId: 5, inputs: [int32("STEPS", 3)] },
      ]);
      assertEquals(result.reschedules, 2);
      assert(result.final, "no FINAL");
      const sent = result.responses.filter((response) => !response.flagsOnly);
      assertEquals(
        sent.map((response) => {
          const output = response.outputs[0];
          return output.kind === "numeric" ? Number(output.data[0]) : NaN;
        }),
        [2, 1, 0],
      );
      assertEquals(sent.map((response) => response.flags & 1), [0, 0, 1]);
      model.unload();
    }),
});

Deno.test("rescheduling needs iterative sequence batching: without it the request fails, naming it", () =>
  withHost((host) => {
    const model = host.loadModel(fixtureDir("iterative_countdown"), {
      configOverride: (config) => {
        config.schedulingChoice = { case: undefined };
      },
    });
    const [result] = model.execute(0, [{ id: "r", inputs: [int32("STEPS", 2)] }]);
    assertEquals([result.releaseCount, result.reschedules], [1, 0]);
    assertStringIncludes(
      result.error?.message ?? "",
      "sequence_batching { iterative_sequence: true }",
    );
    model.unload();
  }));
