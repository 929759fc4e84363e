/**
 * A model loads another from a configuration and files it gives
 * (`models.load(name, { config, files })`, python_backend's
 * `pb_utils.load_model(name, config, files)`), which then serves; it
 * unloads it with its dependents. Only models of this backend may be
 * loaded that way, and every file stays inside the new model's directory.
 *
 * @module
 */

import { assert, assertEquals, assertStringIncludes } from "../harness/assert.ts";
import { type CoreSession, coreTest, tensor } from "./core_session.ts";

/** The configuration the fixture loads `made` with (Triton's JSON form). */
function madeConfig(backend = "deno"): string {
  return JSON.stringify({
    name: "made",
    backend,
    max_batch_size: 0,
    input: [{ name: "IN", data_type: "TYPE_INT32", dims: [2] }],
    output: [{ name: "OUT", data_type: "TYPE_INT32", dims: [2] }],
    instance_group: [{ kind: "KIND_CPU", count: 1 }],
  });
}

/** Whether the server has `name` ready (a name it does not know is not). */
function ready(core: CoreSession, name: string): boolean {
  try {
    return core.server.modelReady(name);
  } catch {
    return false;
  }
}

/** Runs one bls_control action; its RESULT text, or the request's error text. */
async function control(
  core: CoreSession,
  parameters: Record<string, string>,
  model = "bls_control",
): Promise<string> {
  const answer = await core.infer(model, [
    tensor("DUMMY", "INT32", [1], new Int32Array([0])),
  ], { parameters });
  if (answer.error !== null) return `error: ${answer.error.message}`;
  const result = answer.outputs.get("RESULT");
  return result?.kind === "bytes" ? result.strings[0] : "";
}

coreTest(
  "model upload: a model loads one from its configuration and files, which serves, then unloads it",
  {
    models: ["bls_control"],
  },
  async (core) => {
    assertEquals(ready(core, "made"), false);
    assertEquals(
      await control(core, { action: "load_files", model: "made", config: madeConfig() }),
      "done",
    );
    assertEquals(ready(core, "made"), true);
    const answer = await core.infer("made", [tensor("IN", "INT32", [2], new Int32Array([3, -4]))]);
    assertEquals(answer.error, null, answer.error?.message);
    const out = answer.outputs.get("OUT");
    assert(out?.kind === "numeric", "OUT is numbers");
    assertEquals(Array.from(out.data, Number), [6, -8]);

    assertEquals(await control(core, { action: "unload_dependents", model: "made" }), "done");
    for (let i = 0; i < 100 && ready(core, "made"); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assertEquals(ready(core, "made"), false);
  },
);

coreTest(
  "model upload: another backend, a platform or a path out of the directory is refused, and nothing loads",
  {
    models: ["bls_control"],
  },
  async (core) => {
    const python = await control(core, {
      action: "load_files",
      model: "made",
      config: madeConfig("python"),
    });
    // The words of docs/deno_models.md, as serve's own refusal (runtime/serve/repository_test.ts).
    const modelApi = 'the model API loads only Deno models (backend: "deno", no platform)';
    assertStringIncludes(
      python,
      `model 'made' is refused: its configuration names backend 'python'; ${modelApi}`,
    );
    const ensemble = await control(core, {
      action: "load_files",
      model: "made",
      config: JSON.stringify({ ...JSON.parse(madeConfig()), platform: "ensemble" }),
    });
    assertStringIncludes(
      ensemble,
      `model 'made' is refused: its configuration names platform 'ensemble'; ${modelApi}`,
    );
    // A Deno model with any other platform too: the parent alone decides the backend.
    const labelled = await control(core, {
      action: "load_files",
      model: "made",
      config: JSON.stringify({ ...JSON.parse(madeConfig()), platform: "my_label" }),
    });
    assertStringIncludes(labelled, `its configuration names platform 'my_label'; ${modelApi}`);
    const none = await control(core, {
      action: "load_files",
      model: "made",
      config: JSON.stringify({ name: "made", max_batch_size: 0 }),
    });
    assertStringIncludes(none, `model 'made' is refused: its configuration names no backend`);
    for (const path of ["../escape.ts", "/tmp/abs.ts", "1/./model.ts", "1//model.ts"]) {
      const escaped = await control(core, {
        action: "load_path",
        model: "made",
        config: madeConfig(),
        path,
      });
      assertStringIncludes(escaped, "must be a path inside the model's directory", path);
    }
    const notJson = await control(core, { action: "load_files", model: "made", config: "{" });
    assertStringIncludes(notJson, "not JSON");
    assertEquals(ready(core, "made"), false);
  },
);

const FIXTURE = new URL("../fixtures/bls_control/", import.meta.url);

coreTest("model upload: a model may upload only names its allow_model_control declares", {
  models: [{
    name: "narrow_control",
    files: {
      "1/model.ts": Deno.readTextFileSync(new URL("1/model.ts", FIXTURE)),
      "config.pbtxt": Deno.readTextFileSync(new URL("config.pbtxt", FIXTURE))
        .replace('name: "bls_control"', 'name: "narrow_control"')
        .replace(
          'key: "deno.allow_model_control" value: { string_value: "*" }',
          'key: "deno.allow_model_control" value: { string_value: "tenant_a_*" }',
        ),
    },
  }],
}, async (core) => {
  const refused = await control(core, {
    action: "load_files",
    model: "made",
    config: madeConfig(),
  }, "narrow_control");
  assertStringIncludes(refused, "deno.allow_model_control");
  assertEquals(ready(core, "made"), false);
});

coreTest(
  "model control: a model's unload right after its load waits for Triton's instance threads",
  {
    models: ["bls_control", "add_sub"],
    startupModels: ["bls_control"],
  },
  async (core) => {
    // Triton's core can crash on an unload that follows a load at once
    // (ffi/src/bls_control.c): the backend starts such an unload 25 ms after
    // the load returned. The model measures from the load's answer, which
    // reaches it after that moment: 13 ms are left for the answer's way.
    for (let round = 0; round < 2; round++) {
      const waited = Number(await control(core, { action: "load_unload", model: "add_sub" }));
      assert(waited >= 12, `the unload was answered ${waited.toFixed(1)} ms after the load`);
    }
    assertEquals(ready(core, "add_sub"), false);
  },
);
