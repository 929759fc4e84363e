import { type ModelConfig, parseModelConfigText } from "../model_config/mod.ts";
import { assert, assertEquals, assertStringIncludes } from "./_test_assert.ts";
import { type CheckedResponse, checkResponse } from "./check_response.ts";
import { ErrorCode, TritonError } from "./error.ts";
import { InferenceResponse } from "./response.ts";
import { Tensor } from "./tensor.ts";
import { TestArena, testRequest } from "./test_support.ts";

const ADD_SUB = parseModelConfigText(`
  name: "add_sub"
  output [
    { name: "OUTPUT0" data_type: TYPE_FP32 dims: [4] },
    { name: "OUTPUT1" data_type: TYPE_FP32 dims: [-1] },
    { name: "TEXT" data_type: TYPE_STRING dims: [-1, 2] }
  ]
`);

const BATCHING = parseModelConfigText(`
  name: "batching"
  max_batch_size: 8
  output [
    { name: "Y" data_type: TYPE_INT32 dims: [2, -1] },
    { name: "R" data_type: TYPE_INT32 dims: [4] reshape { shape: [2, 2] } }
  ]
`);

function outputs(...tensors: Tensor[]): InferenceResponse {
  return new InferenceResponse(tensors);
}

function failed(result: CheckedResponse): { code: number; message: string } {
  assert(!result.ok, "expected the check to fail");
  return { code: result.code, message: result.message };
}

function check(response: unknown, config: ModelConfig = ADD_SUB, requested: string[] = []) {
  return checkResponse(response, config, requested);
}

Deno.test("a valid response becomes wire outputs; allocated outputs keep their arena offset", () => {
  const arena = new TestArena();
  const request = testRequest(arena, []);
  const sum = request.allocateOutput("OUTPUT0", "FP32", [4]);
  sum.data.set([1, 2, 3, 4]);
  const text = new Tensor("TEXT", "BYTES", [1, 2], ["a", "bc"]);
  const result = check(outputs(sum, text));
  assert(result.ok);
  assertEquals(result.outputs.length, 2);
  const [first, second] = result.outputs;
  assertEquals(first.name, "OUTPUT0");
  assertEquals(first.datatypeCode, 11);
  assertEquals(first.shape, [4]);
  assertEquals(first.arenaOffset, arena.allocations[0].offset);
  assertEquals(first.bytes.buffer, arena.buffer);
  assertEquals(first.bytes.byteOffset, arena.allocations[0].offset);
  assertEquals(first.bytes.byteLength, 16);
  assertEquals(second.datatypeCode, 13);
  assertEquals(second.arenaOffset, undefined);
  assertEquals(Array.from(second.bytes), [1, 0, 0, 0, 97, 2, 0, 0, 0, 98, 99]);
  // The shape is a fresh, mutable copy.
  first.shape.push(1);
  assertEquals(sum.shape, [4]);
});

Deno.test("outputs not requested are dropped after being checked", () => {
  const a = new Tensor("OUTPUT0", "FP32", [4], [1, 2, 3, 4]);
  const b = new Tensor("OUTPUT1", "FP32", [2], [5, 6]);
  const result = check(outputs(a, b), ADD_SUB, ["OUTPUT1"]);
  assert(result.ok);
  assertEquals(result.outputs.map((output) => output.name), ["OUTPUT1"]);

  const wrong = new Tensor("OUTPUT0", "FP32", [3], [1, 2, 3]);
  assertEquals(
    failed(check(outputs(wrong, b), ADD_SUB, ["OUTPUT1"])).message,
    "output 'OUTPUT0' has shape [3] but config.pbtxt declares dims [4]",
  );
});

Deno.test("a value that is not an InferenceResponse is described", () => {
  const cases: [unknown, string][] = [
    [undefined, "got undefined"],
    [null, "got null"],
    [{ outputs: [] }, "got an object that is not one of this API's classes"],
    [[], "got an array"],
    [Promise.resolve(), "got a Promise (missing await?)"],
    [42, "got a number (42)"],
  ];
  for (const [value, ending] of cases) {
    const { code, message } = failed(check(value));
    assertEquals(code, ErrorCode.INTERNAL);
    assertEquals(
      message,
      `execute must return an InferenceResponse for each request, ${ending}`,
    );
  }
});

