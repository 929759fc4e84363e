/**
 * End to end: on serve's own model manager (the default), a call from one
 * model to another (BLS) goes through the called model's scheduler as an
 * HTTP request to it would: a sequence model gets its START/READY/END and
 * CORRID controls, a dynamic batcher batches concurrent calls, the called
 * model's statistics count them, a decoupled model's stream comes back to
 * the caller, errors name the problem, a call cancelled while queued never
 * runs, a model may call itself (on its second instance), a shutdown
 * with a call in flight ends cleanly, a model unloaded while a call to it
 * is queued runs the call first, and a call to an ensemble runs the
 * ensemble's steps through their schedulers as an HTTP request to it does.
 * A call still queued in the host when forwarding stops is tested in
 * host_bls_test.ts; the stand-in server's own schedulers, which do the same,
 * in stand_in_server_test.ts.
 */
import { assert, assertEquals, assertStringIncludes } from "../../runtime/serve/_test_assert.ts";
import {
  copyTree,
  infer,
  repositoryWith as repositoryIn,
  ROOT,
  type ServeProcess,
  startServeProcess,
} from "./server_process.ts";

/** A repository with these example models and test fixtures. */
function repositoryWith(examples: string[], fixtures: string[]): string {
  return repositoryIn(examples, fixtures, "in_process_calls_");
}

function editConfig(repository: string, model: string, from: string, to: string): void {
  const path = `${repository}/${model}/config.pbtxt`;
  const text = Deno.readTextFileSync(path);
  assertStringIncludes(text, from);
  Deno.writeTextFileSync(path, text.replace(from, to));
}

interface ModelStats {
  inference_count: number;
  execution_count: number;
  inference_stats: { success: { count: number }; fail: { count: number } };
  batch_stats: { batch_size: number }[];
}

async function stats(server: ServeProcess, model: string): Promise<ModelStats> {
  const response = await fetch(`${server.url}/v2/models/${model}/stats`);
  return (await response.json()).model_stats[0];
}

async function withServer(
  repository: string,
  args: string[],
  body: (server: ServeProcess) => Promise<void>,
): Promise<void> {
  const server = await startServeProcess({ repository, args });
  try {
    await body(server);
  } finally {
    const stopped = await server.stop("SIGTERM");
    Deno.removeSync(repository, { recursive: true });
    assertEquals(stopped.code, 0, stopped.log);
  }
}

const ADD_SUB_INPUTS = [
  { name: "INPUT0", datatype: "FP32", shape: [2], data: [1, 2] },
  { name: "INPUT1", datatype: "FP32", shape: [2], data: [3, 4] },
];

Deno.test({
  name: "serve: a BLS call goes through the called model's sequence batcher (START, READY, " +
    "END, CORRID) and is counted in its statistics",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const repository = repositoryWith(["add_sub", "bls_add_sub", "accumulator"], [
      "bls_sequence",
    ]);
    await withServer(repository, [], async (server) => {
      assert(!server.log().includes("stand-in server"), server.log());
      const add = await infer(server, "bls_add_sub", { inputs: ADD_SUB_INPUTS });
      assertEquals(add.status, 200, JSON.stringify(add.json));
      assertEquals((add.json.outputs as { data: number[] }[])[0].data, [4, 6]);
      const added = await stats(server, "add_sub");
      assertEquals(
        [added.inference_count, added.execution_count, added.inference_stats.success.count],
        [1, 1, 1],
      );

      // accumulator answers only requests its sequence batcher started (START control);
      // END ends the sequence, so a later request without START is refused.
      const step = async (id: number, value: number, parameters: Record<string, unknown>) => {
        const { status, json } = await infer(server, "bls_sequence", {
          parameters: { sequence_id: id, ...parameters },
          inputs: [{ name: "INPUT0", datatype: "INT32", shape: [1], data: [value] }],
        });
        return { status, json };
      };
      const value = (answer: { status: number; json: Record<string, unknown> }) => {
        assertEquals(answer.status, 200, JSON.stringify(answer.json));
        return (answer.json.outputs as { data: number[] }[])[0].data[0];
      };
      assertEquals(value(await step(7, 5, { sequence_start: true })), 5);
      // Another sequence in between keeps its own state.
      assertEquals(value(await step(8, 100, { sequence_start: true })), 100);
      assertEquals(value(await step(7, 3, {})), 8);
      assertEquals(value(await step(7, 2, { sequence_end: true })), 10);
      const after = await step(7, 1, {});
      assert(after.status >= 400, JSON.stringify(after.json));
      assertStringIncludes(String(after.json.error), "must specify the START flag");
      const accumulator = await stats(server, "accumulator");
      assertEquals(accumulator.inference_count, 4);
      assertEquals(accumulator.inference_stats.fail.count, 0);
    });
  },
});

