import { assert, assertEquals } from "../../runtime/api/_test_assert.ts";

function assertNotEquals<T>(actual: T, unexpected: T): void {
  assert(actual !== unexpected, `expected anything but ${String(unexpected)}`);
}
import {
  hasVerdict,
  lockVerdict,
  type VerdictInputs,
  verdictKey,
  writeVerdict,
} from "./check_verdicts.ts";

const RUNTIME_DIR = decodeURIComponent(new URL("../..", import.meta.url).pathname).replace(
  /\/$/,
  "",
);
const MAP = '{ "imports": { "@triton/deno": "./api/mod.ts" } }';

/** A model directory holding `files` (relative path -> contents). */
function modelDir(files: Record<string, string>): string {
  const root = Deno.makeTempDirSync({ prefix: "tdn_verdicts_" });
  const dir = `${root}/m`;
  for (const [path, text] of Object.entries(files)) {
    Deno.mkdirSync(`${dir}/${path}`.replace(/\/[^/]*$/, ""), { recursive: true });
    Deno.writeTextFileSync(`${dir}/${path}`, text);
  }
  return dir;
}

function inputs(dir: string, overrides: Partial<VerdictInputs> = {}): VerdictInputs {
  return {
    denoVersion: "2.9.6",
    importMapText: MAP,
    runtimeDir: RUNTIME_DIR,
    modelDirectory: dir,
    modelFile: `${dir}/1/model.ts`,
    ...overrides,
  };
}

function cleanup(...dirs: string[]): void {
  for (const dir of dirs) Deno.removeSync(dir.replace(/\/m$/, ""), { recursive: true });
}

const SOURCES = { "1/model.ts": "export default 1;\n", "1/helper.ts": "export const x = 2;\n" };

Deno.test("verdicts: the same sources in two directories share a name", async () => {
  const a = modelDir(SOURCES);
  const b = modelDir(SOURCES);
  try {
    const key = await verdictKey(inputs(a));
    assert(key !== undefined && /^[0-9a-f]{64}$/.test(key), `bad key ${key}`);
    assertEquals(await verdictKey(inputs(b)), key);
  } finally {
    cleanup(a, b);
  }
});

Deno.test("verdicts: any source, the import map, Deno or the entry changes the name", async () => {
  const a = modelDir(SOURCES);
  const edited = modelDir({ ...SOURCES, "1/helper.ts": "export const x = 3;\n" });
  const added = modelDir({ ...SOURCES, "shared/util.json": "{}" });
  const moved = modelDir({ "2/model.ts": SOURCES["1/model.ts"], "2/helper.ts": "x" });
  try {
    const key = await verdictKey(inputs(a));
    assertNotEquals(await verdictKey(inputs(edited)), key);
    assertNotEquals(await verdictKey(inputs(added)), key);
    assertNotEquals(await verdictKey(inputs(a, { importMapText: `${MAP} ` })), key);
    assertNotEquals(await verdictKey(inputs(a, { denoVersion: "2.9.7" })), key);
    assertNotEquals(await verdictKey(inputs(a, { modelFile: `${a}/1/helper.ts` })), key);
    assertNotEquals(await verdictKey(inputs(moved, { modelFile: `${moved}/2/model.ts` })), key);
  } finally {
    cleanup(a, edited, added, moved);
  }
});

Deno.test("verdicts: files that cannot be code (weights, configs) are left out", async () => {
  const a = modelDir(SOURCES);
  const b = modelDir({ ...SOURCES, "1/weights.bin": "\x00\x01", "config.pbtxt": 'name: "m"' });
  try {
    assertEquals(await verdictKey(inputs(b)), await verdictKey(inputs(a)));
  } finally {
    cleanup(a, b);
  }
});

Deno.test("verdicts: the model API's sources are part of the name", async () => {
  const a = modelDir(SOURCES);
  const runtime = Deno.makeTempDirSync({ prefix: "tdn_verdicts_runtime_" });
  try {
    Deno.mkdirSync(`${runtime}/runtime/api`, { recursive: true });
    Deno.mkdirSync(`${runtime}/runtime/model_config`, { recursive: true });
    Deno.writeTextFileSync(`${runtime}/runtime/api/mod.ts`, "export const v = 1;\n");
    const key = await verdictKey(inputs(a, { runtimeDir: runtime }));
    Deno.writeTextFileSync(`${runtime}/runtime/api/mod_test.ts`, "tests do not count\n");
    assertEquals(await verdictKey(inputs(a, { runtimeDir: runtime })), key);
    Deno.writeTextFileSync(`${runtime}/runtime/api/mod.ts`, "export const v = 2;\n");
    assertNotEquals(await verdictKey(inputs(a, { runtimeDir: runtime })), key);
  } finally {
    cleanup(a);
    Deno.removeSync(runtime, { recursive: true });
  }
});

Deno.test("verdicts: a symbolic link counts by its target", async () => {
  const a = modelDir(SOURCES);
  const b = modelDir(SOURCES);
  try {
    Deno.symlinkSync("helper.ts", `${a}/1/alias.ts`);
    Deno.symlinkSync("model.ts", `${b}/1/alias.ts`);
    assertNotEquals(await verdictKey(inputs(a)), await verdictKey(inputs(b)));
  } finally {
    cleanup(a, b);
  }
});

Deno.test("verdicts: no name for sources over the limit, or a module outside the directory", async () => {
  const a = modelDir(SOURCES);
  try {
    assertEquals(await verdictKey(inputs(a), 10), undefined);
    assertEquals(await verdictKey(inputs(a, { modelFile: "/elsewhere/model.ts" })), undefined);
  } finally {
    cleanup(a);
  }
});

Deno.test("verdicts: written whole, found after; the lock admits one holder at a time", async () => {
  const cache = `${Deno.makeTempDirSync({ prefix: "tdn_verdicts_cache_" })}/verdicts`;
  const key = "ab".repeat(32);
  try {
    assertEquals(await hasVerdict(cache, key), false);
    await writeVerdict(cache, key, "note");
    assertEquals(await hasVerdict(cache, key), true);
    assertEquals([...Deno.readDirSync(cache)].map((entry) => entry.name), [key]);

    const order: string[] = [];
    const releaseFirst = await lockVerdict(cache, key);
    const second = lockVerdict(cache, key).then((release) => {
      order.push("second");
      release();
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    order.push("first");
    releaseFirst();
    await second;
    assertEquals(order, ["first", "second"]);
  } finally {
    Deno.removeSync(cache.replace(/\/verdicts$/, ""), { recursive: true });
  }
});
