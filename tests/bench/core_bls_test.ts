import { assert, assertEquals, assertStringIncludes } from "../harness/assert.ts";
import { blsModelNames, writeBlsModels } from "./core_bls.ts";

Deno.test("BLS group: a baseline's copies run on its backend and call one another", () => {
  const repository = Deno.makeTempDirSync({ prefix: "core_bls_test_" });
  try {
    writeBlsModels(repository, false, true);
    const read = (path: string) => Deno.readTextFileSync(`${repository}/${path}`);
    const names = blsModelNames(false, true);
    for (const name of names) {
      const config = read(`${name}/config.pbtxt`);
      assertStringIncludes(config, `name: "${name}"`);
      assertStringIncludes(config, "count: 1");
      const backend = name.startsWith("base_") ? "denobase" : "deno";
      assertStringIncludes(config, `backend: "${backend}"`);
    }
    assertEquals(names.filter((name) => name.startsWith("base_")).length, names.length / 2);
    // Each caller reaches, and may reach, its own build's callee only.
    for (const prefix of ["", "base_"]) {
      for (const [caller, callee] of [["bls_add_sub", "add_sub"], ["bls_stream", "stream_text"]]) {
        for (
          const model of [caller, ...(caller === "bls_add_sub" ? ["bls_add_sub_overlap"] : [])]
        ) {
          assertStringIncludes(
            read(`${prefix}${model}/config.pbtxt`),
            `string_value: "${prefix}${callee}"`,
          );
          const source = read(`${prefix}${model}/1/model.ts`);
          assertStringIncludes(source, `"${prefix}${callee}"`);
          if (prefix === "base_") {
            assert(!source.includes(`"${callee}"`), `${model} calls ${callee}`);
          }
        }
      }
    }
    assertStringIncludes(read("base_bls_add_sub_overlap/config.pbtxt"), "max_batches_in_flight");
  } finally {
    Deno.removeSync(repository, { recursive: true });
  }
});
