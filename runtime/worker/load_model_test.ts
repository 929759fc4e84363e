import { assert, assertEquals, assertStringIncludes } from "../api/_test_assert.ts";
import { loadModel, ModelShapeError } from "./load_model.ts";

const fixture = (name: string) => new URL(`./testdata/${name}`, import.meta.url).href;

async function loadError(name: string): Promise<Error> {
  const error = await loadModel(fixture(name)).then(() => undefined, (e) => e);
  assert(error instanceof Error, `${name} loaded`);
  return error;
}

Deno.test("load model: a default-exported class with execute is constructed", async () => {
  const model = await loadModel(fixture("good_model.ts"));
  assertEquals(model.execute([1, 2]), 2);
});

Deno.test("load model: other default exports are refused with what is expected", async () => {
  for (
    const [name, detail] of [
      ["not_a_class.ts", "its default export is number"],
      ["no_execute.ts", "it has no execute method"],
    ]
  ) {
    const error = await loadError(name);
    assert(error instanceof ModelShapeError);
    assertStringIncludes(
      error.message,
      `${name} must export default a class with an execute(requests) method (${detail})`,
    );
  }
});

Deno.test("load model: a syntax error keeps its file:line:column", async () => {
  // Written at test time: a broken file in the tree would break `deno check` and `deno fmt`.
  const dir = await Deno.makeTempDir({ prefix: "tdn_load_model_" });
  try {
    await Deno.writeTextFile(
      `${dir}/broken.ts`,
      "export default class Broken {\n  execute() {\n    return [;\n  }\n}\n",
    );
    const error = await loadModel(`file://${dir}/broken.ts`).then(() => undefined, (e) => e);
    assert(error instanceof Error, "a broken module loaded");
    assertStringIncludes(error.message, "broken.ts:3:");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
