import { parseModelConfigText } from "../model_config/mod.ts";
import { assertEquals, assertStringIncludes, assertThrows } from "./_test_assert.ts";
import { ServeError } from "./errors.ts";
import { parseInferRequest } from "./infer_request.ts";
import { modelSignature } from "./model_signature.ts";

const encoder = new TextEncoder();

const addSub = modelSignature(parseModelConfigText(`
  name: "add_sub"
  input [{ name: "INPUT0" data_type: TYPE_FP32 dims: [4] },
         { name: "INPUT1" data_type: TYPE_FP32 dims: [4] }]
  output [{ name: "OUTPUT0" data_type: TYPE_FP32 dims: [4] },
          { name: "OUTPUT1" data_type: TYPE_FP32 dims: [4] }]
`));

const batched = modelSignature(parseModelConfigText(`
  name: "batched"
  max_batch_size: 8
  input [{ name: "X" data_type: TYPE_INT32 dims: [-1, 2] },
         { name: "O" data_type: TYPE_STRING dims: [1] optional: true }]
  output [{ name: "Y" data_type: TYPE_INT32 dims: [-1, 2] }]
`));

function parse(signature = addSub, header: unknown, binary: Uint8Array = new Uint8Array()) {
  const text = typeof header === "string" ? header : JSON.stringify(header);
  return parseInferRequest(signature, { header: encoder.encode(text), binary });
}

function fp32Input(name: string, data: number[], shape = [data.length]) {
  return { name, datatype: "FP32", shape, data };
}

Deno.test("infer_request: a JSON request with id, parameters and outputs", () => {
  const { request, format } = parse(addSub, {
    id: "r7",
    parameters: { binary_data_output: true, custom: "x", n: 3, f: 0.5, yes: true },
    inputs: [fp32Input("INPUT0", [1, 2, 3, 4]), fp32Input("INPUT1", [5, 6, 7, 8])],
    outputs: [{ name: "OUTPUT1", parameters: { binary_data: false } }],
  });
  assertEquals(request.id, "r7");
  assertEquals(request.inputs.map((input) => input.name), ["INPUT0", "INPUT1"]);
  assertEquals([...new Float32Array(request.inputs[1].data.slice().buffer)], [5, 6, 7, 8]);
  assertEquals(request.requestedOutputs, ["OUTPUT1"]);
  assertEquals(request.batchSize, 1);
  assertEquals([...request.parameters], [["custom", "x"], ["n", 3], ["f", 0.5], ["yes", true]]);
  assertEquals(format.defaultBinary, true);
  assertEquals(format.binary.get("OUTPUT1"), false);
});

Deno.test("infer_request: binary inputs are views of the body, in JSON order", () => {
  const binary = new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]).buffer);
  const { request } = parse(addSub, {
    inputs: [
      { name: "INPUT1", datatype: "FP32", shape: [4], parameters: { binary_data_size: 16 } },
      { name: "INPUT0", datatype: "FP32", shape: [4], parameters: { binary_data_size: 16 } },
    ],
  }, binary);
  assertEquals(request.inputs[0].name, "INPUT1");
  assertEquals(request.inputs[0].data.buffer, binary.buffer);
  assertEquals([...new Float32Array(request.inputs[1].data.slice().buffer)], [5, 6, 7, 8]);
});

