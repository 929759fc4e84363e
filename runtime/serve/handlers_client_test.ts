/**
 * What Triton's HTTP clients send and expect, through the handler: bad
 * input that used to become a 500 is a 400 naming the problem; outputs'
 * binary_data settings, duplicates, non-finite numbers.
 */
import { assert, assertEquals, assertStringIncludes } from "./_test_assert.ts";
import { type Compute, FunctionExecutor, heldOutput, inputOf } from "./_test_fakes.ts";
import { handlerFor } from "./_test_server.ts";

const FLOATS = `
name: "floats"
backend: "deno"
input [{ name: "X" data_type: TYPE_FP32 dims: [-1] }]
output [{ name: "Y" data_type: TYPE_FP32 dims: [-1] },
        { name: "Z" data_type: TYPE_FP32 dims: [-1] }]
`;

const TEXT = `
name: "text"
backend: "deno"
input [{ name: "TEXT" data_type: TYPE_STRING dims: [1] }]
output [{ name: "Y" data_type: TYPE_FP32 dims: [-1] }]
`;

/** Y and Z: copies of X; the parameters come back too. */
const copy: Compute = (request) => {
  const x = inputOf(request, "X");
  return {
    ok: true,
    outputs: [
      heldOutput("Y", "FP32", [...x.shape], x.data),
      heldOutput("Z", "FP32", [...x.shape], x.data),
    ],
    parameters: Object.fromEntries(request.parameters),
  };
};

/** Y: [NaN, Infinity, -Infinity, 1]. */
const nonFinite: Compute = () => ({
  ok: true,
  outputs: [
    heldOutput(
      "Y",
      "FP32",
      [4],
      new Uint8Array(new Float32Array([NaN, Infinity, -Infinity, 1]).buffer),
    ),
  ],
  parameters: {},
});

async function setup() {
  return await handlerFor(
    { floats: FLOATS, text: TEXT },
    (name, json) => new FunctionExecutor(json, name === "floats" ? copy : nonFinite),
  );
}

type Server = Awaited<ReturnType<typeof setup>>;

async function post(server: Server, path: string, body: string) {
  const response = await server.call("POST", path, body);
  const type = response.headers.get("content-type") ?? "";
  const text = await response.text();
  return { status: response.status, text, type };
}

const floatsRequest = (extra: Record<string, unknown> = {}, data: unknown = [1, 2]) =>
  JSON.stringify({
    inputs: [{ name: "X", datatype: "FP32", shape: [2], data }],
    ...extra,
  });

Deno.test("client input: a NUL in id, parameter name or value is a 400, not a 500", async () => {
  const server = await setup();
  try {
    for (
      const body of [
        floatsRequest({ id: "a\u0000b" }),
        floatsRequest({ parameters: { "k\u0000": 1 } }),
        floatsRequest({ parameters: { k: "v\u0000" } }),
      ]
    ) {
      const { status, text } = await post(server, "/v2/models/floats/infer", body);
      assertEquals(status, 400, text);
      assertStringIncludes(text, "contains a NUL character");
    }
    const generate = await post(server, "/v2/models/text/generate", '{"TEXT":"x","id":"\\u0000"}');
    assertEquals(generate.status, 400, generate.text);
  } finally {
    await server.close();
  }
});

Deno.test("client input: 2^64 for a BYTES input on /generate and 1e30 parameters are not 500s", async () => {
  const server = await setup();
  try {
    const big = await post(server, "/v2/models/text/generate", '{"TEXT":18446744073709551616}');
    assertEquals(big.status, 400, big.text);
    assertStringIncludes(big.text, "18446744073709551616");
    // A parameter of 1e30 is a DOUBLE, as Triton reads it.
    const infer = await post(
      server,
      "/v2/models/floats/infer",
      floatsRequest({ parameters: { p: 1e30 } }),
    );
    assertEquals(infer.status, 200, infer.text);
    assertEquals(JSON.parse(infer.text).parameters, { p: 1e30 });
    const generate = await post(server, "/v2/models/text/generate", '{"TEXT":"x","p":1e30}');
    assertEquals(generate.status, 200, generate.text);
    const generateBig = await post(
      server,
      "/v2/models/text/generate",
      '{"TEXT":"x","p":12345678901234567890123}',
    );
    assertEquals(generateBig.status, 200, generateBig.text);
  } finally {
    await server.close();
  }
});

