import {
  assertEquals,
  assertStringIncludes,
  assertThrows,
} from "../../runtime/api/_test_assert.ts";
import {
  fileUrl,
  mergedImportMap,
  ModelImportsError,
  readModelImports,
  requireCached,
} from "./model_imports.ts";

const LOCK = {
  version: "5",
  specifiers: { "npm:zod@^3.22.0": "3.25.76", "npm:@scope/pkg@1": "1.2.3_peer@2.0.0" },
  npm: {},
};

/** `lock` null: no deno.lock. */
async function modelWith(denoJson: unknown, lock: unknown): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "tdn_imports_" });
  await Deno.writeTextFile(`${dir}/deno.json`, JSON.stringify(denoJson));
  if (lock !== null) await Deno.writeTextFile(`${dir}/deno.lock`, JSON.stringify(lock));
  return dir;
}

async function refusal(dir: string): Promise<string> {
  try {
    await readModelImports(dir);
  } catch (error) {
    if (error instanceof ModelImportsError) return error.message;
    throw error;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  throw new Error("accepted");
}

Deno.test("model imports: no deno.json, nothing to map", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assertEquals(await readModelImports(dir), undefined);
  } finally {
    await Deno.remove(dir);
  }
});

Deno.test("model imports: npm imports are pinned to the locked versions", async () => {
  const dir = await modelWith({
    imports: {
      zod: "npm:zod@^3.22.0",
      "zod/sub": "npm:zod@^3.22.0/lib/index.js",
      pkg: "npm:@scope/pkg@1",
      lib: "./lib/index.ts",
      fs: "node:fs",
    },
  }, LOCK);
  try {
    const imports = await readModelImports(dir);
    assertEquals(imports?.map(({ key, target }) => [key, target]), [
      ["zod", "npm:zod@3.25.76"],
      ["zod/sub", "npm:zod@3.25.76/lib/index.js"],
      ["pkg", "npm:@scope/pkg@1.2.3"],
      ["lib", fileUrl(`${dir}/lib/index.ts`)],
      ["fs", "node:fs"],
    ]);
    const map = await mergedImportMap(
      new URL("../../runtime/import_map.json", import.meta.url).pathname,
      dir,
      imports!,
    );
    const decoded = JSON.parse(atob(map.slice("data:application/json;base64,".length)));
    assertEquals(
      decoded.imports["@triton/deno"],
      new URL("../../runtime/api/mod.ts", import.meta.url).href,
    );
    assertEquals(decoded.scopes[`${fileUrl(dir)}/`].zod, "npm:zod@3.25.76");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("model imports: remote, outside and unpinned imports are refused", async () => {
  const cases: [unknown, unknown, string][] = [
    [{ imports: { x: "jsr:@std/path" } }, LOCK, "never fetch code"],
    [{ imports: { x: "https://example.invalid/x.ts" } }, LOCK, "never fetch code"],
    [{ imports: { x: "../outside.ts" } }, LOCK, "outside the model directory"],
    [{ imports: { x: "npm:left-pad@1" } }, LOCK, "no entry for npm:left-pad@1"],
    [{ imports: { x: "npm:zod@^3.22.0" } }, null, "has no"],
    [{ imports: { x: "npm:zod@^3.22.0" } }, { version: "1" }, "version 4 or 5"],
    [{ imports: {}, importMap: "./map.json" }, LOCK, '"importMap" is not supported'],
    [{ imports: {}, nodeModulesDir: "auto" }, LOCK, '"nodeModulesDir" is not supported'],
    [{ imports: { x: 1 } }, LOCK, "map names to strings"],
  ];
  for (const [denoJson, lock, expected] of cases) {
    assertStringIncludes(await refusal(await modelWith(denoJson, lock)), expected);
  }
});

Deno.test("model imports: a package missing from the cache names the command to run", async () => {
  const cache = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${cache}/npm/some.registry/zod/3.25.76`, { recursive: true });
    const zod = {
      key: "zod",
      target: "npm:zod@3.25.76",
      npmPackage: { name: "zod", version: "3.25.76" },
    };
    await requireCached(cache, [zod], "/models/m");
    const other = { ...zod, npmPackage: { name: "zod", version: "3.0.0" } };
    let message = "";
    await requireCached(cache, [other], "/models/m").catch((error) => message = error.message);
    assertStringIncludes(message, "zod@3.0.0 is not in the backend's cache");
    assertStringIncludes(message, "deno task prepare-model /models/m");
  } finally {
    await Deno.remove(cache, { recursive: true });
  }
  assertThrows(() => {
    throw new ModelImportsError("x");
  }, ModelImportsError);
});

Deno.test("model imports: entries for the runtime's own names are left to the runtime", async () => {
  const dir = await modelWith({
    imports: {
      "@triton/deno": "/opt/tritonserver/backends/deno/runtime/api/mod.ts",
      "@triton/deno/testing": "/opt/tritonserver/backends/deno/runtime/api/testing.ts",
      "./helpers": "./helpers.ts",
    },
    tasks: { test: "deno test --allow-read" },
  }, null);
  try {
    const pinned = await readModelImports(dir);
    assertEquals(pinned?.map((entry) => entry.key), ["./helpers"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
