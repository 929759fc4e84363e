import { assert, assertEquals, assertStringIncludes } from "./_test_assert.ts";
import { AddSubExecutor } from "./_test_fakes.ts";
import { createHandler, METRICS_CONTENT_TYPE } from "./handlers.ts";
import { ModelManager } from "./model_manager.ts";

const ADD_SUB = `
name: "add_sub"
backend: "deno"
input [{ name: "INPUT0" data_type: TYPE_FP32 dims: [4] },
       { name: "INPUT1" data_type: TYPE_FP32 dims: [4] }]
output [{ name: "OUTPUT0" data_type: TYPE_FP32 dims: [4] },
        { name: "OUTPUT1" data_type: TYPE_FP32 dims: [4] }]
`;

const created: string[] = [];
globalThis.addEventListener("unload", () => {
  for (const dir of created) Deno.removeSync(dir, { recursive: true });
});

function makeRepository(): string {
  const root = Deno.makeTempDirSync({ prefix: "serve_handlers_" });
  created.push(root);
  Deno.mkdirSync(`${root}/add_sub/1`, { recursive: true });
  Deno.writeTextFileSync(`${root}/add_sub/config.pbtxt`, ADD_SUB);
  Deno.mkdirSync(`${root}/broken/1`, { recursive: true });
  Deno.writeTextFileSync(`${root}/broken/config.pbtxt`, 'name: "broken"\nmax_batch_size: [oops\n');
  return root;
}

async function setup(
  maxBodyBytes = 1 << 20,
  modelControl: "none" | "poll" | "explicit" = "explicit",
) {
  const repository = makeRepository();
  const executors: AddSubExecutor[] = [];
  const manager = new ModelManager(repository, (_spec, _version, configJson) => {
    const executor = new AddSubExecutor(configJson);
    executors.push(executor);
    return Promise.resolve(executor);
  });
  const reports = await manager.loadAll([]);
  const handler = createHandler({ manager, modelControl, maxBodyBytes, stopping: () => false });
  const call = (method: string, path: string, body?: BodyInit, headers?: HeadersInit) =>
    handler(new Request(`http://serve.test${path}`, { method, body, headers }));
  return { repository, manager, reports, executors, call };
}

const inferBody = {
  id: "req-1",
  inputs: [
    { name: "INPUT0", datatype: "FP32", shape: [4], data: [1, 2, 3, 4] },
    { name: "INPUT1", datatype: "FP32", shape: [4], data: [10, 20, 30, 40] },
  ],
};

Deno.test("handlers: a broken model is UNAVAILABLE with its reason; the others serve", async () => {
  const { reports, call } = await setup();
  const broken = reports.find((report) => report.name === "broken")!;
  assertEquals(broken.state, "UNAVAILABLE");
  // Model-relative: clients see no server path (the log has it).
  assertStringIncludes(broken.reason, "failed to load 'broken': config.pbtxt:2:");
  assertEquals(reports.find((report) => report.name === "add_sub")!.state, "READY");
  assertEquals((await call("GET", "/v2/health/live")).status, 200);
  assertEquals((await call("GET", "/v2/health/ready")).status, 400); // Strict readiness.
  const index = await (await call("POST", "/v2/repository/index")).json();
  assertEquals(index[0], { name: "add_sub", version: "1", state: "READY", reason: "" });
  assertEquals(index[1].name, "broken");
  assertEquals(index[1].state, "UNAVAILABLE");
  const infer = await call("POST", "/v2/models/broken/infer", JSON.stringify(inferBody));
  assertEquals(infer.status, 503);
  assertStringIncludes((await infer.json()).error, "config.pbtxt:2:");
});

Deno.test("handlers: GET /metrics answers the metrics text; other methods are refused", async () => {
  const manager = new ModelManager(makeRepository(), () => Promise.reject(new Error("unused")));
  const text = '# HELP x_total X\n# TYPE x_total counter\nx_total{k="v"} 2\n';
  const handler = createHandler({
    manager,
    modelControl: "none",
    maxBodyBytes: 1 << 20,
    stopping: () => false,
    metricsText: () => text,
  });
  const answer = await handler(new Request("http://serve.test/metrics"));
  assertEquals(answer.status, 200);
  assertEquals(answer.headers.get("content-type"), METRICS_CONTENT_TYPE);
  assertEquals(await answer.text(), text);
  const posted = await handler(new Request("http://serve.test/metrics", { method: "POST" }));
  assertEquals(posted.status, 405);
  await posted.body?.cancel();
  // Without a source of metrics the exposition is empty, as Triton's is with no metrics.
  const { call } = await setup();
  const empty = await call("GET", "/metrics");
  assertEquals([empty.status, await empty.text()], [200, ""]);
});