Deno.test({
  name: "serve: BLS calls in flight together are batched by the called model's dynamic batcher",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const repository = repositoryWith([], ["bls_fanout", "batch_identity"]);
    // The batcher waits up to 2 s for a batch of four, so that the four calls meet.
    editConfig(
      repository,
      "batch_identity",
      "dynamic_batching { }",
      "dynamic_batching { preferred_batch_size: [4] max_queue_delay_microseconds: 2000000 }",
    );
    await withServer(repository, [], async (server) => {
      const { status, json } = await infer(server, "bls_fanout", {
        inputs: [{ name: "INPUT0", datatype: "FP32", shape: [4], data: [1, 2, 3, 4] }],
      });
      assertEquals(status, 200, JSON.stringify(json));
      assertEquals((json.outputs as { data: number[] }[])[0].data, [1, 2, 3, 4]);
      const entry = await stats(server, "batch_identity");
      assertEquals([entry.inference_count, entry.execution_count], [4, 1]);
      assertEquals(entry.batch_stats.map((batch) => batch.batch_size), [4]);
    });
  },
});

Deno.test({
  name: "serve: a BLS call to an unknown or unloaded model fails with an error naming it",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const repository = repositoryWith(["add_sub", "bls_add_sub"], []);
    editConfig(
      repository,
      "bls_add_sub",
      'string_value: "add_sub"',
      'string_value: "add_sub, no_such_model"',
    );
    await withServer(
      repository,
      ["--model-control-mode", "explicit", "--load-model", "bls_add_sub"],
      async (server) => {
        const unknown = await infer(server, "bls_add_sub", {
          parameters: { target: "no_such_model" },
          inputs: ADD_SUB_INPUTS,
        });
        assertEquals(unknown.status, 404, JSON.stringify(unknown.json));
        assertStringIncludes(
          String(unknown.json.error),
          "Request for unknown model: 'no_such_model' is not found",
        );
        // add_sub is in the repository but not loaded: the caller gets what a
        // client asking add_sub directly gets.
        const direct = await infer(server, "add_sub", { inputs: ADD_SUB_INPUTS });
        const unloaded = await infer(server, "bls_add_sub", { inputs: ADD_SUB_INPUTS });
        assertEquals(unloaded.status, direct.status, JSON.stringify(unloaded.json));
        assertStringIncludes(String(unloaded.json.error), String(direct.json.error));
        assert(!String(unloaded.json.error).includes(ROOT), String(unloaded.json.error));
        // Loaded, the same call goes through.
        const load = await fetch(`${server.url}/v2/repository/models/add_sub/load`, {
          method: "POST",
        });
        assertEquals(load.status, 200, await load.text());
        const loaded = await infer(server, "bls_add_sub", { inputs: ADD_SUB_INPUTS });
        assertEquals(loaded.status, 200, JSON.stringify(loaded.json));
      },
    );
  },
});

Deno.test({
  name: "serve: a decoupled model called through BLS streams its responses back to the caller",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const repository = repositoryWith(["stream_text", "bls_stream"], []);
    await withServer(repository, [], async (server) => {
      const { status, json } = await infer(server, "bls_stream", {
        inputs: [{ name: "TEXT", datatype: "BYTES", shape: [1], data: ["red green blue"] }],
      });
      assertEquals(status, 200, JSON.stringify(json));
      assertEquals((json.outputs as { data: string[] }[])[0].data, ["red", "green", "blue"]);
      const entry = await stats(server, "stream_text");
      assertEquals([entry.inference_count, entry.execution_count], [1, 1]);
    });
  },
});

