/**
 * End-to-end: broken and hostile models (tests/fixtures/) through the real
 * backend and stub. Every failure must reach Triton as a clear error that
 * names what is wrong (the request, the output, the file and line), and must
 * not take down more than it should.
 */

import {
  assert,
  assertEquals,
  assertMatch,
  assertStringIncludes,
  assertThrows,
} from "./harness/assert.ts";
import {
  exampleModelDir,
  fixtureDir,
  lineOf,
  removeTemporaryCopy,
  temporaryCopy,
} from "./harness/fixtures.ts";
import { HostError, type InferRequest, type RequestResult } from "./harness/host.ts";
import { findStubPids } from "./harness/processes.ts";
import { withHost } from "./harness/session.ts";

const INVALID_ARG = 3;

function addSubRequest(id: string): InferRequest {
  return {
    id,
    inputs: [
      { name: "INPUT0", datatype: "FP32", shape: [4], data: new Float32Array([1, 2, 3, 4]) },
      { name: "INPUT1", datatype: "FP32", shape: [4], data: new Float32Array([4, 3, 2, 1]) },
    ],
  };
}

function assertFailedOnce(result: RequestResult): string {
  assert(result.error !== null, `request '${result.id}' should have failed`);
  assertEquals(result.releaseCount, 1, `request '${result.id}' release count`);
  assert(result.final, `request '${result.id}' got no FINAL response`);
  assertEquals(result.outputs.size, 0, `failed request '${result.id}' carries outputs`);
  return result.error.message;
}

Deno.test("an error response fails only its own request, not the batch", () =>
  withHost((host) => {
    const model = host.loadModel(fixtureDir("per_request_error"));
    const results = model.execute(0, [
      addSubRequest("good-1"),
      addSubRequest("bad"),
      addSubRequest("good-2"),
    ]);
    for (const index of [0, 2]) {
      assertEquals(results[index].error, null);
      assertEquals(results[index].releaseCount, 1);
      const sum = results[index].outputs.get("OUTPUT0");
      assert(sum?.kind === "numeric");
      assertEquals(Array.from(sum.data, Number), [5, 5, 5, 5]);
    }
    const message = assertFailedOnce(results[1]);
    assertEquals(results[1].error?.code, INVALID_ARG);
    assertStringIncludes(message, "request 'bad' is refused by the fixture");
    const stats = model.statistics(0);
    assertEquals(stats.request_success, 2);
    assertEquals(stats.request_failure, 1);
    model.unload();
  }));

Deno.test("a throw in execute fails the whole batch with the message and model.ts:LINE", () =>
  withHost((host) => {
    const dir = fixtureDir("throw_in_execute");
    const line = lineOf(`${dir}/1/model.ts`, 'throw new Error("fixture execute exploded")');
    const model = host.loadModel(dir);
    const results = model.execute(0, [addSubRequest("r0"), addSubRequest("r1")]);
    for (const result of results) {
      const message = assertFailedOnce(result);
      assertStringIncludes(message, "fixture execute exploded");
      assertStringIncludes(message, `model.ts:${line}`);
    }
    // The stub survives a throwing model: the instance still answers.
    assertEquals(findStubPids(dir).length, 1);
    const [again] = model.execute(0, [addSubRequest("r2")]);
    assertStringIncludes(assertFailedOnce(again), "fixture execute exploded");
    model.unload();
  }));

Deno.test("a throw in initialize fails the load with the message and model.ts:LINE", () =>
  withHost((host) => {
    const dir = fixtureDir("throw_in_initialize");
    const line = lineOf(`${dir}/1/model.ts`, 'throw new Error("fixture initialize exploded")');
    const error = assertThrows(() => host.loadModel(dir), HostError);
    assertStringIncludes(error.message, "fixture initialize exploded");
    assertStringIncludes(error.message, `1/model.ts:${line}`);
    // What clients see of a load (the repository index) has no server path
    // and no runtime frame; Triton's log has them all.
    assert(!error.message.includes(dir), error.message);
    assert(!error.message.includes("runtime/worker"), error.message);
    assertStringIncludes(host.log(), "runtime/worker/main.ts");
    assertEquals(findStubPids(dir), [], "a stub outlived the failed load");
  }));

/** A load error as clients see it: no server path, no URL, no Deno cache. */
function assertNoServerPath(message: string, dir: string): void {
  for (const part of [dir, "/tmp", "/root", "/work", "file://", "deno_dir", "runtime/"]) {
    assert(!message.includes(part), `the load error names '${part}': ${message}`);
  }
}