Deno.test("hostile objects never make checkResponse throw", () => {
  const trap = () => {
    throw new Error("trap ran");
  };
  const proxy = new Proxy({}, {
    get: trap,
    has: trap,
    getPrototypeOf: trap,
    ownKeys: trap,
    getOwnPropertyDescriptor: trap,
  });
  assertStringIncludes(failed(check(proxy)).message, "execute must return an InferenceResponse");

  const response = outputs(new Tensor("OUTPUT1", "FP32", [1], [1]));
  Object.defineProperty(response, "outputs", { get: trap });
  assert(check(response).ok);

  const brokenError = new TritonError("x", ErrorCode.INVALID_ARG);
  Object.defineProperty(brokenError, "message", { get: trap });
  assertEquals(failed(check(new InferenceResponse([], brokenError))), {
    code: ErrorCode.INTERNAL,
    message: "(the error's message could not be read)",
  });
});

Deno.test("patched prototypes do not change what checkResponse reads", () => {
  const typedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype);
  const original = Object.getOwnPropertyDescriptor(typedArrayPrototype, "byteLength");
  assert(original !== undefined);
  const originalName = Object.getOwnPropertyDescriptor(Tensor.prototype, "name");
  assert(originalName !== undefined);
  const tensor = new Tensor("OUTPUT0", "FP32", [4], [1, 2, 3, 4]);
  try {
    Object.defineProperty(typedArrayPrototype, "byteLength", { get: () => 3, configurable: true });
    Object.defineProperty(Tensor.prototype, "name", { get: () => "OUTPUT9", configurable: true });
    const result = check(outputs(tensor));
    assert(result.ok);
    assertEquals(result.outputs[0].name, "OUTPUT0");
    assertEquals(original.get?.call(result.outputs[0].bytes), 16);
  } finally {
    Object.defineProperty(typedArrayPrototype, "byteLength", original);
    Object.defineProperty(Tensor.prototype, "name", originalName);
  }
});

Deno.test("a response carrying an error fails with its code and message", () => {
  const withCode = new InferenceResponse(
    [new Tensor("OUTPUT1", "FP32", [1], [1])],
    new TritonError("bad input", ErrorCode.INVALID_ARG),
  );
  assertEquals(failed(check(withCode)), { code: ErrorCode.INVALID_ARG, message: "bad input" });
  assertEquals(failed(check(new InferenceResponse([], new Error("plain")))), {
    code: ErrorCode.INTERNAL,
    message: "plain",
  });
  const oddCode = new TritonError("odd", 99 as ErrorCode);
  assertEquals(failed(check(new InferenceResponse([], oddCode))).code, ErrorCode.INTERNAL);
  assertEquals(
    failed(check(new InferenceResponse([], new TritonError("gone", ErrorCode.CANCELLED)))).code,
    ErrorCode.CANCELLED,
  );
});

Deno.test("long error messages are cut to the wire limit on a character boundary", () => {
  const long = "é".repeat(40000); // 80000 UTF-8 bytes
  const { message } = failed(check(new InferenceResponse([], new TritonError(long))));
  const bytes = new TextEncoder().encode(message);
  assert(bytes.byteLength <= 65536, `${bytes.byteLength} bytes`);
  assert(bytes.byteLength >= 65530, `${bytes.byteLength} bytes`);
  assert(message.endsWith("é..."));
  assertEquals(message.includes("\ufffd"), false);
});

