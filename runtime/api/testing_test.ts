import { assert, assertEquals, assertStringIncludes, assertThrows } from "./_test_assert.ts";
import { parseModelConfigText } from "../model_config/mod.ts";
import { BlsRequest, models } from "./bls.ts";
import { ErrorCode, TritonError } from "./error.ts";
import { InferenceResponse } from "./response.ts";
import { Tensor } from "./tensor.ts";
import {
  checkResponse,
  TestArena,
  testRequest,
  testRequestWithSender,
  useTestModels,
} from "./testing.ts";

const config = parseModelConfigText('output [{ name: "Y" data_type: TYPE_INT32 dims: [1] }]');
const y = (value: number) => new InferenceResponse([new Tensor("Y", "INT32", [1], [value])]);

Deno.test("testing: a request carries the id, correlation id, flags, timeout and parameters given", () => {
  const arena = new TestArena();
  const request = testRequest(arena, [arena.input("X", "INT32", [1], [5])], {
    id: "r1",
    correlationId: "s",
    flags: 3,
    timeoutMicros: 2500,
    parameters: { n: 3, big: 2n ** 60n, t: 0.5, on: true, s: "x" },
    requestedOutputNames: ["Y"],
  });
  assertEquals([request.id, request.correlationId, request.flags, request.timeoutMicros], [
    "r1",
    "s",
    3,
    2500,
  ]);
  assertEquals(request.parameters, { n: 3, big: 2n ** 60n, t: 0.5, on: true, s: "x" });
  assertEquals(request.requestedOutputNames, ["Y"]);
  // The array form of earlier versions still works.
  assertEquals(testRequest(arena, [], ["Y"], "old").id, "old");
  assertThrows(() => request.reschedule(), TritonError, "iterative_sequence");
});

Deno.test("testing: a recording sender, decoupled or not, checked against config.pbtxt", () => {
  const arena = new TestArena();
  const streaming = testRequestWithSender(arena, [], { config });
  streaming.request.responseSender().send(y(1));
  streaming.request.responseSender().send(y(2), { final: true });
  assertEquals(streaming.sent.map((item) => item.final), [false, true]);
  assertThrows(
    () =>
      testRequestWithSender(arena, [], { config }).request.responseSender().send(
        new InferenceResponse([new Tensor("Z", "INT32", [1], [1])]),
      ),
    TritonError,
    "not declared",
  );

  const single = testRequestWithSender(arena, [], { decoupled: false });
  single.request.responseSender().send(y(1));
  assertThrows(() => single.request.responseSender().send(y(2)), TritonError, "exactly one");

  const iterative = testRequestWithSender(arena, [], { reschedulable: true });
  iterative.request.reschedule();
  assertEquals(iterative.rescheduled, 1);
});

Deno.test("testing: checkResponse is the runtime's check", () => {
  assert(checkResponse(y(1), config).ok);
  const wrong = checkResponse(new InferenceResponse([new Tensor("Y", "FP32", [1], [1])]), config);
  assert(!wrong.ok);
  assertStringIncludes(wrong.message, "has datatype FP32 but config.pbtxt declares TYPE_INT32");
});

Deno.test("testing: stand-in models answer BLS calls, streams and readiness", async () => {
  const restore = useTestModels({
    double: ({ inputs, parameters }) => [
      new Tensor("Y", "INT32", [1], [2 * Number(inputs[0].data[0]) + Number(parameters.add ?? 0)]),
    ],
    words: () => [y(1), y(2), y(3)],
    broken: () => new TritonError("no such thing", ErrorCode.NOT_FOUND),
  });
  try {
    const doubled = await new BlsRequest({
      modelName: "double",
      inputs: [new Tensor("X", "INT32", [1], [20])],
      parameters: { add: 2 },
    }).exec();
    assertEquals(Array.from(doubled.output("Y").data as Int32Array), [42]);
    const streamed: number[] = [];
    for await (const response of new BlsRequest({ modelName: "words", inputs: [] }).stream()) {
      streamed.push(Number(response.output("Y").data[0]));
    }
    assertEquals(streamed, [1, 2, 3]);
    const failed = await new BlsRequest({ modelName: "broken", inputs: [] }).exec().then(
      () => undefined,
      (error: TritonError) => error,
    );
    assertEquals(failed?.code, ErrorCode.NOT_FOUND);
    const unknown = await new BlsRequest({ modelName: "nope", inputs: [] }).exec().then(
      () => undefined,
      (error: TritonError) => error,
    );
    assertStringIncludes(unknown?.message ?? "", "'nope' is not found");
    assertEquals([await models.isReady("double"), await models.isReady("nope")], [true, false]);
  } finally {
    restore();
  }
});
