/**
 * End to end over real HTTP, with the Deno backend: the generate endpoints,
 * request parameters, an ensemble and sequence batching with add_sub; then
 * the decoupled (models/stream_text) and stateful (models/accumulator)
 * examples.
 */
import { assert, assertEquals, assertStringIncludes } from "../../runtime/serve/_test_assert.ts";
import { makeFixtureRepository, startServeProcess } from "./server_process.ts";

/** Parsed response JSON, read field by field as the assertions need. */
// deno-lint-ignore no-explicit-any
type Json = any;

async function post(url: string, body: unknown): Promise<{ status: number; json: Json }> {
  const response = await fetch(url, { method: "POST", body: JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, json: text === "" ? undefined : JSON.parse(text) };
}

/** The `data:` events of a Server-Sent Events answer, parsed, with the status and type. */
async function postStream(url: string, body: unknown) {
  const response = await fetch(url, { method: "POST", body: JSON.stringify(body) });
  const text = await response.text();
  const events: Json[] = text.split("\n\n").filter((block) => block !== "").map((block) => {
    assert(block.startsWith("data: "), `an SSE data event: ${JSON.stringify(block)}`);
    return JSON.parse(block.slice("data: ".length));
  });
  return { status: response.status, type: response.headers.get("content-type"), events, text };
}

function fp32(name: string, values: number[]) {
  return { name, datatype: "FP32", shape: [values.length], data: values };
}

/** An ensemble of two add_sub steps: (A+B)+(A-B) = 2A and (A+B)-(A-B) = 2B. */
const ENSEMBLE = `
name: "add_sub_twice"
platform: "ensemble"
input [{ name: "A" data_type: TYPE_FP32 dims: [-1] }, { name: "B" data_type: TYPE_FP32 dims: [-1] }]
output [{ name: "TWO_A" data_type: TYPE_FP32 dims: [-1] }, { name: "TWO_B" data_type: TYPE_FP32 dims: [-1] }]
ensemble_scheduling {
  step [
    { model_name: "add_sub" model_version: -1
      input_map { key: "INPUT0" value: "A" } input_map { key: "INPUT1" value: "B" }
      output_map { key: "OUTPUT0" value: "sum" } output_map { key: "OUTPUT1" value: "diff" } },
    { model_name: "add_sub" model_version: -1
      input_map { key: "INPUT0" value: "sum" } input_map { key: "INPUT1" value: "diff" }
      output_map { key: "OUTPUT0" value: "TWO_A" } output_map { key: "OUTPUT1" value: "TWO_B" } }
  ]
}`;

Deno.test({
  name: "serve features: generate, parameters, an ensemble and sequence batching with add_sub",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const repository = makeFixtureRepository(["add_sub"], false);
    Deno.mkdirSync(`${repository}/add_sub_twice/1`, { recursive: true });
    Deno.writeTextFileSync(`${repository}/add_sub_twice/config.pbtxt`, ENSEMBLE);
    // add_sub under sequence batching: requests of one sequence stay on one instance.
    Deno.mkdirSync(`${repository}/add_sub_seq/1`, { recursive: true });
    Deno.copyFileSync(`${repository}/add_sub/1/model.ts`, `${repository}/add_sub_seq/1/model.ts`);
    Deno.writeTextFileSync(
      `${repository}/add_sub_seq/config.pbtxt`,
      Deno.readTextFileSync(`${repository}/add_sub/config.pbtxt`)
        .replace('name: "add_sub"', 'name: "add_sub_seq"') +
        "\nsequence_batching { max_sequence_idle_microseconds: 10000000 }\n",
    );
    const server = await startServeProcess({ repository });
    const base = server.url;
    try {
      await t.step("generate: one flat JSON answer", async () => {
        const answer = await post(`${base}/v2/models/add_sub/generate`, {
          INPUT0: [1, 2, 3],
          INPUT1: [4, 5, 6],
        });
        assertEquals(answer.status, 200);
        assertEquals(answer.json, {
          OUTPUT0: [5, 7, 9],
          OUTPUT1: [-3, -3, -3],
          model_name: "add_sub",
          model_version: "1",
        });
        const bad = await post(`${base}/v2/models/add_sub/generate`, { INPUT0: [1] });
        assertEquals(bad.status, 400);
        assertStringIncludes(bad.json.error, "missing required input(s) ['INPUT1']");
      });

      await t.step("generate_stream: one SSE event for a model that is not decoupled", async () => {
        const stream = await postStream(`${base}/v2/models/add_sub/versions/1/generate_stream`, {
          INPUT0: [1],
          INPUT1: [1],
        });
        assertEquals(stream.status, 200);
        assertEquals(stream.type, "text/event-stream; charset=utf-8");
        assertEquals(
          stream.text,
          'data: {"OUTPUT0":2,"OUTPUT1":0,"model_name":"add_sub","model_version":"1"}\n\n',
        );
      });

      await t.step("infer: reserved and model parameters are accepted", async () => {
        const answer = await post(`${base}/v2/models/add_sub/infer`, {
          parameters: { priority: 1, timeout: 1000000, custom: "x", ratio: 0.5, flag: true },
          inputs: [fp32("INPUT0", [1, 2]), fp32("INPUT1", [1, 1])],
        });
        assertEquals(answer.status, 200);
        assertEquals(answer.json.outputs[0].data, [2, 3]);
        const reserved = await post(`${base}/v2/models/add_sub/infer`, {
          parameters: { triton_secret: 1 },
          inputs: [fp32("INPUT0", [1]), fp32("INPUT1", [1])],
        });
        assertEquals(reserved.status, 400);
        assertStringIncludes(reserved.json.error, "reserved for Triton usage");
      });

      await t.step("ensemble: metadata and a chained inference", async () => {
        const metadata = await (await fetch(`${base}/v2/models/add_sub_twice`)).json();
        assertEquals(metadata.platform, "ensemble");
        assertEquals((await fetch(`${base}/v2/models/add_sub_twice/ready`)).status, 200);
        const answer = await post(`${base}/v2/models/add_sub_twice/infer`, {
          inputs: [fp32("A", [1, 2, 3]), fp32("B", [10, 20, 30])],
        });
        assertEquals(answer.status, 200);
        assertEquals(answer.json.outputs.map((o: Json) => [o.name, o.data]), [
          ["TWO_A", [2, 4, 6]],
          ["TWO_B", [20, 40, 60]],
        ]);
        const mismatch = await post(`${base}/v2/models/add_sub_twice/infer`, {
          inputs: [fp32("A", [1, 2, 3]), fp32("B", [10, 20])],
        });
        assertEquals(mismatch.status, 400);
        assert(
          mismatch.json.error.startsWith("in ensemble 'add_sub_twice', "),
          mismatch.json.error,
        );
        assertStringIncludes(mismatch.json.error, "(step 1, model 'add_sub')");
      });

      await t.step("sequence batching: sequence_id, start and end; Triton's errors", async () => {
        const infer = (value: number, parameters: Record<string, unknown>) =>
          post(`${base}/v2/models/add_sub_seq/infer`, {
            parameters,
            inputs: [fp32("INPUT0", [value]), fp32("INPUT1", [1])],
          });
        assertEquals((await infer(1, { sequence_id: 5, sequence_start: true })).status, 200);
        assertEquals((await infer(2, { sequence_id: "s-5", sequence_start: true })).status, 200);
        const middle = await infer(3, { sequence_id: 5 });
        assertEquals([middle.status, middle.json.outputs[0].data], [200, [4]]);
        assertEquals((await infer(4, { sequence_id: 5, sequence_end: true })).status, 200);
        assertEquals((await infer(4, { sequence_id: "s-5", sequence_end: true })).status, 200);
        const ended = await infer(5, { sequence_id: 5 });
        assertEquals(ended.status, 400);
        assertEquals(
          ended.json.error,
          "inference request for sequence 5 to model 'add_sub_seq' must specify the START flag " +
            "on the first request of the sequence",
        );
        const anonymous = await infer(5, {});
        assertEquals(anonymous.status, 400);
        assertStringIncludes(
          anonymous.json.error,
          "must specify a non-zero or non-empty correlation ID",
        );
        const metadata = await (await fetch(`${base}/v2`)).json();
        assert(metadata.extensions.includes("sequence"));
      });
    } finally {
      const { code, log } = await server.stop("SIGTERM");
      assertEquals(code, 0, log);
      Deno.removeSync(repository, { recursive: true });
    }
  },
});

