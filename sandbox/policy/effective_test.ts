import {
  assertEquals,
  assertStringIncludes,
  assertThrows,
} from "../../runtime/api/_test_assert.ts";
import { type BackendDefaults, CeilingError, effectiveSandbox } from "./effective.ts";
import { dataLimitMb } from "./layers.ts";
import { declaredSandboxOf } from "./model_parameters.ts";
import { BUILT_IN_CEILING, ceilingFor, parsePolicy } from "./policy_file.ts";

const DIR = "/models/m";
const DEFAULTS: BackendDefaults = {
  heapMb: 1024,
  memoryMb: 4096,
  executeTimeoutMs: 60000,
  streamIdleTimeoutMs: 60000,
  maxOutputBytes: 1 << 30,
};
const POLICY = parsePolicy(
  JSON.stringify({
    version: 1,
    default: {
      allow_read: ["/srv/shared"],
      allow_write: ["/var/tmp/models"],
      allow_net: ["api.internal:8080", "10.0.0.5"],
      allow_env: ["API_TOKEN"],
      allow_sys: ["hostname"],
      allow_gpu: true,
      max_heap_mb: 512,
      max_memory_mb: 8192,
      execute_timeout_ms: 5000,
      stream_idle_timeout_ms: 30000,
      max_output_bytes: 4096,
    },
  }),
  "/etc/p.json",
);

function sandboxOf(parameters: Record<string, string>, withPolicy: boolean) {
  const json = JSON.stringify({
    parameters: Object.fromEntries(
      Object.entries(parameters).map(([key, value]) => [key, { string_value: value }]),
    ),
  });
  return effectiveSandbox({
    modelDirectory: DIR,
    declared: declaredSandboxOf(json, DIR),
    ceiling: withPolicy ? ceilingFor(POLICY, "m") : BUILT_IN_CEILING,
    defaults: DEFAULTS,
  });
}

Deno.test("effective: with nothing declared and no policy, the model reads its directory", () => {
  const sandbox = sandboxOf({}, false);
  assertEquals(sandbox.read, [DIR]);
  assertEquals([sandbox.write, sandbox.net, sandbox.env, sandbox.sys], [[], [], [], []]);
  assertEquals(sandbox.gpu, false);
  assertEquals(
    [
      sandbox.heapMb,
      sandbox.memoryMb,
      sandbox.executeTimeoutMs,
      sandbox.streamIdleTimeoutMs,
      sandbox.maxOutputBytes,
    ],
    [1024, 4096, 60000, 60000, 1 << 30],
  );
  assertEquals(sandbox.dataLimitMb, dataLimitMb(1024, 4096));
});

Deno.test("effective: limits a model does not declare are lowered to the ceiling", () => {
  const sandbox = sandboxOf({}, true);
  assertEquals(
    [
      sandbox.heapMb,
      sandbox.memoryMb,
      sandbox.executeTimeoutMs,
      sandbox.streamIdleTimeoutMs,
      sandbox.maxOutputBytes,
    ],
    [512, 4096, 5000, 30000, 4096],
  );
});

