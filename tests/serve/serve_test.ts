/**
 * End to end: `runtime/serve/main.ts` as a subprocess over a fixture
 * repository (copies of models/add_sub, add_sub_int32, add_sub_string and a
 * model whose config.pbtxt does not parse), driven over real HTTP.
 */
import { assert, assertEquals, assertStringIncludes } from "../../runtime/serve/_test_assert.ts";
import {
  makeFixtureRepository,
  processesMentioning,
  sharedMemoryNames,
  startServeProcess,
} from "./server_process.ts";

const encoder = new TextEncoder();

/** Parsed response JSON, read field by field as the assertions need. */
// deno-lint-ignore no-explicit-any
type Json = any;

function fp32(name: string, values: number[]) {
  return { name, datatype: "FP32", shape: [values.length], data: values };
}

async function postJson(url: string, body: unknown): Promise<{ status: number; json: Json }> {
  const response = await fetch(url, { method: "POST", body: JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, json: text === "" ? undefined : JSON.parse(text) };
}

async function getJson(url: string): Promise<{ status: number; json: Json }> {
  const response = await fetch(url);
  const text = await response.text();
  return { status: response.status, json: text === "" ? undefined : JSON.parse(text) };
}

/** A binary request body: the JSON, then the tensors' bytes. */
function binaryBody(
  header: unknown,
  tensors: Uint8Array[],
): { body: Uint8Array<ArrayBuffer>; length: number } {
  const json = encoder.encode(JSON.stringify(header));
  const total = tensors.reduce((sum, t) => sum + t.byteLength, json.byteLength);
  const body = new Uint8Array(total);
  body.set(json);
  let position = json.byteLength;
  for (const tensor of tensors) {
    body.set(tensor, position);
    position += tensor.byteLength;
  }
  return { body, length: json.byteLength };
}

Deno.test({
  name: "serve: the HTTP/REST protocol end to end, then a graceful SIGTERM",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const repository = makeFixtureRepository(
      ["add_sub", "add_sub_int32", "add_sub_string"],
      true,
    );
    // A prefix of this run's own: other programs' objects in /dev/shm
    // (python_backend's, another test run's) are none of this test's business.
    const shmPrefix = `tdn_serve_${crypto.randomUUID().slice(0, 8)}`;
    const server = await startServeProcess({
      repository,
      args: [
        "--max-body-bytes",
        String(4 << 20),
        "--backend-config",
        `shm-region-prefix-name=${shmPrefix}`,
        // Clients load and unload models below: explicit mode, every model at start.
        "--model-control-mode",
        "explicit",
        "--load-model",
        "*",
      ],
    });
    const base = server.url;
    try {
      await t.step("startup log: state, instances and sandbox per model", () => {
        const log = server.log();
        assertStringIncludes(
          log,
          `model add_sub: READY, version 1, 2 instance(s), sandbox read=${repository}/add_sub write=none net=none env=none`,
        );
        assertStringIncludes(log, "model add_sub_string: READY, version 1, 1 instance(s)");
        // The state line says what clients see (model-relative); the line
        // before it has the whole text with the path.
        assert(
          /model broken: UNAVAILABLE: failed to load 'broken': config\.pbtxt:3:\d+/.test(log),
          `the broken model's line names config.pbtxt:line:column:\n${log}`,
        );
        assertStringIncludes(
          log,
          `model 'broken' failed to load: failed to load 'broken': ${repository}/broken/config.pbtxt:3:`,
        );
      });

      await t.step("health, server metadata, model metadata and config", async () => {
        assertEquals((await fetch(`${base}/v2/health/live`)).status, 200);
        // Strict readiness, as Triton: a model that failed to load makes the server not ready.
        assertEquals((await fetch(`${base}/v2/health/ready`)).status, 400);
        const server = await getJson(`${base}/v2`);
        assertEquals(server.json.name, "triton");
        assert(server.json.extensions.includes("binary_tensor_data"));
        const metadata = await getJson(`${base}/v2/models/add_sub`);
        assertEquals(metadata.json, {
          name: "add_sub",
          versions: ["1"],
          platform: "deno",
          inputs: [
            { name: "INPUT0", datatype: "FP32", shape: [-1] },
            { name: "INPUT1", datatype: "FP32", shape: [-1] },
          ],
          outputs: [
            { name: "OUTPUT0", datatype: "FP32", shape: [-1] },
            { name: "OUTPUT1", datatype: "FP32", shape: [-1] },
          ],
        });
        const config = await getJson(`${base}/v2/models/add_sub/config`);
        assertEquals(config.json.name, "add_sub");
        assertEquals(config.json.backend, "deno");
        assertEquals(config.json.instance_group[0].count, 2);
        assertEquals((await fetch(`${base}/v2/models/add_sub/versions/1/ready`)).status, 200);
      });

      await t.step("JSON inference: FP32, INT32 and BYTES", async () => {
        const fp = await postJson(`${base}/v2/models/add_sub/infer`, {
          id: "e2e-1",
          inputs: [fp32("INPUT0", [1, 2, 3, 4]), fp32("INPUT1", [0.5, 0.5, 0.5, 0.5])],
        });
        assertEquals(fp.status, 200);
        assertEquals(fp.json.id, "e2e-1");
        assertEquals(fp.json.model_version, "1");
        assertEquals(fp.json.outputs[0], {
          name: "OUTPUT0",
          datatype: "FP32",
          shape: [4],
          data: [1.5, 2.5, 3.5, 4.5],
        });
        assertEquals(fp.json.outputs[1].data, [0.5, 1.5, 2.5, 3.5]);
        const int = await postJson(`${base}/v2/models/add_sub_int32/infer`, {
          inputs: [
            { name: "INPUT0", datatype: "INT32", shape: [4], data: [[1, 2], [3, 4]] },
            { name: "INPUT1", datatype: "INT32", shape: [4], data: [10, 20, 30, 40] },
          ],
          outputs: [{ name: "OUTPUT1" }],
        });
        assertEquals(int.status, 200);
        assertEquals(int.json.outputs, [
          { name: "OUTPUT1", datatype: "INT32", shape: [4], data: [-9, -18, -27, -36] },
        ]);
        const strings = await postJson(`${base}/v2/models/add_sub_string/infer`, {
          inputs: [
            {
              name: "INPUT0",
              datatype: "BYTES",
              shape: [2],
              data: ["12", "100000000000000000000"],
            },
            { name: "INPUT1", datatype: "BYTES", shape: [2], data: ["-7", "1"] },
          ],
        });
        assertEquals(strings.status, 200);
        assertEquals(strings.json.outputs[0].data, ["5", "100000000000000000001"]);
        assertEquals(strings.json.outputs[1].data, ["19", "99999999999999999999"]);
      });

      await t.step("binary tensor data in and out", async () => {
        const a = new Float32Array([1, 2, 3, 4, 5, 6]);
        const b = new Float32Array([6, 5, 4, 3, 2, 1]);
        const { body, length } = binaryBody({
          inputs: [
            { name: "INPUT0", datatype: "FP32", shape: [6], parameters: { binary_data_size: 24 } },
            { name: "INPUT1", datatype: "FP32", shape: [6], parameters: { binary_data_size: 24 } },
          ],
          parameters: { binary_data_output: true },
          // binary_data_output is for unlisted outputs (as Triton): OUTPUT0 asks itself.
          outputs: [
            { name: "OUTPUT0", parameters: { binary_data: true } },
            { name: "OUTPUT1", parameters: { binary_data: false } },
          ],
        }, [new Uint8Array(a.buffer), new Uint8Array(b.buffer)]);
        const response = await fetch(`${base}/v2/models/add_sub/infer`, {
          method: "POST",
          body,
          headers: {
            "Content-Type": "application/octet-stream",
            "Inference-Header-Content-Length": String(length),
          },
        });
        assertEquals(response.status, 200);
        assertEquals(response.headers.get("content-type"), "application/octet-stream");
        const headerLength = Number(response.headers.get("inference-header-content-length"));
        const bytes = new Uint8Array(await response.arrayBuffer());
        const json = JSON.parse(new TextDecoder().decode(bytes.subarray(0, headerLength)));
        const output0 = json.outputs.find((o: { name: string }) => o.name === "OUTPUT0");
        const output1 = json.outputs.find((o: { name: string }) => o.name === "OUTPUT1");
        assertEquals(output0.parameters, { binary_data_size: 24 });
        assertEquals(output1.data, [-5, -3, -1, 1, 3, 5]);
        assertEquals([...new Float32Array(bytes.slice(headerLength).buffer)], [7, 7, 7, 7, 7, 7]);
        assertEquals(bytes.byteLength, headerLength + 24);
      });

      await t.step("bad requests are 400s naming the problem; unknown models 404", async () => {
        const good = [fp32("INPUT0", [1, 2]), fp32("INPUT1", [3, 4])];
        const cases: [string, BodyInit, number, string][] = [
          ["add_sub", "{not json", 400, "failed to parse the request JSON buffer"],
          [
            "nope",
            JSON.stringify({ inputs: good }),
            404,
            "Request for unknown model: 'nope' is not found",
          ],
          [
            "add_sub",
            JSON.stringify({ inputs: [good[0], { ...good[1], name: "X" }] }),
            400,
            "unexpected inference input 'X'",
          ],
          [
            "add_sub",
            JSON.stringify({ inputs: [good[0]] }),
            400,
            "missing required input(s) ['INPUT1']",
          ],
          [
            "add_sub",
            JSON.stringify({ inputs: [{ ...good[0], datatype: "FP64" }, good[1]] }),
            400,
            "data-type is 'FP64', but model 'add_sub' expects 'FP32'",
          ],
          [
            "add_sub",
            JSON.stringify({ inputs: [{ ...good[0], shape: [1, 2] }, good[1]] }),
            400,
            "unexpected shape for input 'INPUT0' for model 'add_sub'. Expected [-1], got [1,2]",
          ],
          [
            "add_sub",
            JSON.stringify({ inputs: [{ ...good[0], shape: [3] }, good[1]] }),
            400,
            "2 elements given, the shape needs 3",
          ],
          [
            "add_sub",
            JSON.stringify({ inputs: good, outputs: [{ name: "OUT" }] }),
            400,
            "unexpected inference output 'OUT'",
          ],
          [
            "add_sub_string",
            JSON.stringify({
              inputs: [
                { name: "INPUT0", datatype: "BYTES", shape: [1], data: ["seven"] },
                { name: "INPUT1", datatype: "BYTES", shape: [1], data: ["1"] },
              ],
            }),
            400,
            "INPUT0",
          ],
          ["broken", JSON.stringify({ inputs: good }), 503, "has no available versions"],
        ];
        for (const [model, body, status, message] of cases) {
          const response = await fetch(`${base}/v2/models/${model}/infer`, {
            method: "POST",
            body,
          });
          const json = await response.json();
          assertEquals(response.status, status, `${message}: ${JSON.stringify(json)}`);
          assertStringIncludes(json.error, message);
        }
        const tooBig = await fetch(`${base}/v2/models/add_sub/infer`, {
          method: "POST",
          body: new Uint8Array(5 << 20),
        });
        assertEquals(tooBig.status, 400); // Triton's status and wording.
        assertStringIncludes(
          (await tooBig.json()).error,
          "exceeds the maximum allowed value of 4194304 bytes. Use --http-max-input-size",
        );
        const binaryShort = binaryBody({
          inputs: [
            { name: "INPUT0", datatype: "FP32", shape: [2], parameters: { binary_data_size: 8 } },
            { name: "INPUT1", datatype: "FP32", shape: [2], parameters: { binary_data_size: 8 } },
          ],
        }, [new Uint8Array(12)]);
        const short = await fetch(`${base}/v2/models/add_sub/infer`, {
          method: "POST",
          body: binaryShort.body,
          headers: { "Inference-Header-Content-Length": String(binaryShort.length) },
        });
        assertEquals(short.status, 400);
        assertStringIncludes((await short.json()).error, "expecting 4 additional bytes");
      });

      await t.step("concurrent requests all succeed and are counted", async () => {
        const before = (await getJson(`${base}/v2/models/add_sub/stats`)).json.model_stats[0];
        const results = await Promise.all(
          Array.from({ length: 24 }, (_, i) =>
            postJson(`${base}/v2/models/add_sub/infer`, {
              inputs: [fp32("INPUT0", [i, i]), fp32("INPUT1", [1, 2])],
            })),
        );
        results.forEach((result, i) => {
          assertEquals(result.status, 200);
          assertEquals(result.json.outputs[0].data, [i + 1, i + 2]);
        });
        const after = (await getJson(`${base}/v2/models/add_sub/stats`)).json.model_stats[0];
        assertEquals(after.inference_count - before.inference_count, 24);
        assertEquals(
          after.inference_stats.success.count - before.inference_stats.success.count,
          24,
        );
        assert(after.inference_stats.compute_infer.ns > 0, "the backend reported compute times");
      });

      await t.step("repository index, unload and load", async () => {
        const index = await postJson(`${base}/v2/repository/index`, {});
        const byName = new Map(index.json.map((e: { name: string }) => [e.name, e]));
        assertEquals(byName.get("add_sub"), {
          name: "add_sub",
          version: "1",
          state: "READY",
          reason: "",
        });
        assertEquals((byName.get("broken") as { state: string }).state, "UNAVAILABLE");
        assertEquals(
          (await postJson(`${base}/v2/repository/models/add_sub_int32/unload`, {})).status,
          200,
        );
        assertEquals((await fetch(`${base}/v2/models/add_sub_int32/ready`)).status, 400);
        const unloaded = await postJson(`${base}/v2/models/add_sub_int32/infer`, {
          inputs: [
            { name: "INPUT0", datatype: "INT32", shape: [1], data: [1] },
            { name: "INPUT1", datatype: "INT32", shape: [1], data: [1] },
          ],
        });
        assertEquals(unloaded.status, 503);
        const ready = await postJson(`${base}/v2/repository/index`, { ready: true });
        assert(!ready.json.some((e: { name: string }) => e.name === "add_sub_int32"));
        assertEquals(
          (await postJson(`${base}/v2/repository/models/add_sub_int32/load`, {})).status,
          200,
        );
        assertEquals((await fetch(`${base}/v2/models/add_sub_int32/ready`)).status, 200);
        const failed = await postJson(`${base}/v2/repository/models/broken/load`, {});
        assertEquals(failed.status, 400);
        assertStringIncludes(failed.json.error, "config.pbtxt:3:");
      });
    } finally {
      await t.step("SIGTERM drains in-flight requests, stops every stub, exits 0", async () => {
        const inFlight = Array.from(
          { length: 8 },
          (_, i) =>
            postJson(`${base}/v2/models/add_sub/infer`, {
              inputs: [fp32("INPUT0", [i]), fp32("INPUT1", [i])],
            }).catch((error) => ({ status: -1, json: String(error) })),
        );
        await new Promise((resolve) => setTimeout(resolve, 5));
        const stopped = await server.stop("SIGTERM");
        const results = await Promise.all(inFlight);
        for (const result of results) {
          // Requests sent before the signal finish; later ones find the port closed.
          assert(result.status === 200 || result.status === -1, JSON.stringify(result));
        }
        assertEquals(stopped.code, 0, stopped.log);
        assertStringIncludes(stopped.log, "SIGTERM received");
        assertStringIncludes(stopped.log, "[serve] stopped");
        assertEquals(processesMentioning(repository), [], "no stub outlives the server");
        assertEquals(sharedMemoryNames(shmPrefix), [], "nothing of ours is left in /dev/shm");
      });
      Deno.removeSync(repository, { recursive: true });
    }
  },
});