Deno.test({
  name: "serve: a shutdown with a BLS call in flight lets it finish and stops cleanly",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const repository = repositoryWith(["stream_text", "bls_stream"], []);
    const server = await startServeProcess({ repository });
    try {
      // Six words, 300 ms apart: the call lasts about two seconds.
      const answer = fetch(`${server.url}/v2/models/bls_stream/infer`, {
        method: "POST",
        body: JSON.stringify({
          parameters: { delay_ms: 300 },
          inputs: [{ name: "TEXT", datatype: "BYTES", shape: [1], data: ["a b c d e f"] }],
        }),
      });
      // The call ran once stream_text counts it.
      const deadline = Date.now() + 30_000;
      while ((await stats(server, "stream_text")).inference_count === 0) {
        assert(Date.now() < deadline, "the BLS call never reached stream_text");
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const stopping = server.stop("SIGTERM");
      const response = await answer;
      const json = await response.json();
      assertEquals(response.status, 200, JSON.stringify(json));
      assertEquals((json.outputs as { data: string[] }[])[0].data, ["a", "b", "c", "d", "e", "f"]);
      const stopped = await stopping;
      assertEquals(stopped.code, 0, stopped.log);
      assertStringIncludes(stopped.log, "[serve] stopped");
      assert(!stopped.log.includes("stopped with problems"), stopped.log);
    } finally {
      await server.stop("SIGKILL").catch(() => {});
      Deno.removeSync(repository, { recursive: true });
    }
  },
});

Deno.test({
  name: "serve: a BLS call its caller cancels while it waits in the queue never runs",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const repository = repositoryWith([], ["bls_deadline", "sleep_in_execute"]);
    // The sleeper's one instance stays busy 5 s on a request with id "sleep".
    const code = `${repository}/sleep_in_execute/1/model.ts`;
    Deno.writeTextFileSync(code, Deno.readTextFileSync(code).replace("20_000", "5_000"));
    const inputs = [
      { name: "INPUT0", datatype: "FP32", shape: [4], data: [1, 2, 3, 4] },
      { name: "INPUT1", datatype: "FP32", shape: [4], data: [1, 1, 1, 1] },
    ];
    await withServer(repository, [], async (server) => {
      const order: string[] = [];
      const sleeping = infer(server, "sleep_in_execute", { id: "sleep", inputs })
        .then((answer) => (order.push("sleeper"), answer));
      // The sleeper runs once it is counted as executing (its queue is empty).
      await new Promise((resolve) => setTimeout(resolve, 500));
      const caller = await infer(server, "bls_deadline", {
        parameters: { timeout_ms: 300 },
        inputs,
      });
      order.push("caller");
      assertEquals(caller.status, 200, JSON.stringify(caller.json));
      assertStringIncludes((caller.json.outputs as { data: string[] }[])[0].data[0], "error:");
      const slept = await sleeping;
      assertEquals(slept.status, 200, JSON.stringify(slept.json));
      // The caller had its answer while the call still waited behind the sleeper.
      assertEquals(order, ["caller", "sleeper"]);
      // Only the sleeper's own request ran: the cancelled call was dropped.
      const entry = await stats(server, "sleep_in_execute");
      assertEquals([entry.inference_count, entry.execution_count], [1, 1]);
      // The model still takes calls.
      const again = await infer(server, "bls_deadline", {
        parameters: { timeout_ms: 30_000 },
        inputs,
      });
      assertEquals((again.json.outputs as { data: string[] }[])[0].data, ["ok"]);
      assertEquals((await stats(server, "sleep_in_execute")).inference_count, 2);
    });
  },
});

Deno.test({
  name: "serve: a model that calls itself through BLS is served by its second instance and " +
    "counts both requests",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const repository = repositoryWith(["add_sub", "bls_add_sub"], []);
    editConfig(repository, "bls_add_sub", "count: 1", "count: 2");
    editConfig(
      repository,
      "bls_add_sub",
      'string_value: "add_sub"',
      'string_value: "add_sub, bls_add_sub"',
    );
    await withServer(repository, [], async (server) => {
      // The outer request calls bls_add_sub, whose call (no `target`) calls add_sub.
      const { status, json } = await infer(server, "bls_add_sub", {
        parameters: { target: "bls_add_sub" },
        inputs: ADD_SUB_INPUTS,
      });
      assertEquals(status, 200, JSON.stringify(json));
      assertEquals((json.outputs as { data: number[] }[])[0].data, [4, 6]);
      const self = await stats(server, "bls_add_sub");
      assertEquals([self.inference_count, self.execution_count], [2, 2]);
      assertEquals((await stats(server, "add_sub")).inference_count, 1);
    });
  },
});

/** A copy of add_sub named `name`. */
function addSubCopy(repository: string, name: string): void {
  copyTree(`${ROOT}models/add_sub`, `${repository}/${name}`);
  editConfig(repository, name, 'name: "add_sub"', `name: "${name}"`);
}

