/**
 * Real core: Triton's server API as an application embedding Triton sees
 * it: the repository index and its states, model metadata and statistics
 * in Triton's shapes, model control (and its refusal outside explicit
 * mode), a load with a configuration that replaces the repository's, a
 * start that fails when a model does, the dynamic batcher, and the
 * sequence batcher forgetting an idle sequence. Both cores must answer
 * alike: these are the stand-in's reference.
 *
 * @module
 */

import { assert, assertEquals, assertStringIncludes } from "../harness/assert.ts";
import { REPOSITORY_ROOT } from "../harness/paths.ts";
import { CoreError, UNLOAD_AFTER_LOAD_MS } from "../../runtime/core/mod.ts";
import { CORE_LABEL, coreTest, fp32, tensor, values, withCore } from "./core_session.ts";

interface IndexEntry {
  name: string;
  version?: string;
  state?: string;
  reason?: string;
}

interface ModelStats {
  model_stats: {
    name: string;
    version: string;
    inference_count: number;
    execution_count: number;
    inference_stats: Record<string, { count: number; ns: number }>;
    batch_stats: { batch_size: number }[];
  }[];
}

async function failure(promise: Promise<unknown>): Promise<CoreError> {
  const error = await promise.then(() => undefined, (e) => e);
  assert(error instanceof CoreError, `expected a CoreError, got ${error}`);
  return error;
}

function thrown(call: () => unknown): CoreError {
  try {
    call();
  } catch (error) {
    assert(error instanceof CoreError, `expected a CoreError, got ${error}`);
    return error;
  }
  throw new Error("no error");
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 50));
  assert(check(), what);
}

coreTest("the repository index: ready, failed with its reason, unloaded, never loaded", {
  models: ["add_sub", "syntax_error", "stream_text"],
  startupModels: ["add_sub"],
}, async (core, t) => {
  const index = () => core.server.repositoryIndex() as IndexEntry[];
  await t.step("at the start: add_sub ready, the others known by name only", () => {
    assertEquals(index(), [
      { name: "add_sub", version: "1", state: "READY" },
      { name: "stream_text" },
      { name: "syntax_error" },
    ]);
    assertEquals(core.server.ready(), true);
    assertEquals(core.server.live(), true);
  });
  await t.step("a failed load is UNAVAILABLE with the model's error", async () => {
    const error = await failure(core.server.loadModel("syntax_error"));
    assertEquals(error.code, "INVALID_ARG");
    assertStringIncludes(
      error.message,
      "load failed for model 'syntax_error': version 1 is at UNAVAILABLE state: Invalid argument:",
    );
    const entry = index().find((e) => e.name === "syntax_error");
    assertEquals([entry?.version, entry?.state], ["1", "UNAVAILABLE"]);
    assertStringIncludes(entry?.reason ?? "", "model.ts:8:38");
    assertEquals(core.server.ready(), false, "strict readiness: a model failed to load");
    assertEquals(
      (core.server.repositoryIndex(true) as IndexEntry[]).map((e) => e.name),
      ["add_sub"],
    );
  });
  await t.step("an unloaded model is UNAVAILABLE, 'unloaded'", async () => {
    await core.server.unloadModel("add_sub");
    await until(
      () => index().find((e) => e.name === "add_sub")?.reason === "unloaded",
      "add_sub never became 'unloaded'",
    );
    assertEquals(index().find((e) => e.name === "add_sub")?.state, "UNAVAILABLE");
    const error = thrown(() => core.server.modelConfig("add_sub"));
    assertEquals(error.code, "NOT_FOUND");
    assertEquals(error.message, "Request for unknown model: 'add_sub' has no available versions");
  });
});