Deno.test("client input: data nested 100,000 deep is a 400; beyond 100 levels is refused", async () => {
  const server = await setup();
  try {
    const deep = "[".repeat(100_000) + "]".repeat(100_000);
    const body = `{"inputs":[{"name":"X","datatype":"FP32","shape":[2],"data":${deep}}]}`;
    const response = await post(server, "/v2/models/floats/infer", body);
    assertEquals(response.status, 400, response.text.slice(0, 200));
    const at101 = "[".repeat(101) + "1,2" + "]".repeat(101);
    const refused = await post(
      server,
      "/v2/models/floats/infer",
      floatsRequest({}, JSON.parse(at101)),
    );
    assertEquals(refused.status, 400);
    assertStringIncludes(refused.text, "nested deeper than 100 levels");
    const at100 = "[".repeat(100) + "1,2" + "]".repeat(100);
    const accepted = await post(
      server,
      "/v2/models/floats/infer",
      floatsRequest({}, JSON.parse(at100)),
    );
    assertEquals(accepted.status, 200, accepted.text);
    // On /generate, parsed exactly, too.
    const generate = await post(server, "/v2/models/text/generate", `{"TEXT":${deep}}`);
    assertEquals(generate.status, 400);
  } finally {
    await server.close();
  }
});

Deno.test("client input: duplicate requested outputs and repeated /generate keys are 400s", async () => {
  const server = await setup();
  try {
    const duplicate = await post(
      server,
      "/v2/models/floats/infer",
      floatsRequest({ id: "r1", outputs: [{ name: "Y" }, { name: "Y" }] }),
    );
    assertEquals(duplicate.status, 400);
    assertEquals(JSON.parse(duplicate.text), {
      error: "[request id: r1] output 'Y' already exists in request",
    });
    const repeated = await post(server, "/v2/models/text/generate", '{"TEXT":"a","TEXT":"b"}');
    assertEquals(repeated.status, 400, repeated.text);
    assertStringIncludes(repeated.text, "'TEXT' is repeated");
    const nested = await post(
      server,
      "/v2/models/text/generate",
      '{"TEXT":"a","parameters":{"p":1,"p":2}}',
    );
    assertEquals(nested.status, 400, nested.text);
    // The same key in different objects is fine.
    const fine = await post(
      server,
      "/v2/models/text/generate",
      '{"TEXT":"a","parameters":{"TEXT2":1}}',
    );
    assertEquals(fine.status, 200, fine.text);
  } finally {
    await server.close();
  }
});

Deno.test("client output: binary_data_output does not make listed outputs binary", async () => {
  const server = await setup();
  try {
    // Listed without binary_data, and with binary_data false: JSON both.
    const listed = await post(
      server,
      "/v2/models/floats/infer",
      floatsRequest({
        parameters: { binary_data_output: true },
        outputs: [{ name: "Y" }, { name: "Z", parameters: { binary_data: false } }],
      }),
    );
    assertEquals(listed.status, 200, listed.text);
    assertEquals(listed.type, "application/json");
    const json = JSON.parse(listed.text);
    assertEquals(json.outputs.map((o: { data: number[] }) => o.data), [[1, 2], [1, 2]]);
    // Not listed: binary_data_output applies.
    const all = await server.call(
      "POST",
      "/v2/models/floats/infer",
      floatsRequest({ parameters: { binary_data_output: true } }),
    );
    assertEquals(all.headers.get("content-type"), "application/octet-stream");
    assert(all.headers.get("inference-header-content-length") !== null);
    await all.body?.cancel();
  } finally {
    await server.close();
  }
});

Deno.test("client tensors: NaN and +-Infinity in JSON both ways, as Triton writes them", async () => {
  const server = await setup();
  try {
    const sent = await post(
      server,
      "/v2/models/floats/infer",
      '{"inputs":[{"name":"X","datatype":"FP32","shape":[5],"data":[NaN,Infinity,-Infinity,-Inf,Inf]}],' +
        '"outputs":[{"name":"Y"}]}',
    );
    assertEquals(sent.status, 200, sent.text);
    assertStringIncludes(sent.text, '"data":[NaN,Infinity,-Infinity,-Infinity,Infinity]');
    // A string "NaN" stays a string: refused for FP32.
    const quoted = await post(server, "/v2/models/floats/infer", floatsRequest({}, ["NaN", 1]));
    assertEquals(quoted.status, 400);
    const generated = await post(server, "/v2/models/text/generate", '{"TEXT":"x"}');
    assertEquals(generated.status, 200, generated.text);
    assertStringIncludes(generated.text, '"Y":[NaN,Infinity,-Infinity,1]');
  } finally {
    await server.close();
  }
});

const TWO_INPUTS = `
name: "two"
backend: "deno"
input [{ name: "A" data_type: TYPE_FP32 dims: [2] }, { name: "B" data_type: TYPE_FP32 dims: [2] }]
output [{ name: "Y" data_type: TYPE_FP32 dims: [2] }]
`;

