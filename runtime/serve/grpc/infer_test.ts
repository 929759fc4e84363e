import { create } from "npm:@bufbuild/protobuf@2.17.0";
import { assertEquals, assertThrows } from "../_test_assert.ts";
import { ErrorCode, ServeError } from "../errors.ts";
import { modelSignature } from "../model_signature.ts";
import { parseModelConfigText } from "../../model_config/mod.ts";
import { type ModelInferRequest, ModelInferRequestSchema } from "./grpc_service_pb.ts";
import { inferRequestFromGrpc, inferResponseToGrpc } from "./infer.ts";
import { parseVersion } from "./handlers.ts";
import { callError, GrpcStatus, grpcStatusFromErrorCode } from "./status.ts";

const signature = modelSignature(parseModelConfigText(`
  name: "m"
  input [
    { name: "A" data_type: TYPE_INT8 dims: [2] },
    { name: "B" data_type: TYPE_STRING dims: [2] optional: true },
    { name: "C" data_type: TYPE_UINT16 dims: [2] optional: true },
    { name: "D" data_type: TYPE_BOOL dims: [2] optional: true }
  ]
  output [{ name: "Y" data_type: TYPE_INT32 dims: [2] }]
`));

type Init = Parameters<typeof create<typeof ModelInferRequestSchema>>[1];

function request(init: Init): ModelInferRequest {
  return create(ModelInferRequestSchema, { modelName: "m", ...init });
}

function invalid(init: Init, message: string): void {
  const error = assertThrows(() => inferRequestFromGrpc(signature, request(init)), ServeError);
  assertEquals(error.code, ErrorCode.INVALID_ARG, error.message);
  if (!error.message.includes(message)) {
    throw new Error(`expected '${message}' in '${error.message}'`);
  }
}

Deno.test("grpc infer: typed contents become Triton's binary layout", () => {
  const { request: parsed } = inferRequestFromGrpc(
    signature,
    request({
      inputs: [
        { name: "A", datatype: "INT8", shape: [2n], contents: { intContents: [-1, 5] } },
        {
          name: "B",
          datatype: "BYTES",
          shape: [2n],
          contents: {
            bytesContents: [
              new TextEncoder().encode("hi"),
              new Uint8Array(),
            ],
          },
        },
        { name: "C", datatype: "UINT16", shape: [2n], contents: { uintContents: [1, 65535] } },
        { name: "D", datatype: "BOOL", shape: [2n], contents: { boolContents: [true, false] } },
      ],
    }),
  );
  assertEquals(parsed.inputs.map((input) => [...input.data]), [
    [255, 5],
    [2, 0, 0, 0, 104, 105, 0, 0, 0, 0],
    [1, 0, 255, 255],
    [1, 0],
  ]);
});

Deno.test("grpc infer: raw_input_contents by index; parameters read as Triton's gRPC does", () => {
  const { request: parsed, emptyFinalResponse } = inferRequestFromGrpc(
    signature,
    request({
      id: "r1",
      inputs: [{ name: "A", datatype: "INT8", shape: [2n] }],
      rawInputContents: [new Uint8Array([7, 8])],
      outputs: [{ name: "Y" }],
      parameters: {
        sequence_id: { parameterChoice: { case: "int64Param", value: 42n } },
        sequence_start: { parameterChoice: { case: "boolParam", value: true } },
        priority: { parameterChoice: { case: "uint64Param", value: 2n } },
        timeout: { parameterChoice: { case: "int64Param", value: 5000n } },
        triton_enable_empty_final_response: { parameterChoice: { case: "boolParam", value: true } },
        custom: { parameterChoice: { case: "doubleParam", value: 0.5 } },
      },
    }),
  );
  assertEquals(parsed.id, "r1");
  assertEquals([...parsed.inputs[0].data], [7, 8]);
  assertEquals(parsed.requestedOutputs, ["Y"]);
  assertEquals([parsed.correlationId, parsed.flags, parsed.priority, parsed.timeoutUs], [
    42n,
    1,
    2,
    5000n,
  ]);
  assertEquals([...parsed.parameters], [["custom", 0.5]]);
  assertEquals(emptyFinalResponse, true);
});