Deno.test({
  name: "serve features: stream_text streams one event per word",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const repository = makeFixtureRepository(["stream_text"], false);
    const server = await startServeProcess({ repository });
    const base = server.url;
    try {
      const words = ["the", "quick", "brown", "fox"];
      const stream = await postStream(`${base}/v2/models/stream_text/generate_stream`, {
        TEXT: words.join(" "),
      });
      assertEquals(stream.status, 200);
      assertEquals(stream.type, "text/event-stream; charset=utf-8");
      assert(stream.events.every((event) => event.error === undefined), stream.text);
      assertEquals(stream.events.slice(0, words.length).map((event) => event.TOKEN), words);
      assert(
        stream.events.every((event) =>
          event.model_name === "stream_text" && event.model_version === "1"
        ),
      );

      const one = await post(`${base}/v2/models/stream_text/generate`, { TEXT: "alone" });
      assertEquals(one.status, 200);
      if (stream.events.length === words.length) {
        // One response per word and a FINAL without a response: /generate takes a single word.
        assertEquals(one.json.TOKEN, "alone");
      }
      const many = await post(`${base}/v2/models/stream_text/generate`, { TEXT: "two words" });
      assertEquals(many.status, 500);
      assertEquals(many.json, {
        error: "generate expects model to produce exactly 1 response, use generate stream for " +
          "model that generates various number of responses",
      });

      const infer = await post(`${base}/v2/models/stream_text/infer`, {
        inputs: [{ name: "TEXT", datatype: "BYTES", shape: [1], data: ["hi"] }],
      });
      assertEquals(infer.status, 501);
      assertEquals(
        infer.json.error,
        "HTTP end point doesn't support models with decoupled transaction policy",
      );
    } finally {
      const { code, log } = await server.stop("SIGTERM");
      assertEquals(code, 0, log);
      Deno.removeSync(repository, { recursive: true });
    }
  },
});

