import { assert, assertEquals, assertStringIncludes } from "../../runtime/api/_test_assert.ts";
import { NATIVE_CHECK_DIR, nativeCheckPasses } from "./native_check.ts";
import { parseNpmSpecifier } from "./native_check_types.ts";
import { TypeCheckError, typeCheckModel } from "./type_check.ts";

const ROOT = decodeURIComponent(new URL("../..", import.meta.url).pathname).replace(/\/$/, "");
// `make build` writes native_check/ (sandbox/checks/native_check_types.ts); the tests run after it.
const BACKEND_DIR = `${ROOT}/build/deno`;
const IMPORT_MAP = `${ROOT}/runtime/import_map.json`;

await Deno.stat(`${BACKEND_DIR}/${NATIVE_CHECK_DIR}/tsconfig.json`).catch(() => {
  throw new Error(`${BACKEND_DIR}/${NATIVE_CHECK_DIR} is missing: run make build first`);
});

const GOOD_MODEL = `import { type InferenceRequest, InferenceResponse } from "@triton/deno";

export default class Identity {
  #timer = setTimeout(() => {}, 1);
  execute(requests: InferenceRequest[]): InferenceResponse[] {
    clearTimeout(this.#timer);
    console.log(new TextDecoder().decode(new Uint8Array([104, 105])), Deno.pid);
    return requests.map((request) => new InferenceResponse([...request.inputs]));
  }
}
`;
const TYPE_ERROR = GOOD_MODEL.replace(
  "return requests",
  'const count: number = "three";\n    return requests',
);
// Checks clean with deno check (Node's globals), which the native check does not declare.
const NODE_GLOBALS = GOOD_MODEL.replace(
  "return requests",
  'const bytes: Uint8Array = Buffer.from("x");\n    void bytes;\n    return requests',
);

/** Writes `source` as `<temp>/1/model.ts`; returns its path. */
async function model(source: string): Promise<{ modelFile: string }> {
  const dir = await Deno.makeTempDir({ prefix: "tdn_native_check_" });
  await Deno.mkdir(`${dir}/1`);
  await Deno.writeTextFile(`${dir}/1/model.ts`, source);
  return { modelFile: `${dir}/1/model.ts` };
}

async function cleanUp(modelFile: string): Promise<void> {
  await Deno.remove(modelFile.replace(/\/1\/model\.ts$/, ""), { recursive: true });
}

Deno.test("native check: a model using the API, Deno's globals and timers passes", async () => {
  const { modelFile } = await model(GOOD_MODEL);
  try {
    assert(await nativeCheckPasses({ backendDir: BACKEND_DIR, modelFile }));
  } finally {
    await cleanUp(modelFile);
  }
});

Deno.test("native check: a type error, an unknown global or a missing compiler is no pass", async () => {
  for (
    const [source, backendDir] of [
      [TYPE_ERROR, BACKEND_DIR],
      [NODE_GLOBALS, BACKEND_DIR],
      [GOOD_MODEL, `${ROOT}/no-such-backend`],
    ]
  ) {
    const { modelFile } = await model(source);
    try {
      assertEquals(await nativeCheckPasses({ backendDir, modelFile }), false);
    } finally {
      await cleanUp(modelFile);
    }
  }
});

Deno.test("native check: every example model passes it (the examples load on the fast path)", async () => {
  for (const entry of Deno.readDirSync(`${ROOT}/models`)) {
    const modelFile = `${ROOT}/models/${entry.name}/1/model.ts`;
    assert(
      await nativeCheckPasses({ backendDir: BACKEND_DIR, modelFile }),
      `${entry.name} did not pass the native check`,
    );
  }
});

/** typeCheckModel with the native check in front of `denoPath`. */
async function typeCheck(source: string, denoPath: string): Promise<string> {
  const { modelFile } = await model(source);
  try {
    return await typeCheckModel({
      denoPath,
      denoDir: `${BACKEND_DIR}/deno_dir`,
      importMap: IMPORT_MAP,
      modelFile,
      native: { backendDir: BACKEND_DIR },
    });
  } catch (error) {
    return error instanceof TypeCheckError ? `TypeCheckError: ${error.message}` : String(error);
  } finally {
    await cleanUp(modelFile);
  }
}

Deno.test("type check with the native compiler: a pass needs no deno check", async () => {
  // No deno at that path: only the native compiler can have passed it.
  assertEquals(await typeCheck(GOOD_MODEL, `${ROOT}/no-such-deno`), "checked-unkept");
});

Deno.test("type check with the native compiler: anything else is deno check's to judge", async () => {
  // A type error: deno check's diagnostics, with file:line:column.
  const error = await typeCheck(TYPE_ERROR, Deno.execPath());
  assertStringIncludes(error, "TypeCheckError");
  assertStringIncludes(error, "TS2322");
  assertStringIncludes(error, "model.ts:8:11");
  // What the native check cannot judge, deno check passes.
  assertEquals(await typeCheck(NODE_GLOBALS, Deno.execPath()), "checked-unkept");
  // And without deno, that model is not passed by the native compiler alone.
  assertStringIncludes(await typeCheck(NODE_GLOBALS, `${ROOT}/no-such-deno`), "NotFound");
});

Deno.test("native check types: npm specifiers split into package and subpath", () => {
  assertEquals(parseNpmSpecifier("npm:@bufbuild/protobuf@2.17.0/codegenv2"), {
    name: "@bufbuild/protobuf",
    version: "2.17.0",
    subpath: "/codegenv2",
  });
  assertEquals(parseNpmSpecifier("npm:zod@3.25.76"), {
    name: "zod",
    version: "3.25.76",
    subpath: "",
  });
  let thrown = false;
  try {
    parseNpmSpecifier("npm:zod");
  } catch {
    thrown = true;
  }
  assert(thrown, "a specifier without a version was accepted");
});
