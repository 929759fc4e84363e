import { assertEquals } from "./_test_assert.ts";
import { matchRoute } from "./router.ts";

Deno.test("router: server endpoints", () => {
  assertEquals(matchRoute("/v2"), { kind: "server_metadata" });
  assertEquals(matchRoute("/v2/health/live"), { kind: "health", which: "live" });
  assertEquals(matchRoute("/v2/health/ready"), { kind: "health", which: "ready" });
  assertEquals(matchRoute("/v2/health/dead"), { kind: "not_found" });
});

Deno.test("router: /metrics, as on Triton's metrics port", () => {
  assertEquals(matchRoute("/metrics"), { kind: "metrics" });
  assertEquals(matchRoute("/metrics/"), { kind: "not_found" });
  assertEquals(matchRoute("/v2/metrics"), { kind: "not_found" });
});

Deno.test("router: model endpoints, with and without a version", () => {
  assertEquals(matchRoute("/v2/models/add_sub"), {
    kind: "model",
    action: "metadata",
    model: "add_sub",
    version: undefined,
  });
  assertEquals(matchRoute("/v2/models/add_sub/versions/3/infer"), {
    kind: "model",
    action: "infer",
    model: "add_sub",
    version: 3,
  });
  for (
    const action of ["ready", "config", "stats", "infer", "generate", "generate_stream"] as const
  ) {
    assertEquals(matchRoute(`/v2/models/m/${action}`), {
      kind: "model",
      action,
      model: "m",
      version: undefined,
    });
  }
  assertEquals(matchRoute("/v2/models/stats"), { kind: "all_stats" });
  assertEquals(matchRoute("/v2/models/a%20b/ready"), {
    kind: "model",
    action: "ready",
    model: "a b",
    version: undefined,
  });
  assertEquals(matchRoute("/v2/models/m/versions/x/infer"), { kind: "not_found" });
  assertEquals(matchRoute("/v2/models/m/explode"), { kind: "not_found" });
  assertEquals(matchRoute("/v2/models/m/versions/2/generate_stream"), {
    kind: "model",
    action: "generate_stream",
    model: "m",
    version: 2,
  });
  assertEquals(matchRoute("/v2/models/m/generate_streams"), { kind: "not_found" });
  assertEquals(matchRoute("/v2/models/%ZZ"), { kind: "not_found" });
});

Deno.test("router: repository endpoints", () => {
  assertEquals(matchRoute("/v2/repository/index"), {
    kind: "repository_index",
    repository: undefined,
  });
  assertEquals(matchRoute("/v2/repository/models/add_sub/load"), {
    kind: "repository_control",
    action: "load",
    model: "add_sub",
    repository: undefined,
  });
  assertEquals(matchRoute("/v2/repository/r1/models/m/unload"), {
    kind: "repository_control",
    action: "unload",
    model: "m",
    repository: "r1",
  });
  assertEquals(matchRoute("/v2/repository/models/m/reload"), { kind: "not_found" });
  assertEquals(matchRoute("/v1/models"), { kind: "not_found" });
});

Deno.test("router: a NUL in a name, and the logging, trace and shared-memory endpoints", () => {
  assertEquals(matchRoute("/v2/models/a%00b/infer"), { kind: "not_found" });
  assertEquals(matchRoute("/v2/logging"), { kind: "logging" });
  assertEquals(matchRoute("/v2/trace/setting"), { kind: "trace_setting", model: undefined });
  assertEquals(matchRoute("/v2/models/m/trace/setting"), { kind: "trace_setting", model: "m" });
  assertEquals(matchRoute("/v2/systemsharedmemory/region/r%20x/register"), {
    kind: "shared_memory",
    memory: "system",
    action: "register",
    region: "r x",
  });
  assertEquals(matchRoute("/v2/cudasharedmemory/status"), {
    kind: "shared_memory",
    memory: "cuda",
    action: "status",
    region: undefined,
  });
});
