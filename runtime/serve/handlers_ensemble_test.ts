import { assert, assertEquals, assertStringIncludes } from "./_test_assert.ts";
import { AddSubExecutor, FunctionExecutor, heldOutput, inputOf } from "./_test_fakes.ts";
import { handlerFor, sseEvents } from "./_test_server.ts";
import { ModelManager } from "./model_manager.ts";
import { describeModel } from "./server.ts";

const ADD_SUB = `
name: "add_sub"
backend: "deno"
input [{ name: "INPUT0" data_type: TYPE_FP32 dims: [4] },
       { name: "INPUT1" data_type: TYPE_FP32 dims: [4] }]
output [{ name: "OUTPUT0" data_type: TYPE_FP32 dims: [4] },
        { name: "OUTPUT1" data_type: TYPE_FP32 dims: [4] }]
`;

/** A batching model that doubles X (to see tensors cross the batching boundary). */
const DOUBLE = `
name: "double"
backend: "deno"
max_batch_size: 8
input [{ name: "X" data_type: TYPE_FP32 dims: [4] }]
output [{ name: "Y" data_type: TYPE_FP32 dims: [4] }]
`;

/** (A + B) + (A - B) = 2A and (A + B) - (A - B) = 2B, then 2A doubled again. */
const ENSEMBLE = `
name: "twice"
platform: "ensemble"
input [{ name: "A" data_type: TYPE_FP32 dims: [4] }, { name: "B" data_type: TYPE_FP32 dims: [4] }]
output [{ name: "TWO_A" data_type: TYPE_FP32 dims: [4] },
        { name: "TWO_B" data_type: TYPE_FP32 dims: [4] },
        { name: "FOUR_A" data_type: TYPE_FP32 dims: [4] }]
ensemble_scheduling {
  step [
    { model_name: "add_sub" model_version: -1
      input_map { key: "INPUT0" value: "A" } input_map { key: "INPUT1" value: "B" }
      output_map { key: "OUTPUT0" value: "sum" } output_map { key: "OUTPUT1" value: "diff" } },
    { model_name: "add_sub" model_version: 1
      input_map { key: "INPUT0" value: "sum" } input_map { key: "INPUT1" value: "diff" }
      output_map { key: "OUTPUT0" value: "TWO_A" } output_map { key: "OUTPUT1" value: "TWO_B" } },
    { model_name: "double" model_version: -1
      input_map { key: "X" value: "TWO_A" } output_map { key: "Y" value: "FOUR_A" } }
  ]
}`;

const BROKEN_ENSEMBLE = `
name: "lost"
platform: "ensemble"
input [{ name: "A" data_type: TYPE_FP32 dims: [4] }]
output [{ name: "B" data_type: TYPE_FP32 dims: [4] }]
ensemble_scheduling { step [{ model_name: "ghost" model_version: -1
  input_map { key: "X" value: "A" } output_map { key: "Y" value: "B" } }] }`;

function fp32(values: number[]) {
  return new Uint8Array(new Float32Array(values).buffer);
}

function executorFor(name: string, json: string) {
  if (name === "add_sub") return new AddSubExecutor(json);
  return new FunctionExecutor(json, (request) => {
    const x = new Float32Array(inputOf(request, "X").data.slice().buffer);
    return {
      ok: true,
      outputs: [
        heldOutput("Y", "FP32", [...inputOf(request, "X").shape], fp32([...x].map((v) => v * 2))),
      ],
      parameters: {},
    };
  });
}

const request = {
  id: "e1",
  inputs: [
    { name: "A", datatype: "FP32", shape: [4], data: [1, 2, 3, 4] },
    { name: "B", datatype: "FP32", shape: [4], data: [10, 20, 30, 40] },
  ],
};

Deno.test("ensemble: steps chained over the composing models", async () => {
  const server = await handlerFor(
    { twice: ENSEMBLE, add_sub: ADD_SUB, double: DOUBLE },
    executorFor,
  );
  try {
    const response = await server.call("POST", "/v2/models/twice/infer", JSON.stringify(request));
    assertEquals(response.status, 200);
    assertEquals(await response.json(), {
      id: "e1",
      model_name: "twice",
      model_version: "1",
      outputs: [
        { name: "TWO_A", datatype: "FP32", shape: [4], data: [2, 4, 6, 8] },
        { name: "TWO_B", datatype: "FP32", shape: [4], data: [20, 40, 60, 80] },
        // Through a batching model: [4] gained a batch of 1 there, and lost it again here.
        { name: "FOUR_A", datatype: "FP32", shape: [4], data: [4, 8, 12, 16] },
      ],
    });
    const addSub = server.executors.get("add_sub") as AddSubExecutor;
    assertEquals(addSub.batchSizes.length, 2);
    const doubled = (server.executors.get("double") as FunctionExecutor).executed[0].request;
    assertEquals([doubled.id, doubled.inputs[0].shape, doubled.batchSize], ["e1", [1, 4], 1]);

    // Only the steps needed for the requested outputs run.
    const only = await server.call(
      "POST",
      "/v2/models/twice/infer",
      JSON.stringify({ ...request, outputs: [{ name: "TWO_B" }] }),
    );
    assertEquals((await only.json()).outputs.map((o: { name: string }) => o.name), ["TWO_B"]);
    assertEquals(addSub.batchSizes.length, 4);
    assertEquals((server.executors.get("double") as FunctionExecutor).executed.length, 1);

    const stats = await (await server.call("GET", "/v2/models/twice/stats")).json();
    assertEquals(stats.model_stats[0].inference_stats.success.count, 2);
  } finally {
    await server.close();
  }
});