Deno.test("client input: a raw binary request (Inference-Header-Content-Length: 0)", async () => {
  const server = await handlerFor(
    { floats: FLOATS, two: TWO_INPUTS },
    (_name, json) => new FunctionExecutor(json, copy),
  );
  try {
    const raw = new Uint8Array(new Float32Array([1.5, 2.5, 3.5]).buffer);
    const headers = { "inference-header-content-length": "0" };
    const response = await server.call("POST", "/v2/models/floats/infer", raw, { headers });
    assertEquals(response.status, 200);
    const headerLength = Number(response.headers.get("inference-header-content-length"));
    const body = new Uint8Array(await response.arrayBuffer());
    const json = JSON.parse(new TextDecoder().decode(body.subarray(0, headerLength)));
    assertEquals(json.outputs[0].shape, [3]); // The variable dimension from the byte count.
    assertEquals(json.outputs[0].parameters, { binary_data_size: 12 });
    assertEquals([...new Float32Array(body.slice(headerLength, headerLength + 12).buffer)], [
      1.5,
      2.5,
      3.5,
    ]);
    const two = await server.call("POST", "/v2/models/two/infer", raw, { headers });
    assertEquals(two.status, 400);
    assertEquals(
      (await two.json()).error,
      "[request id: <id_unknown>] Raw request must only have 1 input (found 1) to be deduced " +
        "but got 2 inputs in 'two' model configuration",
    );
  } finally {
    await server.close();
  }
});

Deno.test("client settings: /v2/logging and trace settings are read, updated and validated", async () => {
  const server = await setup();
  try {
    const logging = await server.call("GET", "/v2/logging");
    assertEquals((await logging.json()).log_info, true);
    const updated = await post(server, "/v2/logging", '{"log_info":false,"log_format":"ISO8601"}');
    assertEquals(updated.status, 200);
    assertEquals(JSON.parse(updated.text).log_info, false);
    assertEquals(JSON.parse(updated.text).log_format, "ISO8601");
    assertEquals((await post(server, "/v2/logging", '{"log_info":"no"}')).status, 400);
    assertEquals((await post(server, "/v2/logging", '{"log_colour":true}')).status, 400);
    assertEquals((await post(server, "/v2/logging", '{"log_file":"/tmp/x"}')).status, 501);
    // A bad update changes nothing.
    assertEquals((await (await server.call("GET", "/v2/logging")).json()).log_info, false);

    const model = await post(server, "/v2/models/floats/trace/setting", '{"trace_rate":"7"}');
    assertEquals(JSON.parse(model.text).trace_rate, "7");
    const global = await server.call("GET", "/v2/trace/setting");
    assertEquals((await global.json()).trace_rate, "1000");
    assertEquals(
      (await post(server, "/v2/trace/setting", '{"trace_level":["LOUD"]}')).status,
      400,
    );
    assertEquals((await post(server, "/v2/models/nope/trace/setting", "{}")).status, 404);
  } finally {
    await server.close();
  }
});

Deno.test("client shared memory: keys, ranges and unknown regions are refused", async () => {
  const { SystemSharedMemory } = await import("./system_shm.ts");
  const memory = new SystemSharedMemory();
  const name = `tdn_unit_${crypto.randomUUID().slice(0, 8)}`;
  Deno.writeFileSync(`/dev/shm/${name}`, new Uint8Array(64));
  try {
    for (const key of ["/../etc/passwd", "a/b", "/", ".."]) {
      let refused = false;
      await memory.register("r", key, 0, 4).catch(() => (refused = true));
      assert(refused, key);
    }
    await memory.register("r", `/${name}`, 16, 32);
    let again = "";
    await memory.register("r", `/${name}`, 0, 4).catch((e) => (again = e.message));
    assertEquals(again, "shared memory region 'r' already in manager");
    let beyond = "";
    await memory.register("s", `/${name}`, 48, 32).catch((e) => (beyond = e.message));
    assertStringIncludes(beyond, "go beyond the 64 bytes");
    await memory.write({ region: "r", offset: 4, byteSize: 4 }, new Uint8Array([1, 2, 3, 4]));
    assertEquals([...Deno.readFileSync(`/dev/shm/${name}`).subarray(20, 24)], [1, 2, 3, 4]);
    assertEquals(
      [...await memory.read({ region: "r", offset: 4, byteSize: 4 })],
      [1, 2, 3, 4],
    );
    for (const slice of [{ offset: 30, byteSize: 4 }, { offset: 0, byteSize: 33 }]) {
      let message = "";
      try {
        memory.check({ region: "r", ...slice });
      } catch (error) {
        message = (error as Error).message;
      }
      assertStringIncludes(message, "Invalid offset + byte size for shared memory region: 'r'");
    }
    let unknown = "";
    try {
      memory.status("nope");
    } catch (error) {
      unknown = (error as Error).message;
    }
    assertEquals(unknown, "Unable to find system shared memory region: 'nope'");
    memory.unregister();
    assertEquals(memory.status(), []);
  } finally {
    Deno.removeSync(`/dev/shm/${name}`);
  }
});