Deno.test("effective: the permission matrix (granted, denied above the ceiling)", () => {
  const cases: [string, string, boolean, (s: ReturnType<typeof sandboxOf>) => unknown, unknown][] =
    [
      ["deno.allow_read", "data", false, (s) => s.read, [DIR, `${DIR}/data`]],
      ["deno.allow_read", "/srv/shared/x", true, (s) => s.read, [DIR, "/srv/shared/x"]],
      ["deno.allow_write", "/var/tmp/models/m", true, (s) => s.write, ["/var/tmp/models/m"]],
      ["deno.allow_net", "api.internal:8080", true, (s) => s.net, ["api.internal:8080"]],
      ["deno.allow_net", "10.0.0.5:443", true, (s) => s.net, ["10.0.0.5:443"]],
      ["deno.allow_env", "API_TOKEN", true, (s) => s.env, ["API_TOKEN"]],
      ["deno.allow_sys", "hostname", true, (s) => s.sys, ["hostname"]],
      ["deno.allow_gpu", "true", true, (s) => s.gpu, true],
      ["deno.max_heap_mb", "128", false, (s) => s.heapMb, 128],
      ["deno.max_memory_mb", "8192", true, (s) => s.memoryMb, 8192],
      ["deno.execute_timeout_ms", "100", false, (s) => s.executeTimeoutMs, 100],
      ["deno.stream_idle_timeout_ms", "250", false, (s) => s.streamIdleTimeoutMs, 250],
      ["deno.stream_idle_timeout_ms", "30000", true, (s) => s.streamIdleTimeoutMs, 30000],
      ["deno.max_output_bytes", "16", true, (s) => s.maxOutputBytes, 16],
    ];
  for (const [key, value, withPolicy, field, expected] of cases) {
    assertEquals(field(sandboxOf({ [key]: value }, withPolicy)), expected, `${key}=${value}`);
  }

  const above: [string, string, boolean, string][] = [
    ["deno.allow_read", "/etc", false, "the model directory /models/m and none"],
    ["deno.allow_read", "../other", true, "/srv/shared"],
    ["deno.allow_write", "data", false, "writable: none"],
    ["deno.allow_write", "/var/tmp", true, "/var/tmp/models"],
    ["deno.allow_net", "api.internal:8080", false, "reachable: none"],
    ["deno.allow_net", "api.internal:443", true, "api.internal:8080, 10.0.0.5"],
    ["deno.allow_net", "localhost:8080", true, "api.internal:8080"],
    ["deno.allow_env", "API_TOKEN", false, "variables: none"],
    ["deno.allow_env", "HOME", true, "API_TOKEN"],
    ["deno.allow_sys", "hostname", false, "system information: none"],
    ["deno.allow_gpu", "true", false, "WebGPU is not allowed"],
    ["deno.max_heap_mb", "2048", false, "above the ceiling 1024 (the backend's default)"],
    ["deno.max_heap_mb", "1024", true, "above the ceiling 512"],
    ["deno.max_memory_mb", "8192", false, "above the ceiling 4096"],
    ["deno.execute_timeout_ms", "0", true, "above the ceiling 5000"],
    ["deno.stream_idle_timeout_ms", "0", true, "above the ceiling 30000"],
    ["deno.stream_idle_timeout_ms", "30001", true, "above the ceiling 30000"],
    ["deno.max_output_bytes", "4097", true, "above the ceiling 4096"],
  ];
  for (const [key, value, withPolicy, ceiling] of above) {
    const message = assertThrows(
      () => sandboxOf({ [key]: value }, withPolicy),
      CeilingError,
      undefined,
      `${key}=${value}`,
    ).message;
    assertStringIncludes(message, `"${key}"`);
    assertStringIncludes(message, ceiling);
    assertStringIncludes(message, withPolicy ? "policy /etc/p.json" : "no policy file");
  }
});

Deno.test("effective: an execute timeout of 0 (none) needs a ceiling of 0", () => {
  const ceiling = ceilingFor(
    parsePolicy('{"version":1,"default":{"execute_timeout_ms":0}}', "p"),
    "m",
  );
  const declared = declaredSandboxOf(
    JSON.stringify({ parameters: { "deno.execute_timeout_ms": { string_value: "0" } } }),
    DIR,
  );
  assertEquals(
    effectiveSandbox({ modelDirectory: DIR, declared, ceiling, defaults: DEFAULTS })
      .executeTimeoutMs,
    0,
  );
});

Deno.test("effective: model calls and control are declared, and capped by the policy", () => {
  const declare = (parameters: Record<string, string>) =>
    declaredSandboxOf(
      JSON.stringify({
        parameters: Object.fromEntries(
          Object.entries(parameters).map(([key, value]) => [key, { string_value: value }]),
        ),
      }),
      DIR,
    );
  const noPolicy = effectiveSandbox({
    modelDirectory: DIR,
    declared: declare({
      "deno.allow_models": "add_sub, stream_*",
      "deno.allow_model_control": "x",
    }),
    ceiling: BUILT_IN_CEILING,
    defaults: DEFAULTS,
  });
  assertEquals([noPolicy.models, noPolicy.modelControl], [["add_sub", "stream_*"], ["x"]]);
  const nothing = effectiveSandbox({
    modelDirectory: DIR,
    declared: declare({}),
    ceiling: BUILT_IN_CEILING,
    defaults: DEFAULTS,
  });
  assertEquals([nothing.models, nothing.modelControl], [[], []]);
  const tenant = ceilingFor(
    parsePolicy('{"version":1,"default":{"allow_models":["tenant_a_*"]}}', "/etc/p.json"),
    "tenant_a_main",
  );
  const message = assertThrows(
    () =>
      effectiveSandbox({
        modelDirectory: DIR,
        declared: declare({ "deno.allow_models": "tenant_b_secret" }),
        ceiling: tenant,
        defaults: DEFAULTS,
      }),
    CeilingError,
  ).message;
  assertStringIncludes(message, '"deno.allow_models"');
  assertStringIncludes(message, "tenant_b_secret");
  assertStringIncludes(message, "models: tenant_a_*");
  assertThrows(
    () =>
      effectiveSandbox({
        modelDirectory: DIR,
        declared: declare({ "deno.allow_model_control": "tenant_a_x" }),
        ceiling: tenant,
        defaults: DEFAULTS,
      }),
    CeilingError,
    "models to load and unload: none",
  );
});
