import { assertEquals, assertThrows } from "../api/_test_assert.ts";
import { InitArgsError, parseInitArgs } from "./init_args.ts";

const VALID = {
  model_config: '{"name":"add_sub"}',
  model_name: "add_sub",
  model_version: "1",
  model_repository: "/models/add_sub",
  model_instance_name: "add_sub_0_0",
  model_instance_kind: "CPU",
  model_instance_device_id: "0",
  sandbox: '{"status":"ok"}',
  backend_options: {
    deno_path: "/opt/deno/deno",
    stub_library: "/opt/deno/libtriton_deno_stub.so",
    runtime_dir: "/opt/deno",
    execute_timeout_ms: "60000",
  },
};

Deno.test("init args: the parent's JSON is accepted; unknown keys are ignored", () => {
  const parsed = parseInitArgs(JSON.stringify({ ...VALID, some_future_field: 1 }));
  assertEquals(parsed, VALID);
});

Deno.test("init args: each invalid field is named", () => {
  const cases: [unknown, string][] = [
    [{ ...VALID, model_version: 1 }, "model_version: Expected string"],
    [{ ...VALID, model_repository: "models/x" }, "model_repository: must be an absolute path"],
    [{ ...VALID, model_name: "" }, "model_name"],
    [{ ...VALID, model_instance_device_id: "gpu0" }, "model_instance_device_id"],
    [{ ...VALID, sandbox: "" }, "sandbox"],
    [
      { ...VALID, backend_options: { ...VALID.backend_options, execute_timeout_ms: "1s" } },
      "backend_options.execute_timeout_ms",
    ],
    [{ ...VALID, backend_options: undefined }, "backend_options: Required"],
    [[], "(the whole object)"],
  ];
  for (const [json, field] of cases) {
    assertThrows(() => parseInitArgs(JSON.stringify(json)), InitArgsError, field);
  }
});

Deno.test("init args: text that is not JSON is refused", () => {
  assertThrows(() => parseInitArgs("{"), InitArgsError, "not JSON");
});