coreTest("metadata, configuration and statistics in Triton's shapes", {
  models: ["accumulator", "add_sub"],
}, async (core) => {
  assertEquals(core.server.modelMetadata("accumulator"), {
    name: "accumulator",
    versions: ["1"],
    platform: "deno",
    inputs: [{ name: "INPUT0", datatype: "INT32", shape: [-1, 1] }],
    outputs: [{ name: "OUTPUT0", datatype: "INT32", shape: [-1, 1] }],
  });
  const config = core.server.modelConfig("add_sub") as {
    name: string;
    instance_group: { name: string; kind: string; count: number }[];
    version_policy: unknown;
  };
  assertEquals(config.name, "add_sub");
  assertEquals(
    config.instance_group.map((g) => [g.name, g.kind, g.count]),
    [["add_sub_0", "KIND_CPU", 2]],
  );
  assertEquals(config.version_policy, { latest: { num_versions: 1 } });
  await core.infer("add_sub", [fp32("INPUT0", [1, 2]), fp32("INPUT1", [3, 4])]);
  const stats = () => (core.server.modelStatistics("add_sub") as unknown as ModelStats);
  // The backend reports the batch (execution_count) after it released the request.
  await until(() => stats().model_stats[0].execution_count === 1, "no execution counted");
  const entry = stats().model_stats[0];
  assertEquals([entry.name, entry.version, entry.inference_count, entry.execution_count], [
    "add_sub",
    "1",
    1,
    1,
  ]);
  for (const part of ["success", "queue", "compute_input", "compute_infer", "compute_output"]) {
    assertEquals(entry.inference_stats[part].count, 1, part);
  }
  assertEquals(entry.inference_stats.fail, { count: 0, ns: 0 });
  const every = core.server.modelStatistics("") as unknown as ModelStats;
  assertEquals(every.model_stats.map((s) => s.name), ["accumulator", "add_sub"]);
  const unknown = thrown(() => core.server.modelStatistics("nope"));
  assertEquals([unknown.code, unknown.message], [
    "INVALID_ARG",
    "requested model 'nope' is not available",
  ]);
  const version = thrown(() => core.server.modelMetadata("add_sub", 2));
  assertEquals([version.code, version.message], [
    "NOT_FOUND",
    "Request for unknown model: 'add_sub' version 2 is not found",
  ]);
  const metrics = core.server.metricsText();
  assertStringIncludes(metrics, 'nv_inference_request_success{model="add_sub",version="1"} 1');
  assertStringIncludes(metrics, 'nv_inference_count{model="add_sub",version="1"} 1');
});

coreTest("requests the model's configuration refuses are refused by the core itself", {
  models: ["add_sub", "accumulator"],
}, async (core) => {
  // A request Triton refused is still the caller's to free: until then it
  // holds its model (and the server's stop waits for it).
  const refusal = (request: Parameters<typeof core.server.call>[0]) => {
    const call = core.server.call(request);
    try {
      return thrown(() => call.start());
    } finally {
      call.free();
    }
  };
  const missing = refusal({
    model: "add_sub",
    inputs: [{ name: "INPUT0", datatype: "FP32", shape: [1], data: new Uint8Array(4) }],
  });
  assertEquals(missing.code, "INVALID_ARG");
  assertStringIncludes(missing.message, "expected 2 inputs but got 1 inputs for model 'add_sub'");
  const datatype = refusal({
    model: "add_sub",
    inputs: [
      { name: "INPUT0", datatype: "INT32", shape: [1], data: new Uint8Array(4) },
      { name: "INPUT1", datatype: "FP32", shape: [1], data: new Uint8Array(4) },
    ],
  });
  assertStringIncludes(
    datatype.message,
    "inference input 'INPUT0' data-type is 'INT32', but model 'add_sub' expects 'FP32'",
  );
  const output = refusal({
    model: "add_sub",
    inputs: [
      { name: "INPUT0", datatype: "FP32", shape: [1], data: new Uint8Array(4) },
      { name: "INPUT1", datatype: "FP32", shape: [1], data: new Uint8Array(4) },
    ],
    outputs: ["NOPE"],
  });
  assertEquals(output.message, "unexpected inference output 'NOPE' for model 'add_sub'");
  const sequence = refusal({
    model: "accumulator",
    inputs: [{ name: "INPUT0", datatype: "INT32", shape: [2, 1], data: new Uint8Array(8) }],
    correlationId: 5n,
    flags: 1,
  });
  assertEquals(
    sequence.message,
    "inference request to model 'accumulator' must specify batch-size 1 due to requirements " +
      "of sequence batcher",
  );
  // Triton's sequence batcher may hold the sequence open (until its idle
  // timeout, past the exit timeout): end it.
  const end = await core.infer("accumulator", [
    tensor("INPUT0", "INT32", [1, 1], new Int32Array([1])),
  ], {
    correlationId: 5n,
    flags: 3,
  });
  assertEquals(end.error, null);
  const noId = refusal({
    model: "accumulator",
    inputs: [{ name: "INPUT0", datatype: "INT32", shape: [1, 1], data: new Uint8Array(4) }],
  });
  assertEquals(
    noId.message,
    "inference request to model 'accumulator' must specify a non-zero or non-empty " +
      "correlation ID",
  );
  const unknown = thrown(() => core.server.call({ model: "nope", inputs: [] }));
  assertEquals(unknown.message, "Request for unknown model: 'nope' is not found");
});

