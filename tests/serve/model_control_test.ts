/**
 * End-to-end: `--model-control-mode` on the stand-in core, as tritonserver
 * has it. The default (none) loads the repository and refuses the
 * load/unload API with Triton's 503; explicit loads only `--load-model`'s
 * models and lets clients load the others.
 *
 * @module
 */

import { assertEquals, assertStringIncludes } from "../harness/assert.ts";
import { ensurePythonClient, runPython } from "./python_client.ts";
import { makeFixtureRepository, startServeProcess } from "./server_process.ts";

async function post(url: string, body: unknown = {}) {
  const response = await fetch(url, { method: "POST", body: JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, json: text === "" ? undefined : JSON.parse(text) };
}

const REFUSED = "explicit model load / unload is not allowed if polling is enabled";

Deno.test({
  name: "serve model control: none refuses load/unload; explicit loads only --load-model's",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const repository = makeFixtureRepository(["add_sub", "add_sub_int32"], false);
    try {
      const none = await startServeProcess({ repository, args: ["--model", "add_sub"] });
      try {
        for (const action of ["load", "unload"]) {
          const answer = await post(`${none.url}/v2/repository/models/add_sub/${action}`);
          assertEquals(answer.status, 503);
          assertEquals(answer.json, { error: REFUSED });
        }
        // A config override changes nothing either.
        const override = await post(`${none.url}/v2/repository/models/add_sub/load`, {
          parameters: { config: '{"backend":"python"}' },
        });
        assertEquals(override.status, 503);
        assertEquals((await fetch(`${none.url}/v2/models/add_sub/ready`)).status, 200);
        // Over gRPC too.
        await ensurePythonClient();
        const grpc = await runPython([
          "-c",
          "import sys, tritonclient.grpc as g\n" +
          "c = g.InferenceServerClient(sys.argv[1])\n" +
          "try:\n  c.unload_model('add_sub')\nexcept Exception as e:\n  print('refused:', e)\n",
          `127.0.0.1:${none.grpcPort}`,
        ]);
        assertStringIncludes(grpc.output, `refused: [StatusCode.UNAVAILABLE] ${REFUSED}`);
        assertEquals((await fetch(`${none.url}/v2/models/add_sub/ready`)).status, 200);
      } finally {
        assertEquals((await none.stop("SIGTERM")).code, 0);
      }

      const explicit = await startServeProcess({
        repository,
        args: ["--model-control-mode", "explicit", "--load-model", "add_sub"],
      });
      try {
        assertStringIncludes(explicit.log(), "1 model(s) loaded; model control explicit");
        const index = await post(`${explicit.url}/v2/repository/index`);
        assertEquals(index.json, [
          { name: "add_sub", version: "1", state: "READY", reason: "" },
          { name: "add_sub_int32" },
        ]);
        const load = await post(`${explicit.url}/v2/repository/models/add_sub_int32/load`);
        assertEquals(load.status, 200);
        assertEquals((await fetch(`${explicit.url}/v2/models/add_sub_int32/ready`)).status, 200);
        // An override that is not this core's backend is refused; add_sub keeps serving.
        const python = await post(`${explicit.url}/v2/repository/models/add_sub/load`, {
          parameters: { config: '{"backend":"python"}' },
        });
        assertEquals(python.status, 400);
        assertStringIncludes(
          python.json.error,
          "is refused: its configuration names backend 'python'; ",
        );
        const infer = await post(`${explicit.url}/v2/models/add_sub/infer`, {
          inputs: [
            { name: "INPUT0", datatype: "FP32", shape: [4], data: [1, 2, 3, 4] },
            { name: "INPUT1", datatype: "FP32", shape: [4], data: [1, 1, 1, 1] },
          ],
        });
        assertEquals(infer.status, 200);
        assertEquals(infer.json.outputs[0].data, [2, 3, 4, 5]);
      } finally {
        assertEquals((await explicit.stop("SIGTERM")).code, 0);
      }
    } finally {
      Deno.removeSync(repository, { recursive: true });
    }
  },
});