Deno.test("grpc infer: malformed requests are refused with Triton's wording", () => {
  const a = { name: "A", datatype: "INT8", shape: [2n] };
  invalid({ inputs: [a] }, "unable to find data for input tensor 'A' for model 'm' in request.");
  invalid(
    {
      inputs: [{ ...a, contents: { intContents: [1, 2] } }],
      rawInputContents: [new Uint8Array(2)],
    },
    "contents field must not be specified when using raw_input_contents for 'A'",
  );
  invalid(
    { inputs: [{ ...a, contents: { fp32Contents: [1, 2] } }] },
    "unexpected explicit tensor data for input tensor 'A' for model 'm' of type 'FP32', " +
      "expected datatype 'INT8'",
  );
  invalid(
    { inputs: [{ ...a, contents: { intContents: [1], int64Contents: [1n] } }] },
    "binary data was already supplied",
  );
  invalid({ inputs: [a], rawInputContents: [new Uint8Array(3)] }, "Expected 2, got 3");
  invalid(
    { inputs: [a, a], rawInputContents: [new Uint8Array(2)] },
    "expected 2 entries in raw_input_contents",
  );
  invalid(
    {
      inputs: [a],
      rawInputContents: [new Uint8Array(2)],
      parameters: { sequence_start: { parameterChoice: { case: "int64Param", value: 1n } } },
    },
    "invalid value type for 'sequence_start' parameter, expected bool_param.",
  );
  invalid(
    {
      inputs: [a],
      rawInputContents: [new Uint8Array(2)],
      parameters: { triton_other: { parameterChoice: { case: "boolParam", value: true } } },
    },
    "parameter keys starting with 'triton_' are reserved for Triton usage",
  );
  invalid(
    { inputs: [{ ...a, datatype: "FP32" }], rawInputContents: [new Uint8Array(8)] },
    "inference input 'A' data-type is 'FP32', but model 'm' expects 'INT8'",
  );
});

Deno.test("grpc infer: a response carries each output's bytes in raw_output_contents", () => {
  const bytes = new Uint8Array(new Int32Array([3, -4]).buffer);
  const response = inferResponseToGrpc({
    id: "7",
    model: "m",
    version: 2,
    parameters: { n: 3, big: 1n << 63n, text: "t", flag: true, ratio: 0.25 },
    outputs: [{
      name: "Y",
      datatype: "INT32",
      shape: [2],
      byteSize: 8,
      read: (destination) => destination.set(bytes),
    }],
  }, { triton_final_response: true });
  assertEquals([response.id, response.modelName, response.modelVersion], ["7", "m", "2"]);
  assertEquals(response.outputs.map((o) => [o.name, o.datatype, o.shape]), [["Y", "INT32", [2n]]]);
  assertEquals([...response.rawOutputContents[0]], [...bytes]);
  const kinds = Object.fromEntries(
    Object.entries(response.parameters).map(([key, p]) => [key, p.parameterChoice.case]),
  );
  assertEquals(kinds, {
    n: "int64Param",
    big: "uint64Param",
    text: "stringParam",
    flag: "boolParam",
    ratio: "doubleParam",
    triton_final_response: "boolParam",
  });
});

Deno.test("grpc status: Triton's error codes map as its gRPC frontend maps them", () => {
  assertEquals(grpcStatusFromErrorCode(ErrorCode.INVALID_ARG), GrpcStatus.INVALID_ARGUMENT);
  assertEquals(grpcStatusFromErrorCode(ErrorCode.UNSUPPORTED), GrpcStatus.UNIMPLEMENTED);
  assertEquals(grpcStatusFromErrorCode(ErrorCode.NOT_FOUND), GrpcStatus.NOT_FOUND);
  assertEquals(grpcStatusFromErrorCode(ErrorCode.UNAVAILABLE), GrpcStatus.UNAVAILABLE);
  assertEquals(grpcStatusFromErrorCode(ErrorCode.CANCELLED), GrpcStatus.CANCELLED);
  assertEquals(callError(new Error("x")), { code: GrpcStatus.INTERNAL, details: "x" });
});

Deno.test("grpc versions: empty is the latest, digits a version, anything else refused", () => {
  assertEquals(parseVersion(""), undefined);
  assertEquals(parseVersion("3"), 3);
  const error = assertThrows(() => parseVersion("-1"), ServeError);
  assertEquals(error.code, ErrorCode.INVALID_ARG);
});
