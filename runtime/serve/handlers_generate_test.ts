import { assert, assertEquals, assertStringIncludes } from "./_test_assert.ts";
import {
  AddSubExecutor,
  bytesData,
  type Compute,
  FunctionExecutor,
  heldOutput,
  inputOf,
  readStrings,
} from "./_test_fakes.ts";
import { handlerFor, sseEvents } from "./_test_server.ts";
import { NOT_ONE_RESPONSE } from "./generate.ts";
import type { InferResult } from "./types.ts";

const STREAM_TEXT = `
name: "stream_text"
backend: "deno"
model_transaction_policy { decoupled: true }
input [{ name: "TEXT" data_type: TYPE_STRING dims: [1] }]
output [{ name: "TOKEN" data_type: TYPE_STRING dims: [1] }]
`;

const ADD_SUB = `
name: "add_sub"
backend: "deno"
input [{ name: "INPUT0" data_type: TYPE_FP32 dims: [4] },
       { name: "INPUT1" data_type: TYPE_FP32 dims: [4] }]
output [{ name: "OUTPUT0" data_type: TYPE_FP32 dims: [4] },
        { name: "OUTPUT1" data_type: TYPE_FP32 dims: [4] }]
`;

const ECHO = `
name: "echo"
backend: "deno"
max_batch_size: 4
input [{ name: "X" data_type: TYPE_INT32 dims: [-1] }]
output [{ name: "Y" data_type: TYPE_INT32 dims: [-1] }]
`;

/** One response per word of TEXT; "fail" answers with an error after the words before it. */
const streamWords: Compute = (request) => {
  const [text] = readStrings(inputOf(request, "TEXT").data);
  const results: InferResult[] = [];
  for (const word of text.split(" ").filter((w) => w !== "")) {
    if (word === "fail") {
      results.push({ ok: false, code: 3, message: "the model refused 'fail'" });
      break;
    }
    results.push({
      ok: true,
      outputs: [heldOutput("TOKEN", "BYTES", [1], bytesData([word]))],
      parameters: { word_length: word.length },
    });
  }
  return results;
};

const echo: Compute = (request) => {
  const x = inputOf(request, "X");
  return {
    ok: true,
    outputs: [heldOutput("Y", "INT32", [...x.shape], x.data)],
    parameters: Object.fromEntries(request.parameters),
  };
};

async function setup() {
  return await handlerFor(
    { stream_text: STREAM_TEXT, add_sub: ADD_SUB, echo: ECHO },
    (name, json) => {
      if (name === "add_sub") return new AddSubExecutor(json);
      return new FunctionExecutor(json, name === "echo" ? echo : streamWords);
    },
  );
}

function post(server: Awaited<ReturnType<typeof setup>>, path: string, body: unknown) {
  return server.call("POST", path, typeof body === "string" ? body : JSON.stringify(body));
}