Deno.test("infer_request: Triton's 400s for bad input", () => {
  const cases: [unknown, string, Uint8Array?][] = [
    ["{not json", "failed to parse the request JSON buffer"],
    [{ inputs: "x" }, "Unable to parse 'inputs'"],
    [
      { inputs: [fp32Input("INPUT0", [1, 2, 3, 4]), fp32Input("NOPE", [1])] },
      "unexpected inference input 'NOPE' for model 'add_sub'",
    ],
    [{ inputs: [fp32Input("INPUT0", [1, 2, 3, 4])] }, "missing required input(s) ['INPUT1']"],
    [
      {
        inputs: [
          { ...fp32Input("INPUT0", [1, 2, 3, 4]), datatype: "INT32" },
          fp32Input("INPUT1", [1, 2, 3, 4]),
        ],
      },
      "inference input 'INPUT0' data-type is 'INT32', but model 'add_sub' expects 'FP32'",
    ],
    [
      { inputs: [fp32Input("INPUT0", [1, 2, 3]), fp32Input("INPUT1", [1, 2, 3, 4])] },
      "unexpected shape for input 'INPUT0' for model 'add_sub'. Expected [4], got [3]",
    ],
    [
      { inputs: [fp32Input("INPUT0", [1, 2, 3], [4]), fp32Input("INPUT1", [1, 2, 3, 4])] },
      "3 elements given, the shape needs 4",
    ],
    [
      {
        inputs: [
          { name: "INPUT0", datatype: "FP32", shape: [4], parameters: { binary_data_size: 12 } },
          fp32Input("INPUT1", [1, 2, 3, 4]),
        ],
      },
      "input byte size mismatch for input 'INPUT0' for model 'add_sub'. Expected 16, got 12",
      new Uint8Array(12),
    ],
    [
      {
        inputs: [
          { name: "INPUT0", datatype: "FP32", shape: [4], parameters: { binary_data_size: 16 } },
          fp32Input("INPUT1", [1, 2, 3, 4]),
        ],
      },
      "expecting 6 additional bytes",
      new Uint8Array(10),
    ],
    [
      { inputs: [fp32Input("INPUT0", [1, 2, 3, 4]), fp32Input("INPUT1", [1, 2, 3, 4])] },
      "unexpected additional input data for model 'add_sub'",
      new Uint8Array(1),
    ],
    [
      { inputs: [{ ...fp32Input("INPUT0", [1, 2, 3, 4]), parameters: { binary_data_size: 16 } }] },
      "Input must set only one of the following fields",
    ],
    [
      { inputs: [fp32Input("INPUT0", [1, 2, 3, 4]), fp32Input("INPUT0", [1, 2, 3, 4])] },
      "input 'INPUT0' already exists in request",
    ],
    [
      {
        inputs: [fp32Input("INPUT0", [1, 2, 3, 4]), fp32Input("INPUT1", [1, 2, 3, 4])],
        outputs: [{ name: "OUTPUT9" }],
      },
      "unexpected inference output 'OUTPUT9' for model 'add_sub'",
    ],
    [
      {
        inputs: [fp32Input("INPUT0", [1, 2, 3, 4]), fp32Input("INPUT1", [1, 2, 3, 4])],
        parameters: { triton_x: 1 },
      },
      "reserved for Triton",
    ],
    [{ id: 5, inputs: [] }, "Unable to parse 'id'"],
    [
      { inputs: [{ name: "INPUT0", datatype: "FP32", shape: [-4], data: [] }] },
      "Unable to parse 'shape'",
    ],
  ];
  for (const [header, message, binary] of cases) {
    const error = assertThrows(() => parse(addSub, header, binary), ServeError);
    assertStringIncludes(error.message, message);
    assertEquals(error.status, 400, message);
  }
});

Deno.test("infer_request: batch dimension, optional inputs, variable dims", () => {
  const { request } = parse(batched, {
    inputs: [{ name: "X", datatype: "INT32", shape: [3, 5, 2], data: new Array(30).fill(1) }],
  });
  assertEquals(request.batchSize, 3);
  assertEquals(request.inputs[0].shape, [3, 5, 2]);
  const tooBig = assertThrows(
    () =>
      parse(batched, {
        inputs: [{ name: "X", datatype: "INT32", shape: [9, 1, 2], data: new Array(18).fill(1) }],
      }),
    ServeError,
    "inference request batch-size must be <= 8 for 'batched'",
  );
  assertEquals(tooBig.status, 400);
  assertThrows(
    () =>
      parse(batched, {
        inputs: [{ name: "X", datatype: "INT32", shape: [2, 3], data: [1, 2, 3, 4, 5, 6] }],
      }),
    ServeError,
    "Expected [-1,-1,2], got [2,3]",
  );
  assertThrows(
    () =>
      parse(batched, {
        inputs: [
          { name: "X", datatype: "INT32", shape: [1, 1, 2], data: [1, 2] },
          { name: "O", datatype: "BYTES", shape: [2, 1], data: ["a", "b"] },
        ],
      }),
    ServeError,
    "batch size does not match",
  );
});

Deno.test("infer_request: binary BYTES must hold exactly the shape's elements", () => {
  const signature = modelSignature(parseModelConfigText(
    'name: "s" input { name: "T" data_type: TYPE_STRING dims: [2] }',
  ));
  const good = new Uint8Array([1, 0, 0, 0, 0x61, 0, 0, 0, 0]);
  const { request } = parse(signature, {
    inputs: [{ name: "T", datatype: "BYTES", shape: [2], parameters: { binary_data_size: 9 } }],
  }, good);
  assertEquals(request.inputs[0].data.byteLength, 9);
  assertThrows(
    () =>
      parse(signature, {
        inputs: [{ name: "T", datatype: "BYTES", shape: [2], parameters: { binary_data_size: 5 } }],
      }, good.subarray(0, 5)),
    ServeError,
    "expected 2 string elements",
  );
});

