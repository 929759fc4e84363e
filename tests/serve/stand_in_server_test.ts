/**
 * End to end: `deno task serve --stand-in-server` serves through the
 * stand-in's own implementation of Triton's server API, which behaves like
 * Triton's core where serve's own model manager does not: a call from one
 * model to another (BLS) goes through the called model's scheduler (a
 * sequence model gets its START/READY controls) and is counted in its
 * statistics, and with `--model-control-mode explicit` models load and
 * unload other models through the model API.
 */
import { assertEquals, assertStringIncludes } from "../../runtime/serve/_test_assert.ts";
import {
  infer,
  repositoryWith as repositoryIn,
  type ServeProcess,
  startServeProcess,
} from "./server_process.ts";

/** A repository with these example models and test fixtures. */
function repositoryWith(examples: string[], fixtures: string[]): string {
  return repositoryIn(examples, fixtures, "stand_in_server_");
}

async function stats(server: ServeProcess, model: string): Promise<Record<string, number>> {
  const response = await fetch(`${server.url}/v2/models/${model}/stats`);
  const entry = (await response.json()).model_stats[0];
  return {
    inference: entry.inference_count,
    execution: entry.execution_count,
    success: entry.inference_stats.success.count,
  };
}

async function withServer(
  repository: string,
  args: string[],
  body: (server: ServeProcess) => Promise<void>,
): Promise<void> {
  const server = await startServeProcess({ repository, args: ["--stand-in-server", ...args] });
  try {
    await body(server);
  } finally {
    const stopped = await server.stop("SIGTERM");
    Deno.removeSync(repository, { recursive: true });
    assertEquals(stopped.code, 0, stopped.log);
  }
}

Deno.test({
  name: "serve --stand-in-server: a BLS call goes through the called model's sequence batcher " +
    "and scheduler and is counted in its statistics",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const repository = repositoryWith(["add_sub", "bls_add_sub", "accumulator"], [
      "bls_sequence",
    ]);
    await withServer(repository, [], async (server) => {
      assertStringIncludes(server.log(), "stand-in server");
      const add = await infer(server, "bls_add_sub", {
        inputs: [
          { name: "INPUT0", datatype: "FP32", shape: [2], data: [1, 2] },
          { name: "INPUT1", datatype: "FP32", shape: [2], data: [3, 4] },
        ],
      });
      assertEquals(add.status, 200, JSON.stringify(add.json));
      assertEquals(await stats(server, "add_sub"), { inference: 1, execution: 1, success: 1 });

      // accumulator answers only requests its sequence batcher started (START control).
      const step = async (value: number, parameters: Record<string, unknown>) => {
        const { status, json } = await infer(server, "bls_sequence", {
          parameters: { sequence_id: 7, ...parameters },
          inputs: [{ name: "INPUT0", datatype: "INT32", shape: [1], data: [value] }],
        });
        assertEquals(status, 200, JSON.stringify(json));
        return (json.outputs as { data: number[] }[])[0].data[0];
      };
      assertEquals(await step(5, { sequence_start: true }), 5);
      assertEquals(await step(3, {}), 8);
      assertEquals(await step(2, { sequence_end: true }), 10);
      assertEquals((await stats(server, "accumulator")).inference, 3);
    });
  },
});

Deno.test({
  name: "serve --stand-in-server: BLS calls in flight together are batched by the called " +
    "model's dynamic batcher",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const repository = repositoryWith([], ["bls_fanout", "batch_identity"]);
    // The batcher waits up to 2 s for a batch of four, so that the four calls meet.
    const config = `${repository}/batch_identity/config.pbtxt`;
    Deno.writeTextFileSync(
      config,
      Deno.readTextFileSync(config).replace(
        "dynamic_batching { }",
        "dynamic_batching { preferred_batch_size: [4] max_queue_delay_microseconds: 2000000 }",
      ),
    );
    await withServer(repository, [], async (server) => {
      const { status, json } = await infer(server, "bls_fanout", {
        inputs: [{ name: "INPUT0", datatype: "FP32", shape: [4], data: [1, 2, 3, 4] }],
      });
      assertEquals(status, 200, JSON.stringify(json));
      assertEquals((json.outputs as { data: number[] }[])[0].data, [1, 2, 3, 4]);
      const response = await fetch(`${server.url}/v2/models/batch_identity/stats`);
      const entry = (await response.json()).model_stats[0];
      assertEquals([entry.inference_count, entry.execution_count], [4, 1]);
      assertEquals(
        entry.batch_stats.map((batch: { batch_size: number }) => batch.batch_size),
        [4],
      );
    });
  },
});

Deno.test({
  name: "serve --stand-in-server --model-control-mode explicit: a model loads and unloads " +
    "another through the model API",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const repository = repositoryWith(["add_sub"], ["bls_control"]);
    const control = async (server: ServeProcess, action: string) => {
      const { status, json } = await infer(server, "bls_control", {
        parameters: { action, model: "add_sub" },
        inputs: [{ name: "DUMMY", datatype: "INT32", shape: [1], data: [0] }],
      });
      assertEquals(status, 200, JSON.stringify(json));
      return (json.outputs as { data: string[] }[])[0].data[0];
    };
    const ready = async (server: ServeProcess) => {
      const response = await fetch(`${server.url}/v2/models/add_sub/ready`);
      await response.body?.cancel();
      return response.status === 200;
    };
    // bls_control asks about add_sub as it initializes: add_sub loads first, then bls_control
    // (startup models load at once).
    await withServer(
      repository,
      ["--model-control-mode", "explicit", "--load-model", "add_sub"],
      async (server) => {
        const loaded = await fetch(`${server.url}/v2/repository/models/bls_control/load`, {
          method: "POST",
        });
        assertEquals(loaded.status, 200, await loaded.text());
        assertEquals(await ready(server), true);
        assertEquals(await control(server, "ready"), "true");
        assertEquals(await control(server, "unload"), "done");
        // An unload only starts, as in Triton: the model goes once idle.
        const deadline = Date.now() + 30_000;
        while (await ready(server) && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        assertEquals(await ready(server), false);
        assertEquals(await control(server, "load"), "done");
        assertEquals(await ready(server), true);
        assertEquals(await control(server, "ready"), "true");
      },
    );
  },
});
