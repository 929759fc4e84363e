/**
 * End-to-end: a model calling other models from inside `execute` (BLS) and
 * controlling them, through the test host and the real backend. The host
 * routes TRITONSERVER_ServerInferAsync to the models it loaded, so a call
 * goes caller stub -> parent -> Triton's API -> the target's backend and
 * back, outputs written by the target straight into the caller's shared
 * memory. Every test ends with the host's rule and leak checks
 * (withHost): requests released once, responses, allocators and
 * in-process requests all gone.
 */

import { assert, assertEquals, assertStringIncludes } from "./harness/assert.ts";
import { exampleModelDir, fixtureDir } from "./harness/fixtures.ts";
import type { Host, InferRequest, RequestResult } from "./harness/host.ts";
import { findStubPids, isGone, sleep, waitFor } from "./harness/processes.ts";
import { withHost } from "./harness/session.ts";

const ADD_SUB = exampleModelDir("add_sub");
const BLS_ADD_SUB = exampleModelDir("bls_add_sub");
const STREAM_TEXT = exampleModelDir("stream_text");
const BLS_STREAM = exampleModelDir("bls_stream");
const BLS_CONTROL = fixtureDir("bls_control");
const BLS_RELAY = fixtureDir("bls_relay");
const BLS_TIMER = fixtureDir("bls_timer");

function addSubRequest(
  id: string,
  a: number[],
  b: number[],
  parameters: InferRequest["parameters"] = {},
): InferRequest {
  return {
    id,
    inputs: [
      { name: "INPUT0", datatype: "FP32", shape: [a.length], data: new Float32Array(a) },
      { name: "INPUT1", datatype: "FP32", shape: [b.length], data: new Float32Array(b) },
    ],
    parameters,
  };
}

function numbers(result: RequestResult, name: string): number[] {
  const output = result.outputs.get(name);
  assert(output?.kind === "numeric", `output ${name} is missing (error: ${result.error?.message})`);
  return Array.from(output.data, Number);
}

function strings(result: RequestResult, name: string): string[] {
  const output = result.outputs.get(name);
  assert(output?.kind === "bytes", `output ${name} is missing (error: ${result.error?.message})`);
  return output.strings;
}

/** No in-process request is left in flight once the host is idle. */
async function assertIdle(host: Host): Promise<void> {
  assert(await host.waitIdle(20_000), "in-process requests were still in flight");
  assertEquals(host.serverModels().map((model) => model.inFlight).filter((n) => n > 0), []);
}

Deno.test("BLS: a model answers through another model's outputs", () =>
  withHost(async (host) => {
    host.loadModel(ADD_SUB);
    const caller = host.loadModel(BLS_ADD_SUB);
    const results = caller.execute(0, [
      addSubRequest("r1", [1, 2, 3, 4], [10, 20, 30, 40]),
      addSubRequest("r2", [0.5], [0.25]),
    ]);
    assertEquals(results.map((result) => result.error), [null, null]);
    assertEquals(numbers(results[0], "OUTPUT0"), [11, 22, 33, 44]);
    assertEquals(numbers(results[0], "OUTPUT1"), [-9, -18, -27, -36]);
    assertEquals(numbers(results[1], "OUTPUT0"), [0.75]);
    assertEquals(numbers(results[1], "OUTPUT1"), [0.25]);
    assert(results.every((result) => result.releaseCount === 1 && result.final));
    // Many calls in a row reuse the shared memory the answers take.
    for (let i = 0; i < 50; i++) {
      const [again] = caller.execute(0, [addSubRequest(`loop${i}`, [i], [1])]);
      assertEquals(numbers(again, "OUTPUT0"), [i + 1]);
    }
    await assertIdle(host);
  }));

Deno.test("BLS: the called model's error and an unknown model are the request's error", () =>
  withHost(async (host) => {
    host.loadModel(ADD_SUB);
    // Declared, so that Triton's own answer for a model it does not have
    // comes through (an undeclared one is refused before: tests/hostile/).
    const caller = host.loadModel(BLS_ADD_SUB, {
      configText: Deno.readTextFileSync(`${BLS_ADD_SUB}/config.pbtxt`).replace(
        'string_value: "add_sub"',
        'string_value: "add_sub,no_such_model"',
      ),
    });
    const [bad, unknown, good] = caller.execute(0, [
      addSubRequest("bad-shape", [1, 2], [1, 2, 3]),
      addSubRequest("unknown", [1], [1], { target: "no_such_model" }),
      addSubRequest("fine", [2], [3]),
    ]);
    assert(bad.error !== null, "a bad shape must fail");
    assertEquals(bad.error.codeString, "Invalid argument");
    assertStringIncludes(bad.error.message, "INPUT0 and INPUT1 must have the same shape");
    assert(unknown.error !== null, "an unknown model must fail");
    assertEquals(unknown.error.codeString, "Not found");
    assertStringIncludes(unknown.error.message, "no_such_model");
    assertEquals(numbers(good, "OUTPUT0"), [5]);
    await assertIdle(host);
  }));

