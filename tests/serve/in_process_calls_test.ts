/**
 * End to end: on serve's own model manager (the default), a call from one
 * model to another (BLS) goes through the called model's scheduler as an
 * HTTP request to it would: a sequence model gets its START/READY/END and
 * CORRID controls, a dynamic batcher batches concurrent calls, the called
 * model's statistics count them, a decoupled model's stream comes back to
 * the caller, errors name the problem, a call cancelled while queued never
 * runs, a model may call itself (on its second instance), and a shutdown
 * with a call in flight ends cleanly. (The stand-in server's own schedulers
 * do the same: stand_in_server_test.ts.)
 */
import { assert, assertEquals, assertStringIncludes } from "../../runtime/serve/_test_assert.ts";
import { ROOT, type ServeProcess, startServeProcess } from "./server_process.ts";

function copyTree(from: string, to: string): void {
  Deno.mkdirSync(to, { recursive: true });
  for (const entry of Deno.readDirSync(from)) {
    if (entry.name.endsWith("_test.ts")) continue;
    if (entry.isDirectory) copyTree(`${from}/${entry.name}`, `${to}/${entry.name}`);
    else if (entry.isFile) Deno.copyFileSync(`${from}/${entry.name}`, `${to}/${entry.name}`);
  }
}

/** A repository with these example models and test fixtures. */
function repositoryWith(examples: string[], fixtures: string[]): string {
  const root = Deno.makeTempDirSync({ prefix: "in_process_calls_" });
  for (const name of examples) copyTree(`${ROOT}models/${name}`, `${root}/${name}`);
  for (const name of fixtures) copyTree(`${ROOT}tests/fixtures/${name}`, `${root}/${name}`);
  return root;
}

function editConfig(repository: string, model: string, from: string, to: string): void {
  const path = `${repository}/${model}/config.pbtxt`;
  const text = Deno.readTextFileSync(path);
  assertStringIncludes(text, from);
  Deno.writeTextFileSync(path, text.replace(from, to));
}

async function infer(
  server: ServeProcess,
  model: string,
  body: Record<string, unknown>,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${server.url}/v2/models/${model}/infer`, {
    method: "POST",
    body: JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
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
