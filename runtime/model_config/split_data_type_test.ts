import { assert, assertEquals } from "./_test_assert.ts";
import { splitDataType } from "./split_data_type.ts";

Deno.test("split: the generated DataType enum moves to data_type.ts and is re-exported", () => {
  const generated = [
    "// deno-lint-ignore-file",
    'import type { Message } from "npm:@bufbuild/protobuf@2.17.0";',
    "",
    "export const X = 1;",
    "",
    "/**",
    " * Element type of an input, output or state tensor.",
    " */",
    "export enum DataType {",
    "  TYPE_INVALID = 0,",
    "}",
    "",
    "export const DataTypeSchema = 2;",
    "",
  ].join("\n");
  const split = splitDataType(generated);
  assert(split !== undefined);
  assert(split.enumFile.includes("export enum DataType {\n  TYPE_INVALID = 0,\n}\n"));
  assert(!split.schema.includes("export enum DataType"));
  assert(split.schema.includes('import { DataType } from "./data_type.ts";\n'));
  assert(split.schema.includes("export { DataType };\n\nexport const DataTypeSchema = 2;"));
  assertEquals(splitDataType(split.schema), undefined);
});

Deno.test("split: the committed schema is split, and re-exports the enum data_type.ts declares", async () => {
  const schema = await import("./model_config_pb.ts");
  const enumModule = await import("./data_type.ts");
  assertEquals(schema.DataType, enumModule.DataType);
  assertEquals(schema.DataType.TYPE_BF16, 14);
});