Deno.test("BLS: a decoupled model's stream, all of it or cancelled after N words", () =>
  withHost(async (host) => {
    host.loadModel(STREAM_TEXT);
    const caller = host.loadModel(BLS_STREAM);
    const text = "one two three four five six seven eight nine ten";
    const input = (id: string, parameters: InferRequest["parameters"]): InferRequest => ({
      id,
      inputs: [{ name: "TEXT", datatype: "BYTES", shape: [1], data: [text] }],
      parameters,
    });
    const [all] = caller.execute(0, [input("all", {})]);
    assertEquals(all.error, null);
    assertEquals(strings(all, "WORDS"), text.split(" "));

    host.clearLog();
    const [three] = caller.execute(0, [input("three", { max_words: 3, delay_ms: 30 })]);
    assertEquals(three.error, null);
    assertEquals(strings(three, "WORDS"), ["one", "two", "three"]);
    await assertIdle(host);
    // stream_text saw the cancellation and stopped early.
    assertStringIncludes(host.log(), "request 'three' was cancelled after");
  }));

Deno.test("BLS: the caller's own timers run while it awaits a long call, a few ms late at most", () =>
  withHost(async (host) => {
    host.loadModel(STREAM_TEXT);
    const caller = host.loadModel(BLS_TIMER);
    for (let i = 0; i < 3; i++) {
      const [result] = caller.execute(0, [{
        id: `timer${i}`,
        inputs: [{ name: "TEXT", datatype: "BYTES", shape: [1], data: ["a b"] }],
      }]);
      assertEquals(result.error, null);
      const [late] = numbers(result, "LATE_MS");
      // The call lasts about 600 ms, its first answer 300 ms away; the Worker
      // sleeps on its doorbell and is ticked every 10 ms, so the 30 ms timer
      // fires within a few ms of due (generous bounds: other programs share
      // these cores).
      assert(late >= 0 && late < 100, `the timer fired ${late} ms late`);
    }
    await assertIdle(host);
  }));

Deno.test("BLS: an instance has at most 64 calls in flight; the rest are refused at once", () =>
  withHost(async (host) => {
    host.loadModel(STREAM_TEXT);
    const caller = host.loadModel(BLS_STREAM);
    // One batch of 70 requests, all awaited together: 70 calls at once, each
    // in flight for a few hundred milliseconds.
    const results = caller.execute(
      0,
      Array.from({ length: 70 }, (_, i) => ({
        id: `many${i}`,
        inputs: [{ name: "TEXT", datatype: "BYTES" as const, shape: [1], data: ["a b c"] }],
        parameters: { delay_ms: 100 },
      })),
    );
    const refused = results.filter((result) => result.error !== null);
    assertEquals(refused.length, 6, refused.map((result) => result.error?.message).join("; "));
    for (const result of refused) {
      assertEquals(result.error?.codeString, "Unavailable");
      assertStringIncludes(result.error?.message ?? "", "64 calls to other models are in flight");
    }
    for (const result of results.filter((result) => result.error === null)) {
      assertEquals(strings(result, "WORDS"), ["a", "b", "c"]);
    }
    await assertIdle(host);
  }));

Deno.test("BLS: a decoupled model relays another decoupled model's stream", () =>
  withHost(async (host) => {
    host.loadModel(STREAM_TEXT);
    const relay = host.loadModel(BLS_RELAY);
    const results = relay.execute(0, [
      {
        id: "a",
        inputs: [{ name: "TEXT", datatype: "BYTES", shape: [1], data: ["red green blue"] }],
      },
      { id: "b", inputs: [{ name: "TEXT", datatype: "BYTES", shape: [1], data: ["up down"] }] },
    ]);
    const tokens = results.map((result) =>
      result.responses.filter((response) => !response.flagsOnly).map((response) => {
        const token = response.outputs[0];
        return token?.kind === "bytes" ? token.strings[0] : "?";
      })
    );
    assertEquals(tokens, [["red", "green", "blue"], ["up", "down"]]);
    assert(results.every((result) => result.error === null && result.final));
    await assertIdle(host);
  }));