Deno.test("a missing model.ts fails the load naming 1/model.ts; the log names the full path", () =>
  withHost((host) => {
    const dir = fixtureDir("missing_model");
    const error = assertThrows(() => host.loadModel(dir), HostError);
    assertStringIncludes(error.message, "model file not found: 1/model.ts");
    assertNoServerPath(error.message, dir);
    assertStringIncludes(host.log(), `${dir}/1/model.ts`);
    assertEquals(findStubPids(dir), []);
  }));

Deno.test("a syntax error fails the load pointing at 1/model.ts:LINE:COL, no server path", () =>
  withHost((host) => {
    const dir = temporaryCopy(fixtureDir("syntax_error"), { "1/model.ts.broken": "1/model.ts" });
    try {
      const line = lineOf(`${dir}/1/model.ts`, "SYNTAX ERROR HERE");
      const error = assertThrows(() => host.loadModel(dir), HostError);
      assertMatch(error.message, new RegExp(`(?<![\\w/])1/model\\.ts:${line}:\\d+`));
      assertStringIncludes(error.message, "Expression expected");
      assertNoServerPath(error.message, dir);
      assertStringIncludes(host.log(), `${dir}/1/model.ts:${line}`);
      assertEquals(findStubPids(dir), []);
    } finally {
      removeTemporaryCopy(dir);
    }
  }));

Deno.test("a type error fails the load pointing at 1/model.ts:LINE:COL with its TS code, no server path", () =>
  withHost((host) => {
    const dir = temporaryCopy(fixtureDir("type_error"), { "1/model.ts.broken": "1/model.ts" });
    try {
      const line = lineOf(`${dir}/1/model.ts`, "TYPE ERROR HERE");
      const error = assertThrows(() => host.loadModel(dir), HostError);
      assertMatch(error.message, new RegExp(`(?<![\\w/])1/model\\.ts:${line}:\\d+`));
      assertStringIncludes(error.message, "TS2322");
      assertStringIncludes(error.message, "not assignable");
      assertNoServerPath(error.message, dir);
      assertStringIncludes(host.log(), `file://${dir}/1/model.ts:${line}`);
      assertEquals(findStubPids(dir), []);
    } finally {
      removeTemporaryCopy(dir);
    }
  }));

Deno.test("an output of the wrong datatype fails the request with an error naming it", () =>
  withHost((host) => {
    const model = host.loadModel(fixtureDir("wrong_output_dtype"));
    const [result] = model.execute(0, [addSubRequest("dtype")]);
    const message = assertFailedOnce(result);
    assertStringIncludes(message, "OUTPUT0");
    assertStringIncludes(message, "INT32");
    assertStringIncludes(message, "FP32");
    assert(!message.includes("OUTPUT1"), `only OUTPUT0 is wrong: ${message}`);
    model.unload();
  }));

Deno.test("an output of the wrong shape fails the request with an error naming it", () =>
  withHost((host) => {
    const model = host.loadModel(fixtureDir("wrong_output_shape"));
    const [result] = model.execute(0, [addSubRequest("shape")]);
    const message = assertFailedOnce(result);
    assertStringIncludes(message, "OUTPUT0");
    assert(!message.includes("OUTPUT1"), `only OUTPUT0 is wrong: ${message}`);
    model.unload();
  }));

Deno.test("a symbolic link pointing outside the model directory fails the load", () =>
  withHost((host) => {
    const dir = temporaryCopy(exampleModelDir("add_sub"));
    try {
      // Readable through the link even though the sandbox grants only the model directory.
      Deno.symlinkSync("/etc/hostname", `${dir}/1/leak.txt`);
      const error = assertThrows(() => host.loadModel(dir), HostError);
      assertStringIncludes(error.message, "leak.txt");
      assertEquals(findStubPids(dir), []);
      // The same directory without the link loads: the link alone was the reason.
      Deno.removeSync(`${dir}/1/leak.txt`);
      host.loadModel(dir, { instanceCount: 1 }).unload();
    } finally {
      removeTemporaryCopy(dir);
    }
  }));

Deno.test("the policy evaluator's refusal (a malformed deno.json) names deno.json, not its path", () =>
  withHost((host) => {
    const dir = temporaryCopy(exampleModelDir("add_sub"));
    try {
      Deno.writeTextFileSync(`${dir}/deno.json`, "{ not json");
      const error = assertThrows(() => host.loadModel(dir), HostError);
      assertMatch(error.message, /(?<![\w/])deno\.json is not JSON/);
      assertNoServerPath(error.message, dir);
      assertStringIncludes(host.log(), `${dir}/deno.json is not JSON`);
      assertEquals(findStubPids(dir), []);
    } finally {
      removeTemporaryCopy(dir);
    }
  }));
