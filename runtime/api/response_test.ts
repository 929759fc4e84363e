import { assert, assertEquals, assertStrictEquals, assertThrows } from "./_test_assert.ts";
import { ErrorCode, TritonError } from "./error.ts";
import { checkParameters, parametersToWire, type ParameterValue } from "./parameters.ts";
import { InferenceResponse, snapshotResponse } from "./response.ts";
import { Tensor } from "./tensor.ts";

Deno.test("TritonError defaults to INTERNAL and is an Error", () => {
  const error = new TritonError("boom");
  assert(error instanceof Error);
  assertEquals([error.name, error.message, error.code], ["TritonError", "boom", 1]);
  assertEquals(new TritonError("x", ErrorCode.NOT_FOUND).code, 2);
  assertEquals(
    [
      ErrorCode.UNKNOWN,
      ErrorCode.INTERNAL,
      ErrorCode.NOT_FOUND,
      ErrorCode.INVALID_ARG,
      ErrorCode.UNAVAILABLE,
      ErrorCode.UNSUPPORTED,
      ErrorCode.ALREADY_EXISTS,
      ErrorCode.CANCELLED,
    ],
    [0, 1, 2, 3, 4, 5, 6, 7],
  );
});

Deno.test("InferenceResponse copies and freezes its outputs", () => {
  const tensor = new Tensor("Y", "FP32", [1], [1]);
  const list = [tensor];
  const response = new InferenceResponse(list);
  list.push(tensor);
  assertEquals(response.outputs.length, 1);
  assertStrictEquals(response.outputs[0], tensor);
  assert(Object.isFrozen(response.outputs));
  assertEquals(response.error, undefined);
  assertEquals(snapshotResponse(response)?.outputs.length, 1);
});

Deno.test("InferenceResponse rejects what is not an output list or an error", () => {
  const cases: [() => unknown, string][] = [
    [
      () => new InferenceResponse("Y" as never),
      'InferenceResponse needs an array of output tensors, got a string ("Y")',
    ],
    [
      () => new InferenceResponse([new Tensor("Y", "FP32", [1], [1]), { name: "Z" } as never]),
      "InferenceResponse output 1 is not a Tensor: got an object that is not one of this API's classes",
    ],
    [
      () => new InferenceResponse([], "failed" as never),
      'InferenceResponse error must be an Error (ideally a TritonError), got a string ("failed")',
    ],
  ];
  for (const [build, message] of cases) {
    assertEquals(assertThrows(build, TritonError, message).code, ErrorCode.INVALID_ARG);
  }
});

Deno.test("InferenceResponse takes parameters, with or without an error", () => {
  const tensor = new Tensor("Y", "FP32", [1], [1]);
  const source: Record<string, ParameterValue> = { tokens: 12, finish: "stop", big: 2n ** 40n };
  const response = new InferenceResponse([tensor], { parameters: source });
  source.tokens = 13;
  assertEquals(response.parameters, { tokens: 12, finish: "stop", big: 2n ** 40n });
  assert(Object.isFrozen(response.parameters));
  assertEquals(response.error, undefined);
  assertEquals(snapshotResponse(response)?.parameters, response.parameters);

  const failed = new InferenceResponse([], {
    error: new Error("plain"),
    parameters: { retry: false },
  });
  assertEquals([failed.error?.code, failed.error?.message], [ErrorCode.INTERNAL, "plain"]);
  assertEquals(failed.parameters, { retry: false });

  assertEquals(new InferenceResponse([]).parameters, {});
  assertEquals(new InferenceResponse([], new TritonError("x")).parameters, {});
  assertEquals(new InferenceResponse([], {}).error, undefined);
});

Deno.test("InferenceResponse refuses bad parameters and unknown options", () => {
  const cases: [() => unknown, string][] = [
    [
      () => new InferenceResponse([], { parameters: { n: 2n ** 64n } }),
      "response parameter 'n': 18446744073709551616n is outside int64",
    ],
    [
      () => new InferenceResponse([], { parameters: { "": 1 } }),
      "response parameter keys must not be empty",
    ],
    [
      () => new InferenceResponse([], { parameters: { o: {} as never } }),
      "response parameter 'o' must be a string, number, bigint or boolean",
    ],
    [
      () => new InferenceResponse([], { params: {} } as never),
      "InferenceResponse options may have 'error' and 'parameters', got 'params'",
    ],
    [
      () => new InferenceResponse([], { error: "failed" } as never),
      'InferenceResponse error must be an Error (ideally a TritonError), got a string ("failed")',
    ],
  ];
  for (const [build, message] of cases) {
    assertEquals(assertThrows(build, TritonError, message).code, ErrorCode.INVALID_ARG);
  }
});

Deno.test("response parameters encode to the wire form", () => {
  const response = new InferenceResponse([], { parameters: { n: 1, d: 0.5 } });
  assertEquals(
    parametersToWire(checkParameters(response.parameters, "response parameter")),
    '{"n":{"type":"INT","value":"1"},"d":{"type":"DOUBLE","value":"0.5"}}',
  );
});
