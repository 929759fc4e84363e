/**
 * End to end: model files in a load request (`load_model(name, config=...,
 * files={...})` of Triton's official clients, over HTTP and gRPC) and
 * `unload_dependents`, on serve's own model manager and through a core's
 * server API (`--triton-home` when TRITON_HOME names Triton's install, else
 * `--stand-in-server`). Uploads are refused outside the rules (no config,
 * another backend, a path out of the model's directory, bad base64), and
 * nothing uploaded stays on disk once its model is unloaded or the server
 * stops.
 *
 * @module
 */

import { assert, assertEquals, assertStringIncludes } from "../../runtime/serve/_test_assert.ts";
import { ensurePythonClient, runPython } from "./python_client.ts";
import {
  makeFixtureRepository,
  ROOT,
  type ServeProcess,
  startServeProcess,
} from "./server_process.ts";

/** An ensemble whose one step is add_sub (so add_sub is its dependent). */
const PAIR = `
name: "pair"
platform: "ensemble"
max_batch_size: 0
input [{ name: "A" data_type: TYPE_FP32 dims: [-1] }, { name: "B" data_type: TYPE_FP32 dims: [-1] }]
output [{ name: "S" data_type: TYPE_FP32 dims: [-1] }]
ensemble_scheduling { step [{ model_name: "add_sub" model_version: -1
  input_map { key: "INPUT0" value: "A" } input_map { key: "INPUT1" value: "B" }
  output_map { key: "OUTPUT0" value: "S" } }] }
`;

/** Triton's install when TRITON_HOME names one; else the stand-in's server API serves. */
const TRITON_HOME = Deno.env.get("TRITON_HOME");

function repositoryWithPair(): string {
  const repository = makeFixtureRepository(["add_sub"], false);
  Deno.mkdirSync(`${repository}/pair/1`, { recursive: true });
  Deno.writeTextFileSync(`${repository}/pair/config.pbtxt`, PAIR);
  return repository;
}

/** The upload directories serve made under `tmp` (its TMPDIR). */
function uploads(tmp: string): string[] {
  return [...Deno.readDirSync(tmp)].map((entry) => entry.name)
    .filter((name) => name.startsWith("serve_model_files_"));
}

async function post(url: string, body: unknown): Promise<{ status: number; error?: string }> {
  const response = await fetch(url, { method: "POST", body: JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, error: text === "" ? undefined : JSON.parse(text).error };
}

async function runClient(server: ServeProcess, ensembles: boolean) {
  return await runPython([
    `${ROOT}tests/serve/model_upload_client.py`,
    `127.0.0.1:${server.port}`,
    `127.0.0.1:${server.grpcPort}`,
    ensembles ? "ensembles" : "no-ensembles",
    `${ROOT}models/add_sub/1/model.ts`,
  ]);
}

const CONFIG = JSON.stringify({
  name: "made",
  backend: "deno",
  max_batch_size: 0,
  input: [
    { name: "INPUT0", data_type: "TYPE_FP32", dims: [-1] },
    { name: "INPUT1", data_type: "TYPE_FP32", dims: [-1] },
  ],
  output: [
    { name: "OUTPUT0", data_type: "TYPE_FP32", dims: [-1] },
    { name: "OUTPUT1", data_type: "TYPE_FP32", dims: [-1] },
  ],
});

Deno.test({
  name: "serve: model files in a load and unload_dependents through Triton's clients " +
    "(serve's own model manager); uploads leave nothing on disk",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await ensurePythonClient();
    const repository = repositoryWithPair();
    const tmp = Deno.makeTempDirSync({ prefix: "serve_upload_tmp_" });
    const server = await startServeProcess({
      repository,
      args: ["--model-control-mode", "explicit"],
      env: { TMPDIR: tmp },
    });
    try {
      const client = await runClient(server, true);
      assertEquals(client.code, 0, client.output);
      assertStringIncludes(client.output, "Ran 4 tests");
      assertEquals(uploads(tmp), [], "every upload was removed with its model");

      // What the client cannot send: bad base64, a file that is also a directory.
      const load = `${server.url}/v2/repository/models/made/load`;
      const model = btoa(Deno.readTextFileSync(`${ROOT}models/add_sub/1/model.ts`));
      const badBase64 = await post(load, {
        parameters: { config: CONFIG, "file:1/model.ts": "not*base64" },
      });
      assertEquals(badBase64.status, 400);
      assertEquals(
        badBase64.error,
        "Unable to parse 'file:1/model.ts': the file's content is not valid base64",
      );
      const clash = await post(load, {
        parameters: { config: CONFIG, "file:1": model, "file:1/model.ts": model },
      });
      assertEquals(clash.status, 400);
      assertStringIncludes(clash.error ?? "", "'1' is sent as a file and is needed as a directory");
      // A config that loads but a model file that does not: the load fails, nothing stays.
      const broken = await post(load, {
        parameters: { config: CONFIG, "file:1/model.ts": btoa("export default 42;\n") },
      });
      assertEquals(broken.status, 400);
      assertStringIncludes(broken.error ?? "", "load failed for model 'made'");
      assert(!(broken.error ?? "").includes(tmp), `no server path: ${broken.error}`);
      assertEquals(uploads(tmp), []);
      assertEquals((await fetch(`${server.url}/v2/models/made/ready`)).status, 400);

      // A model serving from its upload at shutdown: the upload goes with the server.
      assertEquals(
        (await post(load, { parameters: { config: CONFIG, "file:1/model.ts": model } }))
          .status,
        200,
      );
      assertEquals(uploads(tmp).length, 1);
    } finally {
      const stopped = await server.stop("SIGTERM");
      assertEquals(stopped.code, 0, stopped.log);
      assertEquals(uploads(tmp), [], "the server removed its uploads at shutdown");
      Deno.removeSync(repository, { recursive: true });
      Deno.removeSync(tmp, { recursive: true });
    }
  },
});

Deno.test({
  name:
    `serve ${
      TRITON_HOME === undefined ? "--stand-in-server" : "--triton-home"
    }: model files in a load (TRITONSERVER_ServerLoadModelWithParameters with file: bytes ` +
    "parameters) and unload_dependents through Triton's clients",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await ensurePythonClient();
    const repository = repositoryWithPair();
    const core = TRITON_HOME === undefined ? ["--stand-in-server"] : ["--triton-home", TRITON_HOME];
    if (TRITON_HOME === undefined) {
      console.log(
        "TRITON_HOME is not set: through the stand-in's server API, which serves no " +
          "ensembles (the unload_dependents checks are skipped there)",
      );
    }
    const server = await startServeProcess({
      repository,
      args: [...core, "--model-control-mode", "explicit"],
    });
    let client: { code: number; output: string };
    try {
      client = await runClient(server, TRITON_HOME !== undefined);
    } finally {
      const stopped = await server.stop("SIGTERM");
      Deno.removeSync(repository, { recursive: true });
      assertEquals(stopped.code, 0, stopped.log);
    }
    assertEquals(client.code, 0, client.output);
    assertStringIncludes(client.output, "Ran 4 tests");
    if (TRITON_HOME === undefined) {
      assertStringIncludes(client.output, "skipped 'this core serves no ensembles");
    } else {
      assert(!client.output.includes("skipped"), client.output);
    }
  },
});
