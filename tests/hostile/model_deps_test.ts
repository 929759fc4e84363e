/**
 * A model's own npm dependencies (deno.json imports pinned by deno.lock):
 * `prepare-model` caches them into the backend's deno_dir, the model then
 * loads and runs with them; a dependency nobody prepared, or a remote one,
 * fails the load with a message saying what to do, and nothing is fetched.
 */

import { assert, assertEquals, assertStringIncludes } from "../harness/assert.ts";
import { fixtureDir, removeTemporaryCopy, temporaryCopy } from "../harness/fixtures.ts";
import { buildPaths, REPOSITORY_ROOT } from "../harness/paths.ts";
import { withHost } from "../harness/session.ts";

const RENAMES = {
  "deno.json.fixture": "deno.json",
  "deno.lock.fixture": "deno.lock",
  "1/model.ts.fixture": "1/model.ts",
};

async function prepareModel(dir: string): Promise<{ code: number; output: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-config",
      "--no-lock",
      "--allow-read",
      "--allow-run",
      `${REPOSITORY_ROOT}/sandbox/prepare_model_deps.ts`,
      "--backend-dir",
      buildPaths().backendDir,
      dir,
    ],
    env: { NO_COLOR: "1" },
  }).output();
  const decoder = new TextDecoder();
  return { code, output: decoder.decode(stdout) + decoder.decode(stderr) };
}

const REQUEST = {
  id: "deps",
  inputs: [
    {
      name: "INPUT0",
      datatype: "FP32" as const,
      shape: [4],
      data: new Float32Array([1, 2, 3, 4]),
    },
    {
      name: "INPUT1",
      datatype: "FP32" as const,
      shape: [4],
      data: new Float32Array([1, 1, 1, 1]),
    },
  ],
};

Deno.test("model deps: prepare-model caches the locked version; the model imports it by name", async () => {
  const dir = temporaryCopy(fixtureDir("model_with_deps"), RENAMES);
  try {
    const prepared = await prepareModel(dir);
    assertEquals(prepared.code, 0, prepared.output);
    assertStringIncludes(prepared.output, "zod -> npm:zod@3.25.76");
    await withHost((host) => {
      const model = host.loadModel(dir);
      const [result] = model.execute(0, [REQUEST]);
      assertEquals(result.error, null, result.error?.message);
      const sum = result.outputs.get("OUTPUT0");
      assertEquals(sum?.kind === "numeric" ? Array.from(sum.data as Float32Array) : [], [
        2,
        3,
        4,
        5,
      ]);
      model.unload();
    });
  } finally {
    removeTemporaryCopy(dir);
  }
});

Deno.test("model deps: a dependency nobody prepared fails the load and is not fetched", async () => {
  const dir = temporaryCopy(fixtureDir("model_with_deps"), RENAMES);
  try {
    // A pinned package the backend's cache does not have.
    Deno.writeTextFileSync(
      `${dir}/deno.json`,
      JSON.stringify({ imports: { zod: "npm:zod@^3.22.0", pad: "npm:left-pad@1.3.0" } }),
    );
    const lock = JSON.parse(Deno.readTextFileSync(`${dir}/deno.lock`));
    lock.specifiers["npm:left-pad@1.3.0"] = "1.3.0";
    Deno.writeTextFileSync(`${dir}/deno.lock`, JSON.stringify(lock));
    await withHost((host) => {
      let message = "";
      try {
        host.loadModel(dir);
      } catch (error) {
        message = error instanceof Error ? error.message : String(error);
      }
      assertStringIncludes(message, "left-pad@1.3.0 is not in the backend's cache");
      // Clients see no server path; the operator finds the command in the log.
      assertStringIncludes(message, "run `deno task prepare-model <server path>`");
      assert(!message.includes(dir), message);
      assertStringIncludes(host.log(), `deno task prepare-model ${dir}`);
    });
  } finally {
    removeTemporaryCopy(dir);
  }
});

Deno.test("model deps: remote imports in deno.json fail the load", async () => {
  const dir = temporaryCopy(fixtureDir("model_with_deps"), RENAMES);
  try {
    Deno.writeTextFileSync(
      `${dir}/deno.json`,
      JSON.stringify({ imports: { zod: "https://example.com/zod.ts" } }),
    );
    await withHost((host) => {
      let message = "";
      try {
        host.loadModel(dir);
      } catch (error) {
        message = error instanceof Error ? error.message : String(error);
      }
      assertStringIncludes(message, "models never fetch code while serving");
    });
    const prepared = await prepareModel(dir);
    assertEquals(prepared.code, 1);
    assertStringIncludes(prepared.output, "maps to https://example.com/zod.ts");
  } finally {
    removeTemporaryCopy(dir);
  }
});