Deno.test("generate_stream: one SSE event per response of a decoupled model", async () => {
  const server = await setup();
  try {
    const response = await post(server, "/v2/models/stream_text/generate_stream", {
      TEXT: "hello big world",
    });
    assertEquals(response.status, 200);
    assertEquals(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
    const text = await response.clone().text();
    // Keys in byte order, as Triton's std::map writes them; one element → a scalar.
    assert(
      text.startsWith(
        'data: {"TOKEN":"hello","model_name":"stream_text","model_version":"1","word_length":5}\n\n',
      ),
      text,
    );
    const events = await sseEvents(response) as Record<string, unknown>[];
    assertEquals(events.map((event) => event.TOKEN), ["hello", "big", "world"]);
  } finally {
    await server.close();
  }
});

Deno.test("generate_stream: errors are data events; the status is the first response's", async () => {
  const server = await setup();
  try {
    const midway = await post(server, "/v2/models/stream_text/generate_stream", {
      TEXT: "one fail two",
    });
    assertEquals(midway.status, 200); // The first response succeeded.
    const events = await sseEvents(midway) as Record<string, unknown>[];
    assertEquals(events.length, 2);
    assertEquals(events[0].TOKEN, "one");
    assertEquals(events[1], { error: "the model refused 'fail'" });

    const first = await post(server, "/v2/models/stream_text/generate_stream", { TEXT: "fail" });
    assertEquals(first.status, 400); // INVALID_ARG, as Triton's HttpCodeFromError maps it.
    assertEquals(await sseEvents(first), [{ error: "the model refused 'fail'" }]);

    const none = await post(server, "/v2/models/stream_text/generate_stream", { TEXT: "" });
    assertEquals(none.status, 200);
    assertEquals(await none.text(), "");
  } finally {
    await server.close();
  }
});

Deno.test("generate: exactly one response, else Triton's error", async () => {
  const server = await setup();
  try {
    const one = await post(server, "/v2/models/stream_text/generate", { TEXT: "solo", id: "g1" });
    assertEquals(one.status, 200);
    assertEquals(one.headers.get("content-type"), "application/json");
    assertEquals(await one.json(), {
      TOKEN: "solo",
      id: "g1",
      model_name: "stream_text",
      model_version: "1",
      word_length: 4,
    });
    const many = await post(server, "/v2/models/stream_text/generate", { TEXT: "a b" });
    assertEquals(many.status, 500); // Triton's INTERNAL error, not a 200 with an error body.
    assertEquals(await many.json(), { error: NOT_ONE_RESPONSE });
  } finally {
    await server.close();
  }
});

Deno.test("generate: a model that is not decoupled; inputs shaped from the config", async () => {
  const server = await setup();
  try {
    const response = await post(server, "/v2/models/add_sub/generate", {
      INPUT0: [1, 2, 3, 4],
      parameters: { INPUT1: [10, 20, 30, 40] }, // A parameters key naming an input is the input.
    });
    assertEquals(response.status, 200);
    assertEquals(await response.json(), {
      OUTPUT0: [11, 22, 33, 44],
      OUTPUT1: [-9, -18, -27, -36],
      echoed: "",
      model_name: "add_sub",
      model_version: "1",
    });
    const stream = await post(server, "/v2/models/add_sub/versions/1/generate_stream", {
      INPUT0: [1, 1, 1, 1],
      INPUT1: [1, 1, 1, 1],
    });
    const events = await sseEvents(stream) as Record<string, unknown>[];
    assertEquals(events.length, 1);
    assertEquals(events[0].OUTPUT1, [0, 0, 0, 0]);

    // A batching model: the batch dimension is 1, the variable dim takes the rest.
    const echoed = await post(server, "/v2/models/echo/generate", {
      X: [5, 6, 7],
      parameters: { sequence_id: 9, temperature: 0.5, greedy: true, style: "terse" },
    });
    assertEquals(echoed.status, 200);
    const json = await echoed.json();
    assertEquals(json.Y, [5, 6, 7]);
    // Nothing is reserved in a generate request: sequence_id is a parameter like any other.
    assertEquals(
      [json.sequence_id, json.temperature, json.greedy, json.style],
      [9, 0.5, true, "terse"],
    );
    const executed = (server.executors.get("echo") as FunctionExecutor).executed[0].request;
    assertEquals(executed.inputs[0].shape, [1, 3]);
    assertEquals(executed.correlationId, 0n);
  } finally {
    await server.close();
  }
});

Deno.test("generate: errors before inference are JSON with Triton's status", async () => {
  const server = await setup();
  try {
    const cases: [string, string, number, string][] = [
      ["/v2/models/nope/generate", "{}", 404, "Request for unknown model: 'nope' is not found"],
      ["/v2/models/add_sub/generate", "{oops", 400, "failed to parse the request JSON buffer"],
      [
        "/v2/models/add_sub/generate",
        JSON.stringify({ INPUT0: [1, 2, 3], INPUT1: [1, 2, 3, 4] }),
        400,
        "The schema can not convert input 'INPUT0' to tensor with proper shape",
      ],
      [
        "/v2/models/add_sub/generate_stream",
        JSON.stringify({ INPUT0: [1, 2, 3, 4] }),
        400,
        "missing required input(s) ['INPUT1']",
      ],
      [
        "/v2/models/add_sub/generate",
        JSON.stringify({ INPUT0: [1, 2, 3, 4], INPUT1: [1, 2, 3, 4], bad: [1] }),
        400,
        "parameter 'bad' has invalid type",
      ],
      [
        "/v2/models/add_sub/generate",
        JSON.stringify({ parameters: [1] }),
        400,
        "Expected JSON object for keyword: 'parameters'",
      ],
    ];
    for (const [path, body, status, message] of cases) {
      const response = await server.call("POST", path, body);
      assertEquals(response.status, status, `${path} ${body}`);
      assertEquals(response.headers.get("content-type"), "application/json");
      assertStringIncludes((await response.json()).error, message);
    }
    const gzip = await server.call("POST", "/v2/models/add_sub/generate", "{}", {
      headers: { "content-encoding": "gzip" },
    });
    assertEquals(gzip.status, 400);
    assertEquals(
      (await gzip.json()).error,
      "Unsupported content-encoding, only 'identity' is supported.",
    );
    assertEquals((await server.call("GET", "/v2/models/add_sub/generate")).status, 405);
  } finally {
    await server.close();
  }
});

Deno.test("infer: a decoupled model is refused as Triton's HTTP /infer refuses it", async () => {
  const server = await setup();
  try {
    const response = await post(server, "/v2/models/stream_text/infer", {
      inputs: [{ name: "TEXT", datatype: "BYTES", shape: [1], data: ["hi"] }],
    });
    assertEquals(response.status, 501);
    assertEquals(await response.json(), {
      error: "HTTP end point doesn't support models with decoupled transaction policy",
    });
  } finally {
    await server.close();
  }
});

Deno.test("generate_stream: a client that goes away cancels the request", async () => {
  const server = await setup();
  try {
    const words = Array.from({ length: 200 }, (_, i) => `w${i}`).join(" ");
    const response = await server.call(
      "POST",
      "/v2/models/stream_text/generate_stream",
      JSON.stringify({ TEXT: words }),
    );
    const reader = response.body!.getReader();
    await reader.read();
    await reader.cancel();
    const sink = (server.executors.get("stream_text") as FunctionExecutor).executed[0].request
      .responses!;
    assert(sink.cancelled, "the model sees the request cancelled");
  } finally {
    await server.close();
  }
});
