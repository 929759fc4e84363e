import { assert, assertEquals, assertStringIncludes, assertThrows } from "../api/_test_assert.ts";
import { ModelFileError, modelFilePath, requireModelFile } from "./model_file.ts";

Deno.test("model file: model.ts by default, default_model_filename otherwise", () => {
  assertEquals(modelFilePath("/m/add_sub/", "3", ""), "/m/add_sub/3/model.ts");
  assertEquals(modelFilePath("/m/add_sub", "1", "main.js"), "/m/add_sub/1/main.js");
});

Deno.test("model file: a file name that leaves the version folder is refused", () => {
  for (const name of ["../model.ts", "sub/model.ts", ".."]) {
    assertThrows(() => modelFilePath("/m/x", "1", name), ModelFileError, "must be a file name");
  }
});

Deno.test("model file: a missing file names the path and the setting", async () => {
  const error = await requireModelFile("/nonexistent/1/model.ts").then(() => undefined, (e) => e);
  assert(error instanceof ModelFileError, "a missing file was accepted");
  assertStringIncludes(
    error.message,
    "model file not found: /nonexistent/1/model.ts (set default_model_filename",
  );
  assertEquals(error.code, 2);
});