/**
 * An ensemble with add_sub's signature: `first` computes (a + b, a - b), and
 * `second` adds and subtracts those, so OUTPUT0 = 2a and OUTPUT1 = 2b.
 */
function writeChain(repository: string, name: string, first: string, second: string): void {
  Deno.mkdirSync(`${repository}/${name}/1`, { recursive: true });
  const tensor = (role: string, tensorName: string) =>
    `${role} [{ name: "${tensorName}" data_type: TYPE_FP32 dims: [ -1 ] }]`;
  Deno.writeTextFileSync(
    `${repository}/${name}/config.pbtxt`,
    `name: "${name}"
platform: "ensemble"
max_batch_size: 0
${tensor("input", "INPUT0")}
${tensor("input", "INPUT1")}
${tensor("output", "OUTPUT0")}
${tensor("output", "OUTPUT1")}
ensemble_scheduling { step [
  { model_name: "${first}" model_version: -1
    input_map { key: "INPUT0" value: "INPUT0" } input_map { key: "INPUT1" value: "INPUT1" }
    output_map { key: "OUTPUT0" value: "SUM" } output_map { key: "OUTPUT1" value: "DIFF" } },
  { model_name: "${second}" model_version: -1
    input_map { key: "INPUT0" value: "SUM" } input_map { key: "INPUT1" value: "DIFF" }
    output_map { key: "OUTPUT0" value: "OUTPUT0" } output_map { key: "OUTPUT1" value: "OUTPUT1" } }
] }
`,
  );
}

Deno.test({
  name: "serve: a BLS call to an ensemble runs its steps through their schedulers, counted in " +
    "theirs and the ensemble's statistics; a failing step gives the caller the client's error",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const repository = repositoryWith(["add_sub", "bls_add_sub"], []);
    addSubCopy(repository, "add_sub_two");
    writeChain(repository, "add_sub_chain", "add_sub", "add_sub_two");
    editConfig(
      repository,
      "bls_add_sub",
      'string_value: "add_sub"',
      'string_value: "add_sub, add_sub_chain"',
    );
    await withServer(repository, [], async (server) => {
      const called = await infer(server, "bls_add_sub", {
        parameters: { target: "add_sub_chain" },
        inputs: ADD_SUB_INPUTS,
      });
      assertEquals(called.status, 200, JSON.stringify(called.json));
      const outputs = called.json.outputs as { name: string; shape: number[]; data: number[] }[];
      assertEquals(outputs.map((output) => [output.name, output.shape, output.data]), [
        ["OUTPUT0", [2], [2, 4]],
        ["OUTPUT1", [2], [6, 8]],
      ]);
      // The same request over HTTP gets the same outputs.
      const direct = await infer(server, "add_sub_chain", { inputs: ADD_SUB_INPUTS });
      assertEquals(direct.status, 200, JSON.stringify(direct.json));
      assertEquals(
        (direct.json.outputs as { data: number[] }[]).map((output) => output.data),
        outputs.map((output) => output.data),
      );
      for (const model of ["add_sub", "add_sub_two", "add_sub_chain"]) {
        const entry = await stats(server, model);
        assertEquals(
          [entry.inference_stats.success.count, entry.inference_stats.fail.count],
          [2, 0],
          model,
        );
      }
      for (const model of ["add_sub", "add_sub_two"]) {
        assertEquals((await stats(server, model)).execution_count, 2, model);
      }

      // Step 1 refuses inputs of different shapes: the caller gets the error a
      // client of the ensemble gets, naming the step and its model.
      const uneven = [
        { name: "INPUT0", datatype: "FP32", shape: [2], data: [1, 2] },
        { name: "INPUT1", datatype: "FP32", shape: [3], data: [3, 4, 5] },
      ];
      const failed = await infer(server, "bls_add_sub", {
        parameters: { target: "add_sub_chain" },
        inputs: uneven,
      });
      const client = await infer(server, "add_sub_chain", { inputs: uneven });
      assertEquals(client.status, 400, JSON.stringify(client.json));
      assertEquals(failed.status, client.status, JSON.stringify(failed.json));
      assertEquals(failed.json.error, client.json.error);
      assertStringIncludes(
        String(failed.json.error),
        "in ensemble 'add_sub_chain', INPUT0 and INPUT1 must have the same shape",
      );
      assertStringIncludes(String(failed.json.error), "(step 1, model 'add_sub')");
      assert(!String(failed.json.error).includes(ROOT), String(failed.json.error));
      const chain = await stats(server, "add_sub_chain");
      assertEquals([chain.inference_stats.success.count, chain.inference_stats.fail.count], [2, 2]);
      const first = await stats(server, "add_sub");
      assertEquals([first.inference_stats.success.count, first.inference_stats.fail.count], [2, 2]);
      // Step 2 never ran for the failed requests.
      assertEquals((await stats(server, "add_sub_two")).inference_stats.success.count, 2);
      assertEquals((await stats(server, "add_sub_two")).inference_stats.fail.count, 0);
    });
  },
});

