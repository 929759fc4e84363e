import { assertEquals, assertThrows } from "../api/_test_assert.ts";
import { parseInstanceArgs } from "./instance_args.ts";

const GOOD = {
  model_config: "{}",
  model_instance_name: "m_0",
  model_instance_kind: "CPU",
  model_instance_device_id: "0",
};

Deno.test("parseInstanceArgs reads the four fields", () => {
  assertEquals(parseInstanceArgs(JSON.stringify(GOOD)), GOOD);
});

Deno.test("parseInstanceArgs names the field at fault", () => {
  const cases: [unknown, string][] = [
    [[], "must be a JSON object"],
    [{ ...GOOD, extra: "x" }, "unknown field 'extra'"],
    [{ ...GOOD, model_config: "" }, "'model_config' must be a non-empty string"],
    [{ ...GOOD, model_instance_kind: 1 }, "'model_instance_kind' must be a non-empty string"],
    [{ ...GOOD, model_instance_device_id: "zero" }, "must be a decimal integer"],
  ];
  for (const [value, message] of cases) {
    assertThrows(() => parseInstanceArgs(JSON.stringify(value)), Error, message);
  }
  const { model_instance_name: _, ...missing } = GOOD;
  assertThrows(() => parseInstanceArgs(JSON.stringify(missing)), Error, "'model_instance_name'");
});