Deno.test("handlers: server and model metadata, config, readiness", async () => {
  const { call } = await setup();
  const server = await (await call("GET", "/v2")).json();
  assertEquals(server.name, "triton");
  assert(server.extensions.includes("binary_tensor_data"));
  const metadata = await (await call("GET", "/v2/models/add_sub")).json();
  assertEquals(metadata, {
    name: "add_sub",
    versions: ["1"],
    platform: "deno",
    inputs: [
      { name: "INPUT0", datatype: "FP32", shape: [4] },
      { name: "INPUT1", datatype: "FP32", shape: [4] },
    ],
    outputs: [
      { name: "OUTPUT0", datatype: "FP32", shape: [4] },
      { name: "OUTPUT1", datatype: "FP32", shape: [4] },
    ],
  });
  const config = await (await call("GET", "/v2/models/add_sub/versions/1/config")).json();
  assertEquals(config.name, "add_sub");
  assertEquals(config.input[0].data_type, "TYPE_FP32");
  assertEquals(config.instance_group[0].kind, "KIND_CPU");
  assertEquals((await call("GET", "/v2/models/add_sub/ready")).status, 200);
  assertEquals((await call("GET", "/v2/models/add_sub/versions/2/ready")).status, 400);
  assertEquals((await call("GET", "/v2/models/nope/ready")).status, 400);
  const unknown = await call("GET", "/v2/models/nope");
  assertEquals(unknown.status, 404);
  assertEquals(await unknown.json(), { error: "Request for unknown model: 'nope' is not found" });
  assertEquals((await call("GET", "/v2/models/add_sub/versions/7")).status, 404);
  assertEquals((await call("POST", "/v2/models/add_sub")).status, 405);
  assertEquals((await call("GET", "/v3/anything")).status, 404);
});

Deno.test("handlers: JSON inference echoes the id and returns every output", async () => {
  const { call } = await setup();
  const response = await call("POST", "/v2/models/add_sub/infer", JSON.stringify(inferBody));
  assertEquals(response.status, 200);
  assertEquals(response.headers.get("content-type"), "application/json");
  assertEquals(await response.json(), {
    id: "req-1",
    model_name: "add_sub",
    model_version: "1",
    parameters: { echoed: "req-1" },
    outputs: [
      { name: "OUTPUT0", datatype: "FP32", shape: [4], data: [11, 22, 33, 44] },
      { name: "OUTPUT1", datatype: "FP32", shape: [4], data: [-9, -18, -27, -36] },
    ],
  });
});

Deno.test("handlers: binary inputs and a requested binary output", async () => {
  const { call } = await setup();
  const header = JSON.stringify({
    inputs: [
      { name: "INPUT0", datatype: "FP32", shape: [4], parameters: { binary_data_size: 16 } },
      { name: "INPUT1", datatype: "FP32", shape: [4], parameters: { binary_data_size: 16 } },
    ],
    outputs: [{ name: "OUTPUT1", parameters: { binary_data: true } }],
  });
  const headerBytes = new TextEncoder().encode(header);
  const body = new Uint8Array(headerBytes.byteLength + 32);
  body.set(headerBytes);
  body.set(
    new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]).buffer),
    headerBytes.byteLength,
  );
  const response = await call("POST", "/v2/models/add_sub/versions/1/infer", body, {
    "Inference-Header-Content-Length": String(headerBytes.byteLength),
  });
  assertEquals(response.status, 200);
  assertEquals(response.headers.get("content-type"), "application/octet-stream");
  const length = Number(response.headers.get("inference-header-content-length"));
  const bytes = new Uint8Array(await response.arrayBuffer());
  const json = JSON.parse(new TextDecoder().decode(bytes.subarray(0, length)));
  assertEquals(json.outputs, [
    { name: "OUTPUT1", datatype: "FP32", shape: [4], parameters: { binary_data_size: 16 } },
  ]);
  assertEquals([...new Float32Array(bytes.slice(length).buffer)], [-4, -4, -4, -4]);
});

Deno.test("handlers: errors are Triton's JSON with the matching status", async () => {
  const { call } = await setup(256);
  const cases: [string, BodyInit, number, string][] = [
    ["/v2/models/add_sub/infer", "{oops", 400, "failed to parse the request JSON buffer"],
    ["/v2/models/nope/infer", JSON.stringify(inferBody), 404, "Request for unknown model"],
    [
      "/v2/models/add_sub/infer",
      JSON.stringify({ inputs: [{ ...inferBody.inputs[0], name: "BAD" }, inferBody.inputs[1]] }),
      400,
      "unexpected inference input 'BAD'",
    ],
    [
      "/v2/models/add_sub/infer",
      JSON.stringify({ inputs: [{ ...inferBody.inputs[0], shape: [2, 2] }, inferBody.inputs[1]] }),
      400,
      "Expected [4], got [2,2]",
    ],
    [
      "/v2/models/add_sub/infer",
      JSON.stringify({ ...inferBody, parameters: { fail: true } }),
      500,
      "model asked to fail",
    ],
    [
      "/v2/models/add_sub/infer",
      "x".repeat(300),
      400,
      "Request JSON size exceeds the maximum allowed value of 256 bytes. " +
      "Use --http-max-input-size to increase the limit.",
    ],
  ];
  for (const [path, body, status, message] of cases) {
    const response = await call("POST", path, body);
    assertEquals(response.status, status, message);
    assertStringIncludes((await response.json()).error, message);
  }
});

