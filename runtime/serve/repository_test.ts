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