Deno.test({
  name: "serve features: accumulator keeps a running sum per sequence",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const repository = makeFixtureRepository(["accumulator"], false);
    const server = await startServeProcess({ repository });
    const base = server.url;
    const add = async (value: number, parameters: Record<string, unknown>) => {
      const answer = await post(`${base}/v2/models/accumulator/infer`, {
        parameters,
        inputs: [{ name: "INPUT0", datatype: "INT32", shape: [1, 1], data: [value] }],
      });
      assertEquals(answer.status, 200, JSON.stringify(answer.json));
      return answer.json.outputs.find((o: Json) => o.name === "OUTPUT0").data[0];
    };
    try {
      assertEquals(await add(1, { sequence_id: 11, sequence_start: true }), 1);
      assertEquals(await add(100, { sequence_id: "seq-b", sequence_start: true }), 100);
      assertEquals(await add(2, { sequence_id: 11 }), 3);
      assertEquals(await add(200, { sequence_id: "seq-b" }), 300);
      assertEquals(await add(3, { sequence_id: 11, sequence_end: true }), 6);
      assertEquals(await add(300, { sequence_id: "seq-b", sequence_end: true }), 600);
      // A new sequence with a used id starts from zero again.
      assertEquals(await add(5, { sequence_id: 11, sequence_start: true, sequence_end: true }), 5);

      const late = await post(`${base}/v2/models/accumulator/infer`, {
        parameters: { sequence_id: 11 },
        inputs: [{ name: "INPUT0", datatype: "INT32", shape: [1, 1], data: [1] }],
      });
      assertEquals(late.status, 400);
      assertEquals(
        late.json.error,
        "inference request for sequence 11 to model 'accumulator' must specify the START flag " +
          "on the first request of the sequence",
      );
    } finally {
      const { code, log } = await server.stop("SIGTERM");
      assertEquals(code, 0, log);
      Deno.removeSync(repository, { recursive: true });
    }
  },
});