Deno.test({
  name: "serve: a BLS call to an ensemble that its caller cancels is answered at once and the " +
    "ensemble starts no further step",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    // bls_deadline calls "sleep_in_execute": here an ensemble of the sleeper
    // (renamed "sleeper") and then add_sub.
    const repository = repositoryWith(["add_sub"], ["bls_deadline", "sleep_in_execute"]);
    Deno.renameSync(`${repository}/sleep_in_execute`, `${repository}/sleeper`);
    editConfig(repository, "sleeper", 'name: "sleep_in_execute"', 'name: "sleeper"');
    const code = `${repository}/sleeper/1/model.ts`;
    Deno.writeTextFileSync(code, Deno.readTextFileSync(code).replace("20_000", "3_000"));
    writeChain(repository, "sleep_in_execute", "sleeper", "add_sub");
    const inputs = [
      { name: "INPUT0", datatype: "FP32", shape: [4], data: [1, 2, 3, 4] },
      { name: "INPUT1", datatype: "FP32", shape: [4], data: [1, 1, 1, 1] },
    ];
    await withServer(repository, [], async (server) => {
      const order: string[] = [];
      const sleeping = infer(server, "sleeper", { id: "sleep", inputs })
        .then((answer) => (order.push("sleeper"), answer));
      await new Promise((resolve) => setTimeout(resolve, 500));
      const caller = await infer(server, "bls_deadline", {
        parameters: { timeout_ms: 300 },
        inputs,
      });
      order.push("caller");
      assertEquals(caller.status, 200, JSON.stringify(caller.json));
      const result = (caller.json.outputs as { data: string[] }[])[0].data[0];
      assertStringIncludes(result, "error: TimeoutError");
      const slept = await sleeping;
      assertEquals(slept.status, 200, JSON.stringify(slept.json));
      assertEquals(order, ["caller", "sleeper"]);
      // The ensemble's first step was queued already and runs; the second
      // never starts, and the ensemble counts the request as failed.
      const deadline = Date.now() + 30_000;
      while ((await stats(server, "sleep_in_execute")).inference_stats.fail.count === 0) {
        assert(Date.now() < deadline, "the cancelled ensemble never ended");
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assertEquals((await stats(server, "sleeper")).inference_count, 2);
      assertEquals((await stats(server, "add_sub")).inference_count, 0);
      // Not cancelled, the same call runs both steps.
      const again = await infer(server, "bls_deadline", {
        parameters: { timeout_ms: 30_000 },
        inputs,
      });
      assertEquals((again.json.outputs as { data: string[] }[])[0].data, ["ok"]);
      assertEquals((await stats(server, "add_sub")).inference_count, 1);
      const chain = await stats(server, "sleep_in_execute");
      assertEquals([chain.inference_stats.success.count, chain.inference_stats.fail.count], [1, 1]);
    });
  },
});

