import { assert, assertEquals } from "./_test_assert.ts";
import { type Compute, FunctionExecutor, heldOutput, inputOf, readInt32 } from "./_test_fakes.ts";
import { handlerFor } from "./_test_server.ts";

const ACCUMULATOR = `
name: "accumulator"
backend: "deno"
max_batch_size: 0
input [{ name: "INPUT0" data_type: TYPE_INT32 dims: [1] }]
output [{ name: "OUTPUT0" data_type: TYPE_INT32 dims: [1] }]
instance_group [{ count: 2 kind: KIND_CPU }]
sequence_batching {
  max_sequence_idle_microseconds: 60000000
  control_input [
    { name: "START" control [{ kind: CONTROL_SEQUENCE_START int32_false_true: [0, 1] }] },
    { name: "READY" control [{ kind: CONTROL_SEQUENCE_READY int32_false_true: [0, 1] }] }
  ]
}`;

/** A running sum per instance and correlation id, reset by the START control. */
function accumulator(): Compute {
  const sums = new Map<string, number>();
  return (request, instance) => {
    const key = `${instance}/${request.correlationId}`;
    if (readInt32(inputOf(request, "START").data)[0] === 1) sums.set(key, 0);
    if (readInt32(inputOf(request, "READY").data)[0] !== 1) {
      return { ok: false, code: 13, message: "READY is not set" };
    }
    const sum = (sums.get(key) ?? 0) + readInt32(inputOf(request, "INPUT0").data)[0];
    sums.set(key, sum);
    return {
      ok: true,
      outputs: [heldOutput("OUTPUT0", "INT32", [1], new Uint8Array(new Int32Array([sum]).buffer))],
      parameters: {},
    };
  };
}

function body(value: number, parameters: Record<string, unknown>) {
  return JSON.stringify({
    parameters,
    inputs: [{ name: "INPUT0", datatype: "INT32", shape: [1], data: [value] }],
  });
}

Deno.test("sequence over HTTP: sequence_id and start/end parameters drive a stateful model", async () => {
  const server = await handlerFor(
    { accumulator: ACCUMULATOR },
    (_name, json) => new FunctionExecutor(json, accumulator(), 2),
  );
  try {
    const infer = async (value: number, parameters: Record<string, unknown>) => {
      const response = await server.call(
        "POST",
        "/v2/models/accumulator/infer",
        body(value, parameters),
      );
      return { status: response.status, json: await response.json() };
    };
    assertEquals((await infer(1, { sequence_id: 7, sequence_start: true })).json.outputs[0].data, [
      1,
    ]);
    assertEquals(
      (await infer(10, { sequence_id: "uuid-a", sequence_start: true })).json
        .outputs[0].data,
      [10],
    );
    assertEquals((await infer(2, { sequence_id: 7 })).json.outputs[0].data, [3]);
    assertEquals(
      (await infer(20, { sequence_id: "uuid-a", sequence_end: true })).json.outputs[0]
        .data,
      [30],
    );
    assertEquals((await infer(3, { sequence_id: 7, sequence_end: true })).json.outputs[0].data, [
      6,
    ]);

    const ended = await infer(4, { sequence_id: 7 });
    assertEquals(ended.status, 400);
    assertEquals(
      ended.json.error,
      "inference request for sequence 7 to model 'accumulator' must specify the START flag on " +
        "the first request of the sequence",
    );
    const noId = await infer(4, {});
    assertEquals(noId.status, 400);
    assertEquals(
      noId.json.error,
      "inference request to model 'accumulator' must specify a non-zero or non-empty correlation ID",
    );
    const badId = await infer(4, { sequence_id: -1 });
    assertEquals([badId.status, badId.json.error], [400, "Unable to parse 'sequence_id'"]);

    const metadata = await (await server.call("GET", "/v2")).json();
    assert(metadata.extensions.includes("sequence"));
    const config = await (await server.call("GET", "/v2/models/accumulator/config")).json();
    assertEquals(config.sequence_batching.control_input[0].name, "START");
  } finally {
    await server.close();
  }
});

Deno.test("sequence over HTTP: invalid control inputs leave the model UNAVAILABLE with the reason", async () => {
  const server = await handlerFor({
    bad: `name: "bad" backend: "deno" input [{ name: "X" data_type: TYPE_INT32 dims: [1] }]
      sequence_batching { control_input [{ name: "S" control [{ kind: CONTROL_SEQUENCE_START }] }] }`,
  }, (_name, json) => new FunctionExecutor(json, () => []));
  try {
    const index = await (await server.call("POST", "/v2/repository/index")).json();
    assertEquals(index[0].state, "UNAVAILABLE");
    assert(
      index[0].reason.includes("needs exactly one of int32_false_true"),
      index[0].reason,
    );
    assertEquals(server.executors.size, 0); // Refused before any instance started.
  } finally {
    await server.close();
  }
});
