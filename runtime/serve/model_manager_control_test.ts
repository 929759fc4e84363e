/**
 * The model manager's side of the load API: model files sent with a load
 * (a temporary model directory, removed when it is no longer served) and
 * `unload_dependents` (an ensemble's composing models loaded only for it).
 */
import { assert, assertEquals, assertRejects, assertStringIncludes } from "./_test_assert.ts";
import { AddSubExecutor } from "./_test_fakes.ts";
import { ModelManager } from "./model_manager.ts";
import type { ModelSpec } from "./repository.ts";
import { parseLoadRequest } from "./repository_control.ts";

const ADD_SUB = (name: string) => `
name: "${name}"
backend: "deno"
input [{ name: "INPUT0" data_type: TYPE_FP32 dims: [4] },
       { name: "INPUT1" data_type: TYPE_FP32 dims: [4] }]
output [{ name: "OUTPUT0" data_type: TYPE_FP32 dims: [4] },
        { name: "OUTPUT1" data_type: TYPE_FP32 dims: [4] }]
`;

/** An ensemble of one add_sub step on `member`. */
const ENSEMBLE = (name: string, member: string) => `
name: "${name}"
platform: "ensemble"
input [{ name: "A" data_type: TYPE_FP32 dims: [4] }, { name: "B" data_type: TYPE_FP32 dims: [4] }]
output [{ name: "S" data_type: TYPE_FP32 dims: [4] }]
ensemble_scheduling { step [{ model_name: "${member}" model_version: -1
  input_map { key: "INPUT0" value: "A" } input_map { key: "INPUT1" value: "B" }
  output_map { key: "OUTPUT0" value: "S" } }] }`;

/** Triton's JSON configuration of an add_sub model named `name`. */
function addSubJson(name: string): string {
  const tensor = (n: string) => ({ name: n, data_type: "TYPE_FP32", dims: [4] });
  return JSON.stringify({
    name,
    backend: "deno",
    input: [tensor("INPUT0"), tensor("INPUT1")],
    output: [tensor("OUTPUT0"), tensor("OUTPUT1")],
  });
}

