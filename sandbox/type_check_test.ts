import { assert, assertEquals, assertStringIncludes } from "../runtime/api/_test_assert.ts";
import { stripAnsi, TypeCheckError, typeCheckModel } from "./type_check.ts";

const importMap = new URL("../runtime/import_map.json", import.meta.url).pathname;
const buildDenoDir = new URL("../build/deno/deno_dir", import.meta.url).pathname;
// The backend's cache when built, else this Deno's own (both hold the runtime's packages).
const denoDir = await Deno.stat(buildDenoDir).then(
  () => buildDenoDir,
  () => Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`,
);

async function check(fileName: string, source: string): Promise<string | undefined> {
  const dir = await Deno.makeTempDir({ prefix: "tdn_type_check_" });
  try {
    await Deno.writeTextFile(`${dir}/${fileName}`, source);
    const outcome = await typeCheckModel({
      denoPath: Deno.execPath(),
      denoDir,
      importMap,
      modelFile: `${dir}/${fileName}`,
    });
    // Without a verdict directory nothing is kept.
    assertEquals(outcome, fileName.endsWith(".ts") ? "checked-unkept" : "skipped");
    return undefined;
  } catch (error) {
    if (error instanceof TypeCheckError) return error.message;
    throw error;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const GOOD_MODEL = `import { type InferenceRequest, InferenceResponse } from "@triton/deno";

export default class Identity {
  execute(requests: InferenceRequest[]): InferenceResponse[] {
    return requests.map((request) => new InferenceResponse([...request.inputs]));
  }
}
`;

Deno.test("type check: a model using the API checks clean", async () => {
  assertEquals(await check("model.ts", GOOD_MODEL), undefined);
});

Deno.test("type check: a type error is reported with file:line:column", async () => {
  const message = await check(
    "model.ts",
    GOOD_MODEL.replace("return requests", 'const count: number = "three";\n    return requests'),
  );
  assert(message !== undefined, "the type error was not reported");
  assertStringIncludes(message, "TS2322");
  assertStringIncludes(message, "model.ts:5:11");
  assert(!message.includes("\x1b["), "ANSI escapes left in the message");
});

Deno.test("type check: JavaScript models are not checked", async () => {
  assertEquals(
    await check("model.js", "export default class { execute() { return 1 + ; } }"),
    undefined,
  );
});

Deno.test("type check: ANSI sequences are stripped", () => {
  assertEquals(stripAnsi("\x1b[0m\x1b[1mTS2322 \x1b[0m[ERROR]"), "TS2322 [ERROR]");
});

const RUNTIME_DIR = decodeURIComponent(new URL("..", import.meta.url).pathname).replace(/\/$/, "");

/** A model directory `<temp>/m` with `1/model.ts` holding `source`. */
function writeModel(source: string): string {
  const dir = `${Deno.makeTempDirSync({ prefix: "tdn_type_check_" })}/m`;
  Deno.mkdirSync(`${dir}/1`, { recursive: true });
  Deno.writeTextFileSync(`${dir}/1/model.ts`, source);
  return dir;
}

/** A model whose source no earlier check has seen (Deno's own cache included). */
function freshModel(): string {
  return `${GOOD_MODEL}// ${crypto.randomUUID()}\n`;
}

function checkWithVerdicts(dir: string, cacheDir: string, onProgress?: () => void) {
  return typeCheckModel({
    denoPath: Deno.execPath(),
    denoDir,
    importMap,
    modelFile: `${dir}/1/model.ts`,
    verdicts: { cacheDir, runtimeDir: RUNTIME_DIR, modelDirectory: dir },
    firstRoot: `${RUNTIME_DIR}/runtime/api/mod.ts`,
    onProgress,
    progressIntervalMs: 50,
  });
}

function removeAll(...paths: string[]): void {
  for (const path of paths) Deno.removeSync(path.replace(/\/m$/, ""), { recursive: true });
}

Deno.test("type check: sources that passed once are not checked again, in any directory", async () => {
  const source = freshModel();
  const first = writeModel(source);
  const second = writeModel(source);
  const edited = writeModel(`${source}// edited\n`);
  const cacheDir = Deno.makeTempDirSync({ prefix: "tdn_verdicts_" });
  try {
    let progress = 0;
    assertEquals(await checkWithVerdicts(first, cacheDir, () => progress++), "checked");
    assert(progress > 0, "no progress was reported while the check ran");
    assertEquals(await checkWithVerdicts(first, cacheDir), "cached");
    assertEquals(await checkWithVerdicts(second, cacheDir), "cached");
    assertEquals(await checkWithVerdicts(edited, cacheDir), "checked");
  } finally {
    removeAll(first, second, edited, cacheDir);
  }
});

Deno.test("type check: concurrent checks of the same sources run deno check once", async () => {
  const source = freshModel();
  const dirs = [writeModel(source), writeModel(source)];
  const cacheDir = Deno.makeTempDirSync({ prefix: "tdn_verdicts_" });
  try {
    const outcomes = await Promise.all(dirs.map((dir) => checkWithVerdicts(dir, cacheDir)));
    assertEquals(outcomes.sort(), ["cached", "checked"]);
  } finally {
    removeAll(...dirs, cacheDir);
  }
});

Deno.test("type check: a failing model is checked every time, naming file:line each time", async () => {
  const dir = writeModel(
    freshModel().replace("return requests", 'const n: number = "x";\n    return requests'),
  );
  const cacheDir = Deno.makeTempDirSync({ prefix: "tdn_verdicts_" });
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      const error = await checkWithVerdicts(dir, cacheDir).then(() => undefined, (e) => e);
      assert(error instanceof TypeCheckError, `attempt ${attempt}: no type error`);
      assertStringIncludes(error.message, "model.ts:5:11");
    }
    const kept = [...Deno.readDirSync(cacheDir)].filter((entry) => entry.isFile);
    assertEquals(kept, [], "a failing check left a verdict");
  } finally {
    removeAll(dir, cacheDir);
  }
});