Deno.test({
  name: "serve: a decoupled ensemble called through BLS streams its one response back",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    // bls_stream reads the stream of "stream_text": here a decoupled ensemble
    // whose one step (echo_text, not decoupled) returns its TEXT as TOKEN.
    const repository = repositoryWith(["bls_stream"], []);
    Deno.mkdirSync(`${repository}/echo_text/1`, { recursive: true });
    Deno.writeTextFileSync(
      `${repository}/echo_text/config.pbtxt`,
      `name: "echo_text"
backend: "deno"
max_batch_size: 0
input [{ name: "TEXT" data_type: TYPE_STRING dims: [1] }]
output [{ name: "TOKEN" data_type: TYPE_STRING dims: [1] }]
instance_group [{ kind: KIND_CPU count: 1 }]
`,
    );
    Deno.writeTextFileSync(
      `${repository}/echo_text/1/model.ts`,
      `import { type InferenceRequest, InferenceResponse, type Model, Tensor } from "@triton/deno";
/** Returns TEXT as TOKEN, upper-cased. */
export default class EchoText implements Model {
  /** One response per request. */
  execute(requests: InferenceRequest[]): InferenceResponse[] {
    return requests.map((request) => {
      const text = request.input("TEXT").strings().map((word) => word.toUpperCase());
      return new InferenceResponse([new Tensor("TOKEN", "BYTES", [1], text)]);
    });
  }
}
`,
    );
    Deno.mkdirSync(`${repository}/stream_text/1`, { recursive: true });
    Deno.writeTextFileSync(
      `${repository}/stream_text/config.pbtxt`,
      `name: "stream_text"
platform: "ensemble"
max_batch_size: 0
model_transaction_policy { decoupled: true }
input [{ name: "TEXT" data_type: TYPE_STRING dims: [1] }]
output [{ name: "TOKEN" data_type: TYPE_STRING dims: [1] }]
ensemble_scheduling { step [{ model_name: "echo_text" model_version: -1
  input_map { key: "TEXT" value: "TEXT" } output_map { key: "TOKEN" value: "TOKEN" } }] }
`,
    );
    await withServer(repository, [], async (server) => {
      const { status, json } = await infer(server, "bls_stream", {
        inputs: [{ name: "TEXT", datatype: "BYTES", shape: [1], data: ["red green"] }],
      });
      assertEquals(status, 200, JSON.stringify(json));
      assertEquals((json.outputs as { data: string[] }[])[0].data, ["RED GREEN"]);
      assertEquals((await stats(server, "echo_text")).inference_count, 1);
      assertEquals((await stats(server, "stream_text")).inference_stats.success.count, 1);
    });
  },
});

Deno.test({
  name: "serve: a model unloaded while a BLS call to it is queued runs the call first; later " +
    "calls get the error a client gets",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const repository = repositoryWith([], ["bls_deadline", "sleep_in_execute"]);
    const code = `${repository}/sleep_in_execute/1/model.ts`;
    Deno.writeTextFileSync(code, Deno.readTextFileSync(code).replace("20_000", "2_000"));
    const inputs = [
      { name: "INPUT0", datatype: "FP32", shape: [4], data: [1, 2, 3, 4] },
      { name: "INPUT1", datatype: "FP32", shape: [4], data: [1, 1, 1, 1] },
    ];
    await withServer(
      repository,
      [
        "--model-control-mode",
        "explicit",
        "--load-model",
        "bls_deadline",
        "--load-model",
        "sleep_in_execute",
      ],
      async (server) => {
        const order: string[] = [];
        const sleeping = infer(server, "sleep_in_execute", { id: "sleep", inputs })
          .then((answer) => (order.push("sleeper"), answer));
        await new Promise((resolve) => setTimeout(resolve, 500));
        // Queued behind the sleeper's request.
        const calling = infer(server, "bls_deadline", {
          parameters: { timeout_ms: 30_000 },
          inputs,
        })
          .then((answer) => (order.push("caller"), answer));
        await new Promise((resolve) => setTimeout(resolve, 300));
        const unload = await fetch(
          `${server.url}/v2/repository/models/sleep_in_execute/unload`,
          { method: "POST" },
        );
        order.push("unloaded");
        assertEquals(unload.status, 200, await unload.text());
        const called = await calling;
        assertEquals(called.status, 200, JSON.stringify(called.json));
        assertEquals((called.json.outputs as { data: string[] }[])[0].data, ["ok"]);
        assertEquals((await sleeping).status, 200);
        // The unload waited for the sleeper and the queued call (the caller's
        // own answer may reach the client just before or after the unload's).
        assertEquals(order[0], "sleeper");
        assertEquals(order.toSorted(), ["caller", "sleeper", "unloaded"]);
        // Unloaded: the caller gets what a client asking the model gets.
        const direct = await infer(server, "sleep_in_execute", { inputs });
        assert(direct.status >= 400, JSON.stringify(direct.json));
        const after = await infer(server, "bls_deadline", {
          parameters: { timeout_ms: 30_000 },
          inputs,
        });
        const result = (after.json.outputs as { data: string[] }[])[0].data[0];
        assertStringIncludes(result, "error:");
        assertStringIncludes(result, String(direct.json.error));
      },
    );
  },
});