Deno.test("ensemble: metadata, config and readiness", async () => {
  const server = await handlerFor(
    { twice: ENSEMBLE, add_sub: ADD_SUB, double: DOUBLE, lost: BROKEN_ENSEMBLE },
    executorFor,
  );
  try {
    const metadata = await (await server.call("GET", "/v2/models/twice")).json();
    assertEquals(metadata.platform, "ensemble");
    assertEquals(metadata.versions, ["1"]);
    assertEquals(metadata.inputs.map((i: { name: string }) => i.name), ["A", "B"]);
    const config = await (await server.call("GET", "/v2/models/twice/config")).json();
    assertEquals(config.ensemble_scheduling.step.length, 3);
    assertEquals(config.instance_group, []); // Ensembles have no instances of their own.
    assertEquals((await server.call("GET", "/v2/models/twice/ready")).status, 200);
    assertEquals((await server.call("GET", "/v2/models/lost/ready")).status, 400);
    const index = await (await server.call("POST", "/v2/repository/index")).json();
    const lost = index.find((entry: { name: string }) => entry.name === "lost");
    assertEquals(lost.state, "UNAVAILABLE");
    assertStringIncludes(lost.reason, "needs model 'ghost', which is not in the model repository");
  } finally {
    await server.close();
  }
});

Deno.test("ensemble: errors are Triton's 'in ensemble' messages naming the step", async () => {
  const server = await handlerFor(
    { twice: ENSEMBLE, add_sub: ADD_SUB, double: DOUBLE },
    executorFor,
  );
  try {
    const failing = await server.call(
      "POST",
      "/v2/models/twice/infer",
      JSON.stringify({ ...request, parameters: { fail: true } }), // Parameters reach every step.
    );
    assertEquals(failing.status, 500);
    assertEquals(
      (await failing.json()).error,
      "in ensemble 'twice', model asked to fail (step 1, model 'add_sub')",
    );

    await server.call("POST", "/v2/repository/models/double/unload");
    const gone = await server.call("POST", "/v2/models/twice/infer", JSON.stringify(request));
    assertEquals(gone.status, 503);
    const message = (await gone.json()).error;
    assert(message.startsWith("in ensemble 'twice', Request for unknown model: 'double'"), message);
    assertStringIncludes(message, "(step 3, model 'double')");

    const bad = await server.call(
      "POST",
      "/v2/models/twice/infer",
      JSON.stringify({ inputs: [request.inputs[0]] }),
    );
    assertEquals(bad.status, 400); // The ensemble's own inputs are checked first.
  } finally {
    await server.close();
  }
});

Deno.test("ensemble: generate_stream on an ensemble declared decoupled answers once", async () => {
  const decoupled = ENSEMBLE.replace(
    'platform: "ensemble"',
    'platform: "ensemble" model_transaction_policy { decoupled: true }',
  );
  const server = await handlerFor(
    { twice: decoupled, add_sub: ADD_SUB, double: DOUBLE },
    executorFor,
  );
  try {
    const response = await server.call(
      "POST",
      "/v2/models/twice/generate_stream",
      JSON.stringify({ A: [1, 2, 3, 4], B: [1, 1, 1, 1] }),
    );
    assertEquals(response.status, 200);
    const events = await sseEvents(response) as Record<string, unknown>[];
    assertEquals(events.length, 1);
    assertEquals(events[0].FOUR_A, [4, 8, 12, 16]);
  } finally {
    await server.close();
  }
});

Deno.test("ensemble: loading only the ensemble loads its composing models", async () => {
  const root = Deno.makeTempDirSync({ prefix: "serve_ensemble_" });
  try {
    for (
      const [name, text] of Object.entries({ twice: ENSEMBLE, add_sub: ADD_SUB, double: DOUBLE })
    ) {
      Deno.mkdirSync(`${root}/${name}/1`, { recursive: true });
      Deno.writeTextFileSync(`${root}/${name}/config.pbtxt`, text);
    }
    const loaded: string[] = [];
    const manager = new ModelManager(root, (spec, _version, json) => {
      loaded.push(spec.name);
      return Promise.resolve(executorFor(spec.name, json));
    });
    const reports = await manager.loadAll(["twice"]);
    assertEquals(reports.map((report) => [report.name, report.state]), [["twice", "READY"]]);
    assertEquals(describeModel(reports[0]), "model twice: READY, version 1, ensemble of 3 step(s)");
    assertEquals(loaded.sort(), ["add_sub", "double"]);
    assert(await manager.isReady("add_sub") && await manager.isReady("double"));
    await manager.unloadAll();
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});