coreTest("a load with a configuration replaces the repository's until the repository changes", {
  models: ["add_sub"],
}, async (core) => {
  const config = JSON.stringify({
    name: "add_sub",
    backend: "deno",
    max_batch_size: 0,
    input: ["INPUT0", "INPUT1"].map((name) => ({ name, data_type: "TYPE_FP32", dims: [-1] })),
    output: ["OUTPUT0", "OUTPUT1"].map((name) => ({ name, data_type: "TYPE_FP32", dims: [-1] })),
    instance_group: [{ count: 3, kind: "KIND_CPU" }],
  });
  await core.server.loadModel("add_sub", { config });
  const loaded = core.server.modelConfig("add_sub") as {
    instance_group: { name: string; count: number }[];
  };
  assertEquals(loaded.instance_group.map((g) => [g.name, g.count]), [["add_sub_0", 3]]);
  const answer = await core.infer("add_sub", [fp32("INPUT0", [2]), fp32("INPUT1", [1])]);
  assertEquals(values(answer, "OUTPUT1"), [1]);
  // Loading again finds nothing changed in the repository: the model stays.
  await core.server.loadModel("add_sub");
  const count = () =>
    (core.server.modelConfig("add_sub") as { instance_group: { count: number }[] })
      .instance_group[0].count;
  assertEquals(count(), 3);
  // Once config.pbtxt changes, a load reads it again.
  const configFile = `${core.repository}/add_sub/config.pbtxt`;
  Deno.utimeSync(configFile, new Date(), new Date(Date.now() + 5_000));
  await core.server.loadModel("add_sub");
  assertEquals(count(), 2);
  const unknown = await failure(core.server.loadModel("nope"));
  assertEquals([unknown.code, unknown.message], [
    "INTERNAL",
    "failed to load 'nope', failed to poll from model repository",
  ]);
  // Unloading a model that is not loaded succeeds.
  await core.server.unloadModel("nope");
});

for (const mode of ["none", "poll"] as const) {
  coreTest(`model control is refused in mode ${mode}, with Triton's message`, {
    models: ["add_sub"],
    modelControl: mode,
  }, async (core) => {
    assertEquals(core.server.modelReady("add_sub"), true, "mode none and poll load everything");
    const attempts = [
      () => core.server.loadModel("add_sub"),
      () => core.server.unloadModel("add_sub"),
    ];
    for (const attempt of attempts) {
      const error = await failure(attempt());
      assertEquals([error.code, error.message], [
        "UNAVAILABLE",
        "explicit model load / unload is not allowed if polling is enabled",
      ]);
    }
  });
}

Deno.test({
  name: `${CORE_LABEL}: a model that fails to load fails the start (Triton's exit_on_error)`,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const error = await failure(
      withCore({ models: ["syntax_error", "add_sub"], modelControl: "none" }, () => {
        throw new Error("the server started");
      }),
    );
    assertEquals(error.message, "failed to load all models");
    const explicit = await failure(
      withCore({ models: ["syntax_error", "add_sub"] }, () => {
        throw new Error("the server started");
      }),
    );
    assertStringIncludes(explicit.message, "load failed for model 'syntax_error'");
  },
});

coreTest("an unload right after a load waits for Triton's instance threads to settle", {
  models: ["add_sub"],
  startupModels: [],
  realCoreOnly: "the race is in Triton's core (StopBackendThread); the stand-in has none",
}, async (core) => {
  // Load and unload back to back, as a test or an operator's script does:
  // each unload starts no sooner than UNLOAD_AFTER_LOAD_MS after the load
  // (and of a reload, which starts instances of its own too).
  for (let round = 0; round < 3; round++) {
    await core.server.loadModel("add_sub");
    const loaded = performance.now();
    await core.server.unloadModel("add_sub");
    const waited = performance.now() - loaded;
    assert(waited >= UNLOAD_AFTER_LOAD_MS - 1, `unloaded ${waited.toFixed(1)} ms after the load`);
    await until(() => {
      try {
        return !core.server.modelReady("add_sub");
      } catch {
        return true; // no version left: unloaded
      }
    }, "add_sub unloads");
  }
});

