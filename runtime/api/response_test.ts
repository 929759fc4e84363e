import { assert, assertEquals, assertStrictEquals, assertThrows } from "./_test_assert.ts";
import { ErrorCode, TritonError } from "./error.ts";
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
