import { parseModelConfigText } from "../model_config/mod.ts";
import { assertEquals, assertStringIncludes, assertThrows } from "./_test_assert.ts";
import { listModelNames, ModelSpecError, readModelSpec, selectVersions } from "./repository.ts";

function repository(files: Record<string, string>, dirs: string[]): string {
  const root = Deno.makeTempDirSync({ prefix: "serve_repository_" });
  for (const dir of dirs) Deno.mkdirSync(`${root}/${dir}`, { recursive: true });
  for (const [path, text] of Object.entries(files)) Deno.writeTextFileSync(`${root}/${path}`, text);
  return root;
}

Deno.test("repository: models are directories; versions follow the policy", () => {
  const root = repository({
    "m/config.pbtxt": 'backend: "deno"',
    "pinned/config.pbtxt": "version_policy { specific { versions: [1, 3] } }",
  }, ["m/1", "m/2", "m/10", "m/notes", ".hidden", "pinned/1", "pinned/2", "pinned/3"]);
  Deno.writeTextFileSync(`${root}/README.txt`, "not a model");
  try {
    assertEquals(listModelNames(root), ["m", "pinned"]);
    const spec = readModelSpec(root, "m");
    assertEquals(spec.config.name, "m"); // Filled in from the directory, as Triton does.
    assertEquals(spec.versions, [10]);
    assertEquals(spec.directory, `${root}/m`);
    assertEquals(readModelSpec(root, "pinned").versions, [1, 3]);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("repository: the reasons a model cannot be served", () => {
  const root = repository({
    "bad_syntax/config.pbtxt": "name: \n  max_batch_size: {",
    "renamed/config.pbtxt": 'name: "other"',
    "empty/config.pbtxt": "",
  }, ["bad_syntax/1", "renamed/1", "empty", "no_config/1"]);
  try {
    assertStringIncludes(
      assertThrows(() => readModelSpec(root, "bad_syntax"), ModelSpecError).message,
      "bad_syntax/config.pbtxt:",
    );
    assertThrows(() => readModelSpec(root, "renamed"), ModelSpecError, "directory name must equal");
    assertThrows(() => readModelSpec(root, "empty"), ModelSpecError, "at least one version");
    assertThrows(
      () => readModelSpec(root, "no_config"),
      ModelSpecError,
      "config.pbtxt does not exist",
    );
    assertThrows(() => readModelSpec(root, "absent"), ModelSpecError, "no model directory");
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("repository: selectVersions covers latest, all and specific", () => {
  const config = (text: string) => parseModelConfigText(text);
  assertEquals(selectVersions(config(""), [3, 1, 2]), [3]);
  assertEquals(selectVersions(config("version_policy { all {} }"), [3, 1, 2]), [1, 2, 3]);
  assertEquals(
    selectVersions(config("version_policy { latest { num_versions: 2 } }"), [1, 2, 3]),
    [2, 3],
  );
  assertEquals(
    selectVersions(config("version_policy { specific { versions: [4] } }"), [1, 2, 3]),
    [],
  );
});

Deno.test("repository: the stand-in core serves Deno models and ensembles; others are refused in the words of docs/deno_models.md", () => {
  const root = repository({
    "deno_model/config.pbtxt": 'backend: "deno"',
    // Triton hands it to the Deno backend too: the platform is only reported.
    "labelled/config.pbtxt": 'backend: "deno" platform: "my_label"',
    "bare/config.pbtxt": "max_batch_size: 0",
    "ens/config.pbtxt": 'platform: "ensemble" ensemble_scheduling { step [] }',
    "py/config.pbtxt": 'backend: "python"',
    "onnx/config.pbtxt": 'platform: "onnxruntime_onnx"',
  }, ["deno_model/1", "labelled/1", "bare/1", "ens/1", "py/1", "onnx/1"]);
  const accepts = 'the stand-in core serves only Deno models (backend: "deno") and ' +
    'ensembles (platform: "ensemble"); serve with --triton-home for Triton\'s backends';
  try {
    for (const name of ["deno_model", "labelled", "bare", "ens"]) {
      assertEquals(readModelSpec(root, name).name, name);
    }
    assertEquals(
      assertThrows(() => readModelSpec(root, "py"), ModelSpecError).message,
      `model 'py' is refused: its configuration names backend 'python'; ${accepts}`,
    );
    assertEquals(
      assertThrows(() => readModelSpec(root, "onnx"), ModelSpecError).message,
      `model 'onnx' is refused: its configuration names platform 'onnxruntime_onnx'; ${accepts}`,
    );
    // A configuration sent with a load request must name its backend.
    assertEquals(
      assertThrows(
        () => readModelSpec(root, "bare", parseModelConfigText("max_batch_size: 0")),
        ModelSpecError,
      ).message,
      `model 'bare' is refused: its configuration names no backend; ${accepts}`,
    );
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});
