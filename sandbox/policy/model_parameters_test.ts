import {
  assertEquals,
  assertStringIncludes,
  assertThrows,
} from "../../runtime/api/_test_assert.ts";
import { declaredSandboxOf, SandboxConfigError } from "./model_parameters.ts";

const DIR = "/models/m";

function config(parameters: Record<string, string>): string {
  return JSON.stringify({
    name: "m",
    parameters: Object.fromEntries(
      Object.entries(parameters).map(([key, value]) => [key, { string_value: value }]),
    ),
  });
}

function refusal(parameters: Record<string, string>): string {
  return assertThrows(() => declaredSandboxOf(config(parameters), DIR), SandboxConfigError)
    .message;
}

Deno.test("model parameters: none declared means nothing extra", () => {
  assertEquals(declaredSandboxOf(config({}), DIR), {
    read: [],
    write: [],
    net: [],
    env: [],
    sys: [],
    gpu: false,
    models: [],
    modelControl: [],
    maxHeapMb: undefined,
    maxMemoryMb: undefined,
    executeTimeoutMs: undefined,
    streamIdleTimeoutMs: undefined,
    maxOutputBytes: undefined,
  });
  assertEquals(declaredSandboxOf('{"name":"m"}', DIR).read, []);
});

Deno.test("model parameters: every key is parsed and normalized", () => {
  const declared = declaredSandboxOf(
    config({
      "deno.allow_read": "data, /srv/shared/,data",
      "deno.allow_write": "/tmp/out",
      "deno.allow_net": "10.0.0.5:443,API.internal:8080",
      "deno.allow_env": "API_TOKEN",
      "deno.allow_sys": "hostname,cpus",
      "deno.allow_gpu": "true",
      "deno.max_heap_mb": "256",
      "deno.max_memory_mb": "0",
      "deno.execute_timeout_ms": "1500",
      "deno.stream_idle_timeout_ms": "90000",
      "deno.max_output_bytes": "1048576",
      "not_ours": "whatever",
    }),
    DIR,
  );
  assertEquals(declared.read, ["/models/m/data", "/srv/shared"]);
  assertEquals(declared.write, ["/tmp/out"]);
  assertEquals(declared.net, [{ host: "10.0.0.5", port: 443 }, {
    host: "api.internal",
    port: 8080,
  }]);
  assertEquals(declared.env, ["API_TOKEN"]);
  assertEquals(declared.sys, ["hostname", "cpus"]);
  assertEquals(declared.gpu, true);
  assertEquals(
    [
      declared.maxHeapMb,
      declared.maxMemoryMb,
      declared.executeTimeoutMs,
      declared.streamIdleTimeoutMs,
      declared.maxOutputBytes,
    ],
    [256, 0, 1500, 90000, 1048576],
  );
});

Deno.test("model parameters: the models a model may call or control are names or globs", () => {
  const declared = declaredSandboxOf(
    config({
      "deno.allow_models": "add_sub, stream_*,add_sub",
      "deno.allow_model_control": "tmp_[0-9]",
    }),
    DIR,
  );
  assertEquals([declared.models, declared.modelControl], [["add_sub", "stream_*"], ["tmp_[0-9]"]]);
  const message = refusal({ "deno.allow_models": "ok,not ok" });
  assertStringIncludes(message, '"deno.allow_models"');
  assertStringIncludes(message, "model names or globs");
});

Deno.test("model parameters: an unknown deno.* key names itself and the known keys", () => {
  const message = refusal({ "deno.allow_run": "/bin/sh" });
  assertStringIncludes(message, '"deno.allow_run"');
  assertStringIncludes(message, "deno.allow_read");
  assertStringIncludes(message, "subprocesses can never be granted");
  assertStringIncludes(refusal({ "deno.allow_ffi": "x" }), '"deno.allow_ffi"');
});

Deno.test("model parameters: malformed values name the key, the value and what is allowed", () => {
  const cases: [Record<string, string>, string][] = [
    [{ "deno.allow_net": "api.internal:99999" }, "host:port"],
    [{ "deno.allow_net": "a,,b" }, "comma-separated"],
    [{ "deno.allow_read": "/a,~/b" }, "~"],
    [{ "deno.allow_env": "LD_PRELOAD" }, "reserved"],
    [{ "deno.allow_env": "has space" }, "variable name"],
    [{ "deno.allow_sys": "setPriority" }, "hostname"],
    [{ "deno.allow_gpu": "yes" }, '"true" or "false"'],
    [{ "deno.max_heap_mb": "8" }, "from 16 to"],
    [{ "deno.max_heap_mb": "0x10" }, "decimal integer"],
    [{ "deno.max_memory_mb": "-1" }, "decimal integer"],
    [{ "deno.execute_timeout_ms": "1e3" }, "decimal integer"],
    [{ "deno.max_output_bytes": "" }, "decimal integer"],
  ];
  for (const [parameters, allowed] of cases) {
    const [[key, value]] = Object.entries(parameters);
    const message = refusal(parameters);
    assertStringIncludes(message, JSON.stringify(key));
    assertStringIncludes(message, JSON.stringify(value));
    assertStringIncludes(message, allowed);
  }
});

Deno.test("model parameters: a value that is not a string_value is refused", () => {
  const json = JSON.stringify({ parameters: { "deno.allow_gpu": { int64_value: 1 } } });
  assertThrows(() => declaredSandboxOf(json, DIR), SandboxConfigError, "string_value");
});