Deno.test("each output error names the output and the config", () => {
  const ok = new Tensor("OUTPUT1", "FP32", [2], [1, 2]);
  const cases: [ModelConfig, Tensor[], string][] = [
    [
      ADD_SUB,
      [ok, new Tensor("OUTPUT9", "FP32", [1], [1])],
      "output 'OUTPUT9' is not declared in config.pbtxt; declared outputs: " +
      "'OUTPUT0', 'OUTPUT1', 'TEXT'",
    ],
    [
      parseModelConfigText('name: "none"'),
      [ok],
      "output 'OUTPUT1' is not declared in config.pbtxt; declared outputs: (none)",
    ],
    [ADD_SUB, [ok, ok], "output 'OUTPUT1' appears more than once in the response"],
    [
      ADD_SUB,
      [new Tensor("OUTPUT0", "FP64", [4], [1, 2, 3, 4])],
      "output 'OUTPUT0' has datatype FP64 but config.pbtxt declares TYPE_FP32",
    ],
    [
      ADD_SUB,
      [new Tensor("TEXT", "UINT8", [1, 2], [1, 2])],
      "output 'TEXT' has datatype UINT8 but config.pbtxt declares TYPE_STRING",
    ],
    [
      ADD_SUB,
      [new Tensor("OUTPUT0", "FP32", [2, 2], [1, 2, 3, 4])],
      "output 'OUTPUT0' has shape [2,2] but config.pbtxt declares dims [4]",
    ],
    [
      ADD_SUB,
      [new Tensor("TEXT", "BYTES", [2], ["a", "b"])],
      "output 'TEXT' has shape [2] but config.pbtxt declares dims [-1,2]",
    ],
    [
      BATCHING,
      [new Tensor("Y", "INT32", [9, 2, 1], new Int32Array(18))],
      "output 'Y' has batch dimension 9 but max_batch_size is 8",
    ],
    [
      BATCHING,
      [new Tensor("Y", "INT32", [2, 1], [1, 2])],
      "output 'Y' has shape [2,1] but config.pbtxt declares dims [2,-1], " +
      "after a leading batch dimension (max_batch_size is 8)",
    ],
    [
      BATCHING,
      [new Tensor("R", "INT32", [1, 3], [1, 2, 3])],
      "output 'R' has shape [1,3] but config.pbtxt declares dims [4] (or reshape [2,2]), " +
      "after a leading batch dimension (max_batch_size is 8)",
    ],
  ];
  for (const [config, tensors, message] of cases) {
    assertEquals(failed(check(outputs(...tensors), config)), {
      code: ErrorCode.INTERNAL,
      message,
    });
  }
});

Deno.test("wildcards, batch dimensions and reshape are accepted", () => {
  const accepted: [ModelConfig, Tensor][] = [
    [ADD_SUB, new Tensor("OUTPUT1", "FP32", [0], [])],
    [ADD_SUB, new Tensor("TEXT", "BYTES", [3, 2], ["", "", "", "", "", ""])],
    [BATCHING, new Tensor("Y", "INT32", [8, 2, 3], new Int32Array(48))],
    [BATCHING, new Tensor("Y", "INT32", [0, 2, 3], [])],
    [BATCHING, new Tensor("R", "INT32", [1, 4], [1, 2, 3, 4])],
    [BATCHING, new Tensor("R", "INT32", [1, 2, 2], [1, 2, 3, 4])],
  ];
  for (const [config, tensor] of accepted) {
    const result = check(outputs(tensor), config);
    assert(result.ok, `${tensor.name} ${tensor.shape}: ${JSON.stringify(result)}`);
  }
});

Deno.test("data changed after construction is caught", () => {
  const floats = new Float32Array(4);
  const detached = new Tensor("OUTPUT0", "FP32", [4], floats);
  floats.buffer.transfer();
  assertEquals(
    failed(check(outputs(detached))).message,
    "output 'OUTPUT0' has 0 bytes of data but its shape [4] needs 16 " +
      "(was its buffer transferred or resized?)",
  );

  const text = new Tensor("TEXT", "BYTES", [1, 2], ["ab", "c"]);
  text.data[0] = 200; // the first length prefix now runs past the end
  assertEquals(
    failed(check(outputs(text))).message,
    "output 'TEXT' has malformed BYTES data: element 0 declares 200 bytes but only 7 remain",
  );

  const merged = new Tensor("TEXT", "BYTES", [1, 2], ["ab", "c"]);
  merged.data[0] = 7; // the first element now swallows the second
  assertEquals(
    failed(check(outputs(merged))).message,
    "output 'TEXT' holds 1 BYTES elements but its shape [1,2] needs 2 (was its data changed?)",
  );
});