Deno.test("BLS: model control works in explicit mode and says why it does not otherwise", () =>
  withHost(async (host) => {
    const control = host.loadModel(BLS_CONTROL);
    const ask = (action: string, model: string): RequestResult => {
      const [result] = control.execute(0, [{
        id: `${action}-${model}`,
        inputs: [{ name: "DUMMY", datatype: "INT32", shape: [1], data: new Int32Array([0]) }],
        parameters: { action, model },
      }]);
      return result;
    };
    // initialize asked (the parent answers side records during the load too).
    assertEquals(strings(ask("at_init", ""), "RESULT"), ["false"]);
    const name = host.registerLoadable(ADD_SUB);

    const refused = ask("load", name);
    assert(refused.error !== null, "a load without explicit model control must fail");
    assertEquals(refused.error.codeString, "Unavailable");
    assertStringIncludes(refused.error.message, "--model-control-mode=explicit");
    assertEquals(strings(ask("ready", name), "RESULT"), ["false"]);

    host.setModelControl(true);
    try {
      assertEquals(strings(ask("load", name), "RESULT"), ["done"]);
      assertEquals(strings(ask("ready", name), "RESULT"), ["true"]);
      // The model it loaded serves calls from another model.
      const caller = host.loadModel(BLS_ADD_SUB);
      const [sum] = caller.execute(0, [addSubRequest("loaded", [1], [2])]);
      assertEquals(numbers(sum, "OUTPUT0"), [3]);
      assertEquals(strings(ask("unload", name), "RESULT"), ["done"]);
      assert(
        await waitFor(() => strings(ask("ready", name), "RESULT")[0] === "false", 10_000),
        "the model is still ready after its unload",
      );
      const missing = ask("load", "never_registered");
      assert(missing.error !== null, "loading an unknown model must fail");
      assertStringIncludes(missing.error.message, "never_registered");
    } finally {
      host.setModelControl(false);
    }
    await assertIdle(host);
  }));

Deno.test({
  name:
    "BLS: a caller stub killed mid-call fails its request; the call is cancelled and cleaned up",
  // The execute runs on a blocking FFI thread while this test kills the stub.
  sanitizeOps: false,
  fn: () =>
    withHost(async (host) => {
      host.loadModel(STREAM_TEXT);
      const caller = host.loadModel(BLS_STREAM);
      const [stub] = findStubPids(BLS_STREAM);
      assert(stub !== undefined, "no stub found for the caller");
      host.clearLog();
      const words = Array.from({ length: 40 }, (_, i) => `w${i}`).join(" ");
      const pending = caller.executeAsync(0, [{
        id: "doomed",
        inputs: [{ name: "TEXT", datatype: "BYTES", shape: [1], data: [words] }],
        parameters: { delay_ms: 100 },
      }]);
      await sleep(700); // a few words in
      Deno.kill(stub, "SIGKILL");
      const [killed] = await pending;
      assert(killed.error !== null, "the request in flight must fail");
      assertStringIncludes(killed.error.message, "bls_stream_0");
      assert(await waitFor(() => isGone(stub), 5_000), "the killed stub was not reaped");
      // The parent cancelled the call it left behind; stream_text stopped.
      await assertIdle(host);
      assertStringIncludes(host.log(), "request 'doomed' was cancelled after");

      const [after] = await caller.executeAsync(0, [{
        id: "after",
        inputs: [{ name: "TEXT", datatype: "BYTES", shape: [1], data: ["still here"] }],
      }]);
      assertEquals(after.error, null, `the request after the restart failed`);
      assertEquals(strings(after, "WORDS"), ["still", "here"]);
      await assertIdle(host);
    }),
});

Deno.test({
  name:
    "BLS: a caller unloaded with a call in flight leaves it to finish, cancelled, without leaks",
  sanitizeOps: false,
  fn: () =>
    withHost(async (host) => {
      host.loadModel(STREAM_TEXT);
      const relay = host.loadModel(BLS_RELAY);
      host.clearLog();
      const words = Array.from({ length: 200 }, (_, i) => `w${i}`).join(" ");
      const [started] = relay.execute(0, [{
        id: "background",
        inputs: [{ name: "TEXT", datatype: "BYTES", shape: [1], data: [words] }],
        parameters: { background: true },
      }]);
      assertEquals(started.error, null);
      await sleep(300); // the relay reads the stream on its own
      assertEquals(host.serverModels().find((m) => m.name === "stream_text")?.inFlight, 1);
      relay.unload();
      await assertIdle(host);
      assertStringIncludes(host.log(), "still in flight");
      assertStringIncludes(host.log(), "was cancelled after");
    }),
});