function repository(models: Record<string, string>): string {
  const root = Deno.makeTempDirSync({ prefix: "manager_control_" });
  for (const [name, text] of Object.entries(models)) {
    Deno.mkdirSync(`${root}/${name}/1`, { recursive: true });
    Deno.writeTextFileSync(`${root}/${name}/config.pbtxt`, text);
  }
  return root;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** A manager whose loader records each load's spec (and reads its model file, if any). */
function managerFor(root: string, uploadDirectory?: string) {
  const loads: { spec: ModelSpec; source?: string }[] = [];
  const manager = new ModelManager(root, (spec, _version, json) => {
    let source: string | undefined;
    try {
      source = Deno.readTextFileSync(`${spec.directory}/1/model.ts`);
    } catch { /* a repository model without one */ }
    loads.push({ spec, source });
    return Promise.resolve(new AddSubExecutor(json));
  }, { uploadDirectory });
  return { manager, loads };
}

function withFiles(name: string, source: string, config = addSubJson(name)) {
  const encode = (text: string) => ({
    kind: "bytes" as const,
    value: new TextEncoder().encode(text),
  });
  return parseLoadRequest(name, {
    config: { kind: "string", value: config },
    "file:1/model.ts": encode(source),
    "file:1/lib/helper.ts": encode("export const x = 1;"),
  }, "http");
}

Deno.test("manager: a load with files runs from a temporary model directory of its own", async () => {
  const root = repository({ add_sub: ADD_SUB("add_sub") });
  const { manager, loads } = managerFor(root);
  try {
    await manager.load("add_sub", withFiles("add_sub", "// first"));
    const first = loads.at(-1)!;
    assertEquals(first.source, "// first");
    assert(!first.spec.directory.startsWith(root), first.spec.directory);
    assert(first.spec.directory.endsWith("/add_sub"), "the directory is named as the model");
    assertEquals(
      Deno.readTextFileSync(`${first.spec.directory}/1/lib/helper.ts`),
      "export const x = 1;",
    );
    assertEquals((Deno.statSync(first.spec.directory).mode ?? 0) & 0o777, 0o700);
    assert(await manager.isReady("add_sub"));

    // A reload with other files replaces the directory; the old one goes.
    await manager.load("add_sub", withFiles("add_sub", "// second"));
    const second = loads.at(-1)!;
    assertEquals(second.source, "// second");
    assert(!exists(first.spec.directory), "the replaced upload is removed");
    assert(exists(second.spec.directory));

    // A reload from the repository drops the upload too.
    await manager.load("add_sub");
    assertEquals(loads.at(-1)!.spec.directory, `${root}/add_sub`);
    assert(!exists(second.spec.directory), "the upload is removed on a repository reload");

    await manager.load("add_sub", withFiles("add_sub", "// third"));
    const third = loads.at(-1)!;
    await manager.unload("add_sub");
    assert(!exists(third.spec.directory), "the upload is removed on unload");

    await manager.load("add_sub", withFiles("add_sub", "// fourth"));
    const fourth = loads.at(-1)!;
    assertEquals(await manager.unloadAll(), []);
    assert(!exists(fourth.spec.directory), "the upload is removed at shutdown");
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("manager: a load with files that fails leaves nothing on disk and the old model serving", async () => {
  const root = repository({ add_sub: ADD_SUB("add_sub") });
  const uploads = Deno.makeTempDirSync({ prefix: "manager_uploads_" });
  const { manager, loads } = managerFor(root, uploads);
  const listed = () => [...Deno.readDirSync(uploads)].map((entry) => entry.name);
  try {
    await manager.load("add_sub", withFiles("add_sub", "// serving"));
    const serving = loads.at(-1)!.spec.directory;
    // No version directory among the files: nothing to serve.
    const noVersion = parseLoadRequest("add_sub", {
      config: { kind: "string", value: addSubJson("add_sub") },
      "file:model.ts": { kind: "bytes", value: new Uint8Array(1) },
    }, "grpc");
    await assertRejects(
      () => manager.load("add_sub", noVersion),
      Error,
      "at least one version must be available",
    );
    // The config names another model.
    await assertRejects(
      () => manager.load("add_sub", withFiles("add_sub", "// x", addSubJson("other"))),
      Error,
      "directory name must equal model name",
    );
    assertEquals(loads.length, 1);
    assert(exists(serving), "the serving upload stays");
    assertEquals(listed().length, 1, "only the serving upload is on disk");
    assert(serving.startsWith(uploads));
    assert(await manager.isReady("add_sub"));
    await manager.unloadAll();
    assertEquals(listed(), []);
  } finally {
    Deno.removeSync(root, { recursive: true });
    Deno.removeSync(uploads, { recursive: true });
  }
});

Deno.test("manager: files may bring a model the repository lacks; without files it is not found", async () => {
  const root = repository({ add_sub: ADD_SUB("add_sub") });
  const { manager, loads } = managerFor(root);
  try {
    const error = await assertRejects(async () => await manager.load("made"), Error);
    assertStringIncludes(
      error.message,
      "failed to load 'made', failed to poll from model repository",
    );
    assert(!error.message.includes(root), "no server path");
    await manager.load("made", withFiles("made", "// made"));
    assertEquals(loads.at(-1)!.spec.name, "made");
    assert(await manager.isReady("made"));
    assertEquals(manager.index(true).map((entry) => entry.name), ["made"]);
    await manager.unload("made");
    assert(!await manager.isReady("made"));
    assert(!exists(loads.at(-1)!.spec.directory));
  } finally {
    await manager.unloadAll();
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("manager: unload_dependents unloads the members an ensemble's load brought in", async () => {
  const root = repository({
    add_sub: ADD_SUB("add_sub"),
    twice: ENSEMBLE("twice", "add_sub"),
  });
  const { manager } = managerFor(root);
  try {
    // Without unload_dependents the member stays.
    await manager.load("twice");
    assert(await manager.isReady("add_sub"), "the ensemble's load loads its member");
    await manager.unload("twice");
    assert(!await manager.isReady("twice"));
    assert(await manager.isReady("add_sub"));

    // With it, the member goes; loading the ensemble again brings it back.
    await manager.unload("add_sub");
    await manager.load("twice");
    assert(await manager.isReady("add_sub"), "an unloaded member is loaded again");
    await manager.unload("twice", { unloadDependents: true });
    assert(!await manager.isReady("twice"));
    assert(!await manager.isReady("add_sub"), "the dependent is unloaded");
    const entry = manager.index(false).find((e) => e.name === "add_sub");
    assertEquals([entry?.state, entry?.reason], ["UNAVAILABLE", "unloaded"]);
  } finally {
    await manager.unloadAll();
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("manager: unload_dependents keeps members loaded on their own or still needed", async () => {
  const root = repository({
    add_sub: ADD_SUB("add_sub"),
    add_sub_b: ADD_SUB("add_sub_b"),
    twice: ENSEMBLE("twice", "add_sub"),
    other: ENSEMBLE("other", "add_sub_b"),
    third: ENSEMBLE("third", "add_sub_b"),
  });
  const { manager } = managerFor(root);
  try {
    // Loaded on its own first: not a dependent.
    await manager.load("add_sub");
    await manager.load("twice");
    await manager.unload("twice", { unloadDependents: true });
    assert(await manager.isReady("add_sub"), "a model loaded on its own stays");

    // Two ensembles share a member: it stays until the last one goes.
    await manager.load("other");
    await manager.load("third");
    await manager.unload("other", { unloadDependents: true });
    assert(await manager.isReady("add_sub_b"), "still needed by 'third'");
    await manager.unload("third", { unloadDependents: true });
    assert(!await manager.isReady("add_sub_b"), "no longer needed");

    // A model that is not an ensemble has no dependents; the flag is harmless.
    await manager.unload("add_sub", { unloadDependents: true });
    assert(!await manager.isReady("add_sub"));
  } finally {
    await manager.unloadAll();
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("manager: a failed load with files reports the reason, naming no server path", async () => {
  const root = repository({ add_sub: ADD_SUB("add_sub") });
  const { manager } = managerFor(root);
  try {
    const error = await assertRejects(
      () =>
        manager.load(
          "add_sub",
          parseLoadRequest("add_sub", {
            config: { kind: "string", value: addSubJson("add_sub") },
            "file:model.ts": { kind: "bytes", value: new Uint8Array(1) },
          }, "http"),
        ),
      Error,
    );
    assertStringIncludes(error.message, "load failed for model 'add_sub'");
    assert(!error.message.includes("serve_model_files_"), error.message);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});
