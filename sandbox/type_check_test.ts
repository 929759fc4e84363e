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
    const checked = await typeCheckModel({
      denoPath: Deno.execPath(),
      denoDir,
      importMap,
      modelFile: `${dir}/${fileName}`,
    });
    assert(checked || !fileName.endsWith(".ts"));
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
