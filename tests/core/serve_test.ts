/**
 * Real core: `deno task serve --triton-home` answers Triton's HTTP protocol
 * from Triton's own core: inference, a decoupled stream, Triton's
 * statistics and metrics, and model control as tritonserver's
 * --model-control-mode has it. Without `TRITON_HOME` the same runs on the
 * stand-in core, through a prefix laid out like an install whose
 * libtritonserver.so is the stand-in.
 *
 * @module
 */

import { assert, assertEquals, assertStringIncludes } from "../harness/assert.ts";
import { makeFixtureRepository, startServeProcess } from "../serve/server_process.ts";
import { CORE_LABEL, HOME, standInHome } from "./core_session.ts";

async function post(url: string, body: unknown): Promise<{ status: number; text: string }> {
  const response = await fetch(url, { method: "POST", body: JSON.stringify(body) });
  return { status: response.status, text: await response.text() };
}

const ADD_SUB = {
  inputs: [
    { name: "INPUT0", datatype: "FP32", shape: [4], data: [1, 2, 3, 4] },
    { name: "INPUT1", datatype: "FP32", shape: [4], data: [10, 20, 30, 40] },
  ],
};

Deno.test({
  name: `${CORE_LABEL}: deno task serve --triton-home serves Triton's HTTP protocol from the core`,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const home = HOME ?? standInHome();
    const repository = makeFixtureRepository(["add_sub", "stream_text"], false);
    let server;
    try {
      server = await startServeProcess({ repository, args: ["--triton-home", home.prefix] });
    } catch (error) {
      Deno.removeSync(repository, { recursive: true });
      if (HOME === undefined) Deno.removeSync(home.prefix, { recursive: true });
      throw error;
    }
    const base = server.url;
    try {
      await t.step("Triton loaded the repository (mode none) and is ready", async () => {
        assertStringIncludes(server.log(), "model add_sub: READY, version 1");
        assertEquals((await fetch(`${base}/v2/health/ready`)).status, 200);
        await (await fetch(`${base}/v2/health/ready`)).body?.cancel();
      });
      await t.step("inference", async () => {
        const answer = await post(`${base}/v2/models/add_sub/infer`, ADD_SUB);
        assertEquals(answer.status, 200, answer.text);
        const outputs = JSON.parse(answer.text).outputs as { name: string; data: number[] }[];
        assertEquals(outputs.find((o) => o.name === "OUTPUT0")?.data, [11, 22, 33, 44]);
      });
      await t.step("a decoupled stream over server-sent events", async () => {
        const answer = await post(`${base}/v2/models/stream_text/generate_stream`, {
          TEXT: "real core",
        });
        assertEquals(answer.status, 200);
        const tokens = answer.text.split("\n").filter((line) => line.startsWith("data: "))
          .map((line) => JSON.parse(line.slice(6)).TOKEN);
        assertEquals(tokens, ["real", "core"]);
      });
      await t.step("statistics and metrics are Triton's", async () => {
        const stats = await (await fetch(`${base}/v2/models/add_sub/stats`)).json();
        assertEquals(stats.model_stats[0].inference_count, 1);
        const metrics = await (await fetch(`${base}/metrics`)).text();
        assertStringIncludes(
          metrics,
          'nv_inference_request_success{model="add_sub",version="1"} 1',
        );
      });
      await t.step("model control is refused as in tritonserver's default mode", async () => {
        const answer = await post(`${base}/v2/repository/models/add_sub/unload`, {});
        assert(answer.status >= 400, answer.text);
        assertStringIncludes(answer.text, "explicit model load / unload is not allowed");
      });
    } finally {
      const stopped = await server.stop("SIGTERM");
      assertEquals(stopped.code, 0, stopped.log);
      assertStringIncludes(stopped.log, "[serve] stopped");
      Deno.removeSync(repository, { recursive: true });
      if (HOME === undefined) Deno.removeSync(home.prefix, { recursive: true });
    }
  },
});