Deno.test("infer_request: a big INT64 in JSON is kept exact", () => {
  const signature = modelSignature(parseModelConfigText(
    'name: "i" input { name: "X" data_type: TYPE_INT64 dims: [2] }',
  ));
  const { request } = parse(
    signature,
    '{"inputs":[{"name":"X","datatype":"INT64","shape":[2],"data":[9223372036854775807,-1]}]}',
  );
  assertEquals([...new BigInt64Array(request.inputs[0].data.slice().buffer)], [
    9223372036854775807n,
    -1n,
  ]);
});

Deno.test("infer_request: binary_data_output is for the outputs a request does not list", () => {
  // As Triton: a listed output is binary only if its own binary_data says so.
  const { request, format } = parse(addSub, {
    parameters: { binary_data_output: true },
    inputs: [fp32Input("INPUT0", [1, 2, 3, 4]), fp32Input("INPUT1", [5, 6, 7, 8])],
    outputs: [{ name: "OUTPUT0" }, { name: "OUTPUT1", parameters: { binary_data: false } }],
  });
  assertEquals(request.requestedOutputs, ["OUTPUT0", "OUTPUT1"]);
  assertEquals(format.binary.get("OUTPUT0"), false);
  assertEquals(format.defaultBinary, true);
  assertEquals(format.binary.get("OUTPUT1"), false);
});

Deno.test("infer_request: reserved parameters set the request's sequence, priority and timeout", () => {
  const { request } = parse(addSub, {
    parameters: {
      sequence_id: 42,
      sequence_start: true,
      sequence_end: true,
      priority: 2,
      timeout: 5000,
      custom: 1,
    },
    inputs: [fp32Input("INPUT0", [1, 2, 3, 4]), fp32Input("INPUT1", [5, 6, 7, 8])],
  });
  assertEquals(
    [request.correlationId, request.flags, request.priority, request.timeoutUs],
    [42n, 3, 2, 5000n],
  );
  assertEquals([...request.parameters], [["custom", 1]]); // The reserved ones are not passed on.
  const text = parse(addSub, {
    parameters: { sequence_id: "e333c95a-07fc" },
    inputs: [fp32Input("INPUT0", [1, 2, 3, 4]), fp32Input("INPUT1", [5, 6, 7, 8])],
  }).request;
  assertEquals([text.correlationId, text.flags], ["e333c95a-07fc", 0]);
  for (
    const [parameters, message] of [
      [{ priority: -1 }, "Unable to parse 'priority'"],
      [{ timeout: 1.5 }, "Unable to parse 'timeout'"],
      [{ sequence_start: 1 }, "Unable to parse 'sequence_start'"],
      [{ sequence_id: true }, "Unable to parse 'sequence_id'"],
      [{ custom: { nested: 1 } }, "parameter 'custom' has invalid type"],
    ] as const
  ) {
    const error = assertThrows(
      () => parse(addSub, { parameters, inputs: [] }),
      ServeError,
    );
    assertStringIncludes(error.message, message);
  }
});

Deno.test("infer_request: 64-bit parameters stay exact; beyond INT64 they are doubles", () => {
  const header = '{"parameters":{"big":9007199254740993,"huge":18446744073709551615,' +
    '"sequence_id":18446744073709551615},"inputs":[' +
    '{"name":"INPUT0","datatype":"FP32","shape":[4],"data":[1,2,3,4]},' +
    '{"name":"INPUT1","datatype":"FP32","shape":[4],"data":[1,2,3,4]}]}';
  const { request } = parse(addSub, header);
  assertEquals(request.parameters.get("big"), 9007199254740993n);
  assertEquals(request.parameters.get("huge"), 18446744073709551615);
  assertEquals(request.correlationId, 18446744073709551615n);
});

Deno.test("infer_request: without reserved parameters every key goes to the model", () => {
  const text = JSON.stringify({
    parameters: { sequence_id: 5, triton_x: "kept", binary_data_output: true },
    inputs: [fp32Input("INPUT0", [1, 2, 3, 4]), fp32Input("INPUT1", [5, 6, 7, 8])],
  });
  const { request, format } = parseInferRequest(
    addSub,
    { header: encoder.encode(text), binary: new Uint8Array() },
    { reservedParameters: false },
  );
  assertEquals(request.correlationId, 0n);
  assertEquals(format.defaultBinary, false);
  assertEquals([...request.parameters], [
    ["sequence_id", 5],
    ["triton_x", "kept"],
    ["binary_data_output", true],
  ]);
});