coreTest("without exit_on_error the server starts, the failed model UNAVAILABLE", {
  models: ["syntax_error", "add_sub"],
  modelControl: "none",
  exitOnError: false,
}, async (core) => {
  const index = core.server.repositoryIndex() as IndexEntry[];
  assertEquals(index.map((e) => [e.name, e.version, e.state]), [
    ["add_sub", "1", "READY"],
    ["syntax_error", "1", "UNAVAILABLE"],
  ]);
  assertStringIncludes(index[1].reason ?? "", "model.ts:8:38");
  assertEquals(core.server.ready(), false);
  const answer = await core.infer("add_sub", [fp32("INPUT0", [1]), fp32("INPUT1", [1])]);
  assertEquals(values(answer, "OUTPUT0"), [2]);
});

const BATCH_IDENTITY = Deno.readTextFileSync(
  `${REPOSITORY_ROOT}/tests/fixtures/batch_identity/1/model.ts`,
);

coreTest("the dynamic batcher gathers requests queued within max_queue_delay_microseconds", {
  models: [{
    name: "batch_delay",
    files: {
      "config.pbtxt": `name: "batch_delay"
backend: "deno"
max_batch_size: 8
dynamic_batching { max_queue_delay_microseconds: 500000 }
input [{ name: "INPUT0" data_type: TYPE_FP32 dims: [ 4 ] }]
output [{ name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 4 ] }]
instance_group [{ count: 1 kind: KIND_CPU }]
`,
      "1/model.ts": BATCH_IDENTITY,
    },
  }],
}, async (core) => {
  const answers = await Promise.all(
    [0, 1, 2, 3].map((i) =>
      core.infer("batch_delay", [tensor("INPUT0", "FP32", [2, 4], new Float32Array(8).fill(i))])
    ),
  );
  answers.forEach((answer, i) => assertEquals(values(answer, "OUTPUT0"), Array(8).fill(i)));
  const statistics = () =>
    (core.server.modelStatistics("batch_delay") as unknown as ModelStats).model_stats[0];
  await until(() => statistics().execution_count > 0, "no execution counted");
  const stats = statistics();
  // 4 requests of batch size 2 fill max_batch_size 8: one execution.
  assertEquals([stats.inference_count, stats.execution_count], [8, 1]);
  assertEquals(stats.batch_stats.map((entry) => entry.batch_size), [8]);
});

coreTest("the sequence batcher forgets a sequence idle past max_sequence_idle_microseconds", {
  models: [{
    name: "short_sequences",
    files: {
      "config.pbtxt": Deno.readTextFileSync(`${REPOSITORY_ROOT}/models/accumulator/config.pbtxt`)
        .replace('name: "accumulator"', 'name: "short_sequences"')
        .replace(
          "max_sequence_idle_microseconds: 10000000",
          "max_sequence_idle_microseconds: 300000",
        ),
      "1/model.ts": Deno.readTextFileSync(`${REPOSITORY_ROOT}/models/accumulator/1/model.ts`),
    },
  }],
}, async (core) => {
  const send = (value: number, flags: number) =>
    core.infer("short_sequences", [tensor("INPUT0", "INT32", [1, 1], new Int32Array([value]))], {
      correlationId: 11n,
      flags,
    });
  assertEquals(values(await send(4, 1), "OUTPUT0"), [4]);
  assertEquals(values(await send(5, 0), "OUTPUT0"), [9]);
  await new Promise((r) => setTimeout(r, 1500));
  const late = await send(1, 0).then((answer) => answer.error?.message, (e: Error) => e.message);
  assertStringIncludes(late ?? "", "must specify the START flag on the first request");
  // A new START begins again.
  assertEquals(values(await send(7, 1), "OUTPUT0"), [7]);
  assertEquals(values(await send(1, 2), "OUTPUT0"), [8]);
});
