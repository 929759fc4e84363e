/**
 * Real core: decoupled requests the model never closes are ended by the
 * backend, as Triton's own scheduling sees them: a stream silent past
 * `deno.stream_idle_timeout_ms` (400 ms in the fixture) ends UNAVAILABLE,
 * and a cancelled one the model ignores ends CANCELLED within the 5 s
 * grace.
 *
 * @module
 */

import { assert, assertEquals, assertStringIncludes } from "../harness/assert.ts";
import { fixtureDir } from "../harness/fixtures.ts";
import { type Answer, coreTest, tensor, values } from "./core_session.ts";

const STUBBORN = fixtureDir("decoupled_stubborn");

/** The fixture, with a silence limit no stream that keeps sending reaches on a busy machine. */
const PATIENT = {
  name: "patient",
  files: {
    "config.pbtxt": Deno.readTextFileSync(`${STUBBORN}/config.pbtxt`)
      .replace('name: "decoupled_stubborn"', 'name: "patient"')
      .replace('string_value: "400"', 'string_value: "60000"'),
    "1/model.ts": Deno.readTextFileSync(`${STUBBORN}/1/model.ts`),
  },
};

function input(value: number) {
  return [tensor("INPUT0", "INT32", [1], new Int32Array([value]))];
}

function assertEndedWith(answers: Answer[], code: string, words: string): void {
  const last = answers.at(-1);
  assert(last !== undefined, "no responses");
  assertEquals(last.response.flags & 1, 1, "the last response carries FINAL");
  assertEquals(last.error?.code, code, JSON.stringify(last.error));
  assertStringIncludes(last.error!.message, words);
}

coreTest("a stream the model forgets ends after deno.stream_idle_timeout_ms", {
  models: ["decoupled_stubborn"],
}, async (core) => {
  const started = performance.now();
  const answers = await core.stream("decoupled_stubborn", input(5), {
    parameters: { mode: "forget" },
  });
  const elapsed = performance.now() - started;
  assertEquals(values(answers[0], "OUTPUT0"), [5]);
  assertEndedWith(answers, "UNAVAILABLE", "sent no response for 400 ms");
  assert(elapsed >= 400, `ended after ${elapsed.toFixed(0)} ms`);
  // The stub kept serving, and its model saw the request ended.
  const report = await core.stream("decoupled_stubborn", input(0), {
    parameters: { mode: "report" },
  });
  assertEquals(values(report[0], "OUTPUT0"), [1]);
});

coreTest("a cancelled stream the model ignores ends CANCELLED within the grace", {
  models: [PATIENT],
}, async (core) => {
  const call = core.server.call({
    model: "patient",
    inputs: [{ name: "INPUT0", datatype: "INT32", shape: [1], data: new Uint8Array(4) }],
    parameters: { mode: "stream" },
  });
  try {
    call.start();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const cancelledAt = performance.now();
    call.cancel();
    const responses = await call.responses(15_000);
    const elapsed = performance.now() - cancelledAt;
    const last = responses.at(-1);
    assert(last !== undefined && (last.flags & 1) === 1, "no FINAL");
    assertEquals(last.error?.code, "CANCELLED", JSON.stringify(last.error));
    assert(elapsed < 10_000, `ended ${elapsed.toFixed(0)} ms after the cancellation`);
  } finally {
    call.free();
  }
});

coreTest("twenty forgotten streams each end once, UNAVAILABLE", {
  models: [{
    name: "forgetful",
    from: "decoupled_stubborn",
  }],
}, async (core) => {
  // Then the session stops the server, which waits for in-flight requests:
  // none is left.
  const calls = Array.from({ length: 20 }, (_, i) =>
    core.server.call({
      model: "forgetful",
      inputs: [{ name: "INPUT0", datatype: "INT32", shape: [1], data: new Uint8Array(4) }],
      parameters: { mode: "forget" },
      id: `open-${i}`,
    }));
  for (const call of calls) call.start();
  try {
    for (const call of calls) {
      const responses = await call.responses(15_000);
      assertEquals(responses.at(-1)?.error?.code, "UNAVAILABLE");
    }
  } finally {
    for (const call of calls) call.free();
  }
});