Deno.test("handlers: unload and load through the repository API; statistics count", async () => {
  const { call, executors } = await setup();
  await call("POST", "/v2/models/add_sub/infer", JSON.stringify(inferBody));
  await call("POST", "/v2/models/add_sub/infer", JSON.stringify(inferBody));
  const stats = await (await call("GET", "/v2/models/add_sub/stats")).json();
  assertEquals(stats.model_stats[0].name, "add_sub");
  assertEquals(stats.model_stats[0].inference_count, 2);
  assertEquals(stats.model_stats[0].inference_stats.success.count, 2);

  assertEquals((await call("POST", "/v2/repository/models/add_sub/unload")).status, 200);
  assert(executors[0].unloaded);
  assertEquals((await call("GET", "/v2/models/add_sub/ready")).status, 400);
  assertEquals(
    (await call("POST", "/v2/models/add_sub/infer", JSON.stringify(inferBody))).status,
    503,
  );
  const index = await (await call("POST", "/v2/repository/index", '{"ready": false}')).json();
  assertEquals(index[0], {
    name: "add_sub",
    version: "1",
    state: "UNAVAILABLE",
    reason: "unloaded",
  });
  assertEquals(await (await call("POST", "/v2/repository/index", '{"ready": true}')).json(), []);

  assertEquals((await call("POST", "/v2/repository/models/add_sub/load")).status, 200);
  assertEquals((await call("GET", "/v2/models/add_sub/ready")).status, 200);
  assertEquals(
    (await call("POST", "/v2/models/add_sub/infer", JSON.stringify(inferBody))).status,
    200,
  );

  const failed = await call("POST", "/v2/repository/models/broken/load");
  assertEquals(failed.status, 400);
  assertStringIncludes((await failed.json()).error, "load failed for model 'broken'");
  assertEquals((await call("POST", "/v2/repository/models/ghost/load")).status, 404);
});

Deno.test("handlers: the load API's config parameter replaces config.pbtxt", async () => {
  const { call } = await setup();
  const config = JSON.stringify({
    name: "broken",
    backend: "deno",
    input: [
      { name: "INPUT0", data_type: "TYPE_FP32", dims: [4] },
      { name: "INPUT1", data_type: "TYPE_FP32", dims: [4] },
    ],
    output: [
      { name: "OUTPUT0", data_type: "TYPE_FP32", dims: [4] },
      { name: "OUTPUT1", data_type: "TYPE_FP32", dims: [4] },
    ],
  });
  const load = await call(
    "POST",
    "/v2/repository/models/broken/load",
    JSON.stringify({ parameters: { config } }),
  );
  assertEquals(load.status, 200);
  const response = await call("POST", "/v2/models/broken/infer", JSON.stringify(inferBody));
  assertEquals(response.status, 200);
  assertEquals((await response.json()).model_name, "broken");
});

Deno.test("handlers: outside explicit model control, load and unload are Triton's 503", async () => {
  for (const mode of ["none", "poll"] as const) {
    const { call, manager } = await setup(1 << 20, mode);
    for (const action of ["load", "unload"]) {
      const response = await call("POST", `/v2/repository/models/add_sub/${action}`);
      assertEquals(response.status, 503);
      assertEquals(await response.json(), {
        error: "explicit model load / unload is not allowed if polling is enabled",
      });
    }
    // A config override changes nothing either.
    const override = await call(
      "POST",
      "/v2/repository/models/add_sub/load",
      JSON.stringify({ parameters: { config: '{"backend":"python"}' } }),
    );
    assertEquals(override.status, 503);
    await override.body?.cancel();
    // Model files neither.
    const files = await call(
      "POST",
      "/v2/repository/models/add_sub/load",
      JSON.stringify({
        parameters: { config: '{"backend":"deno"}', "file:1/model.ts": btoa("export {};") },
      }),
    );
    assertEquals(files.status, 503);
    await files.body?.cancel();
    assertEquals((await call("GET", "/v2/models/add_sub/ready")).status, 200);
    await manager.unloadAll();
  }
});

Deno.test("handlers: a config override is checked like config.pbtxt; the loaded model keeps serving", async () => {
  const { call, manager } = await setup();
  for (
    const [config, error] of [
      ['{"backend":"python"}', "is refused: its configuration names backend 'python'; "],
      ["{}", "names no backend"],
      ['{"backend":"deno","name":"other"}', "directory name must equal model name"],
    ]
  ) {
    const load = await call(
      "POST",
      "/v2/repository/models/add_sub/load",
      JSON.stringify({ parameters: { config } }),
    );
    assertEquals(load.status, 400, config);
    assertStringIncludes((await load.json()).error, error);
    const infer = await call("POST", "/v2/models/add_sub/infer", JSON.stringify(inferBody));
    assertEquals(infer.status, 200, config);
    await infer.body?.cancel();
  }
  await manager.unloadAll();
});
