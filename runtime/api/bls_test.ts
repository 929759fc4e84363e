import {
  assert,
  assertEquals,
  assertStrictEquals,
  assertStringIncludes,
  assertThrows,
} from "./_test_assert.ts";
import {
  type BlsCall,
  BlsRequest,
  type BlsResponse,
  type BlsResponseHandler,
  type BlsTransport,
  type BlsWireRequest,
  type BlsWireResponse,
  type ModelLoadWire,
  models,
  type ModelUnloadWire,
  setBlsTransport,
} from "./bls.ts";
import { ErrorCode, TritonError } from "./error.ts";
import { Tensor } from "./tensor.ts";

/** A transport that records calls and lets the test answer them. */
class FakeTransport implements BlsTransport {
  readonly requests: BlsWireRequest[] = [];
  readonly handlers: BlsResponseHandler[] = [];
  cancels = 0;
  /** Run inside infer(), before it returns (to answer synchronously). */
  onInfer: ((respond: BlsResponseHandler) => void) | undefined;
  inferError: unknown;
  readonly control: string[] = [];
  ready = true;
  controlError: unknown;

  infer(request: BlsWireRequest, onResponse: BlsResponseHandler): BlsCall {
    if (this.inferError !== undefined) throw this.inferError;
    this.requests.push(request);
    this.handlers.push(onResponse);
    this.onInfer?.(onResponse);
    return { cancel: () => this.cancels++ };
  }

  respond(response: BlsWireResponse | undefined, final: boolean, call = -1): void {
    this.handlers.at(call)?.(response, final);
  }

  readonly loadOptions: (ModelLoadWire | undefined)[] = [];
  readonly unloadOptions: (ModelUnloadWire | undefined)[] = [];

  loadModel(name: string, options?: ModelLoadWire): Promise<void> {
    this.loadOptions.push(options);
    this.control.push(`load ${name}`);
    return this.controlError === undefined ? Promise.resolve() : Promise.reject(this.controlError);
  }

  unloadModel(name: string, options?: ModelUnloadWire): Promise<void> {
    this.unloadOptions.push(options);
    this.control.push(`unload ${name}`);
    return this.controlError === undefined ? Promise.resolve() : Promise.reject(this.controlError);
  }

  isModelReady(name: string, version: number): Promise<boolean> {
    this.control.push(`ready ${name} ${version}`);
    return this.controlError === undefined
      ? Promise.resolve(this.ready)
      : Promise.reject(this.controlError);
  }
}

function withTransport(): FakeTransport {
  const transport = new FakeTransport();
  setBlsTransport(transport);
  return transport;
}

const x = new Tensor("X", "FP32", [2], [1, 2]);
const request = () => new BlsRequest({ modelName: "target", inputs: [x] });
const out = (value: number): BlsWireResponse => ({
  outputs: [new Tensor("Y", "FP32", [1], [value])],
});

/** Lets pending promise callbacks run. */
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("the wire request carries every field, checked and normalized", () => {
  const transport = withTransport();
  const allocated = new Tensor("B", "BYTES", [2], ["a", "bc"]);
  void new BlsRequest({
    modelName: "m",
    modelVersion: 3,
    inputs: [x, allocated],
    requestedOutputNames: ["Y"],
    requestId: "parent-1",
    correlationId: 42,
    flags: 3,
    timeoutMicros: 1500,
    parameters: { n: 1, s: "x" },
  }).exec();
  const wire = transport.requests[0];
  assertEquals(wire.modelName, "m");
  assertEquals(wire.modelVersion, 3);
  assertEquals(wire.requestedOutputNames, ["Y"]);
  assertEquals([wire.requestId, wire.correlationId, wire.flags, wire.timeoutMicros], [
    "parent-1",
    42n,
    3,
    1500n,
  ]);
  assertEquals(
    wire.parametersJson,
    '{"n":{"type":"INT","value":"1"},"s":{"type":"STRING","value":"x"}}',
  );
  assertEquals(wire.inputs.map((input) => [input.name, input.datatypeCode, input.shape]), [
    ["X", 11, [2]],
    ["B", 13, [2]],
  ]);
  // The data is a view of the tensor's memory, not a copy.
  assertStrictEquals(wire.inputs[0].bytes.buffer, x.data.buffer);
  assertEquals(wire.inputs[0].bytes.byteLength, 8);
  assertEquals(wire.inputs[0].arenaOffset, undefined);
  transport.respond(out(1), true);
});

Deno.test("defaults: latest version, no outputs named, no id, no timeout, no parameters", () => {
  const transport = withTransport();
  const bls = request();
  assertEquals(
    [bls.modelVersion, bls.requestedOutputNames, bls.requestId, bls.correlationId, bls.flags],
    [-1, [], "", 0n, 0],
  );
  assertEquals([bls.timeoutMicros, bls.parameters], [0n, {}]);
  assert(Object.isFrozen(bls) && Object.isFrozen(bls.inputs));
  void bls.exec();
  assertEquals(transport.requests[0].parametersJson, "");
  transport.respond(out(1), true);
  assertEquals(
    new BlsRequest({ modelName: "m", inputs: [], correlationId: "s-1" }).correlationId,
    "s-1",
  );
  assertEquals(
    new BlsRequest({ modelName: "m", inputs: [], correlationId: 2n ** 64n - 1n }).correlationId,
    2n ** 64n - 1n,
  );
});

Deno.test("BlsRequest options are checked, naming the option", () => {
  const cases: [unknown, string][] = [
    [null, "BlsRequest needs { modelName, inputs, ... }, got null"],
    [{ inputs: [] }, "BlsRequest: modelName must be a non-empty string, got undefined"],
    [{ modelName: "", inputs: [] }, "BlsRequest: modelName must be a non-empty string"],
    [{ modelName: "m", inputs: [], model: "x" }, "BlsRequest: unknown option 'model'"],
    [
      { modelName: "m", inputs: [], modelVersion: -2 },
      "BLS request to model 'm': modelVersion must be an integer >= -1 (-1: Triton chooses), got a number (-2)",
    ],
    [{ modelName: "m", inputs: [], modelVersion: 1.5 }, "modelVersion must be an integer >= -1"],
    [
      { modelName: "m" },
      "BLS request to model 'm': inputs must be an array of Tensors, got undefined",
    ],
    [
      { modelName: "m", inputs: [{ name: "X" }] },
      "BLS request to model 'm': input 0 is not a Tensor",
    ],
    [
      { modelName: "m", inputs: [x, x] },
      "BLS request to model 'm': input 'X' appears more than once",
    ],
    [
      { modelName: "m", inputs: [], requestedOutputNames: "Y" },
      "requestedOutputNames must be an array of strings, got a string",
    ],
    [
      { modelName: "m", inputs: [], requestedOutputNames: ["Y", ""] },
      "requestedOutputNames[1] must be a non-empty string",
    ],
    [
      { modelName: "m", inputs: [], requestedOutputNames: ["Y", "Y"] },
      "output 'Y' is requested more than once",
    ],
    [{ modelName: "m", inputs: [], requestId: 5 }, "requestId must be a string, got a number (5)"],
    [
      { modelName: "m", inputs: [], correlationId: -1 },
      "correlationId must be an unsigned 64-bit integer (a number or a bigint) or a string, got a number (-1)",
    ],
    [{ modelName: "m", inputs: [], correlationId: 2n ** 64n }, "correlationId must be an unsigned"],
    [{ modelName: "m", inputs: [], correlationId: 0.5 }, "correlationId must be an unsigned"],
    [
      { modelName: "m", inputs: [], flags: 4 },
      "flags must combine 1 (sequence start) and 2 (sequence end), got a number (4)",
    ],
    [{ modelName: "m", inputs: [], flags: -1 }, "flags must combine"],
    [
      { modelName: "m", inputs: [], timeoutMicros: -5 },
      "timeoutMicros must be an unsigned 64-bit integer (a number or a bigint), got a number (-5)",
    ],
    [{ modelName: "m", inputs: [], timeoutMicros: "5" }, "timeoutMicros must be an unsigned"],
    [
      { modelName: "m", inputs: [], parameters: { k: [] } },
      "BLS request to model 'm': parameter 'k' must be a string, number, bigint or boolean",
    ],
  ];
  for (const [options, message] of cases) {
    const error = assertThrows(
      () => new BlsRequest(options as never),
      TritonError,
      message,
      JSON.stringify(options, (_key, value) => typeof value === "bigint" ? `${value}n` : value),
    );
    assertEquals(error.code, ErrorCode.INVALID_ARG);
  }
});

Deno.test("exec resolves with the single response", async () => {
  const transport = withTransport();
  const pending = request().exec();
  transport.respond(
    { ...out(7), parametersJson: '{"k":{"type":"BOOL","value":"true"}}' },
    true,
  );
  const response = await pending;
  assertEquals(response.output("Y").data[0], 7);
  assertEquals(response.parameters, { k: true });
  assertEquals(response.error, undefined);
  assert(Object.isFrozen(response.outputs));
  assertEquals(transport.cancels, 0);
});

Deno.test("exec accepts a response followed by a bare final flag", async () => {
  const transport = withTransport();
  const pending = request().exec();
  transport.respond(out(1), false);
  transport.respond(undefined, true);
  assertEquals((await pending).output("Y").data[0], 1);
});

Deno.test("exec works when the transport answers before infer returns", async () => {
  const transport = withTransport();
  transport.onInfer = (respond) => respond(out(3), true);
  assertEquals((await request().exec()).output("Y").data[0], 3);
});

Deno.test("exec rejects a second response, pointing at stream(), and cancels", async () => {
  const transport = withTransport();
  const pending = request().exec();
  transport.respond(out(1), false);
  transport.respond(out(2), false);
  transport.respond(out(3), true); // ignored after the rejection
  const error = await pending.then(() => undefined, (reason: unknown) => reason);
  assert(error instanceof TritonError);
  assertEquals(error.code, ErrorCode.UNSUPPORTED);
  assertStringIncludes(error.message, "use stream() for a decoupled model");
  assertStringIncludes(error.message, "BLS request to model 'target' got more than one response");
  assertEquals(transport.cancels, 1);
});

Deno.test("exec rejects with the target's error when it has no outputs", async () => {
  const transport = withTransport();
  const pending = request().exec();
  transport.respond(
    { outputs: [], error: { code: ErrorCode.NOT_FOUND, message: "no model" } },
    true,
  );
  const error = await pending.then(() => undefined, (reason: unknown) => reason);
  assert(error instanceof TritonError);
  assertEquals([error.code, error.message], [ErrorCode.NOT_FOUND, "no model"]);

  // An error next to outputs resolves, with the error on the response.
  const partial = request().exec();
  transport.respond({ ...out(1), error: { code: 99, message: "odd" } }, true);
  const response = await partial;
  assertEquals([response.error?.code, response.error?.message], [ErrorCode.INTERNAL, "odd"]);
});

Deno.test("exec rejects when no response comes, or infer throws", async () => {
  const transport = withTransport();
  const pending = request().exec();
  transport.respond(undefined, true);
  const none = await pending.then(() => undefined, (reason: unknown) => reason);
  assert(none instanceof TritonError);
  assertEquals(none.message, "BLS request to model 'target' got no response");

  transport.inferError = new Error("model 'target' is not ready");
  const thrown = await request().exec().then(() => undefined, (reason: unknown) => reason);
  assert(thrown instanceof TritonError);
  assertEquals(thrown.code, ErrorCode.INTERNAL);
  assertEquals(thrown.message, "BLS request to model 'target': model 'target' is not ready");
  const typed = new TritonError("busy", ErrorCode.UNAVAILABLE);
  transport.inferError = typed;
  assertStrictEquals(await request().exec().catch((reason: unknown) => reason), typed);
});

Deno.test("exec with an AbortSignal: aborting cancels the call and rejects with the reason", async () => {
  const transport = withTransport();
  const controller = new AbortController();
  const pending = request().exec({ signal: controller.signal });
  const reason = new Error("user gave up");
  controller.abort(reason);
  assertStrictEquals(await pending.catch((error: unknown) => error), reason);
  assertEquals(transport.cancels, 1);
  transport.respond(out(1), true); // late responses are ignored

  // Already aborted: nothing is started.
  const before = transport.requests.length;
  const early = await request().exec({ signal: controller.signal }).catch((error: unknown) =>
    error
  );
  assertStrictEquals(early, reason);
  assertEquals(transport.requests.length, before);

  const badSignal = await request().exec({ signal: "x" } as never).catch((error: unknown) => error);
  assert(badSignal instanceof TritonError);
  assertEquals(
    badSignal.message,
    `BLS request to model 'target': signal must be an AbortSignal, got a string ("x")`,
  );
});

Deno.test("without a transport, BLS fails with UNAVAILABLE", async () => {
  setBlsTransport(undefined);
  const error = await request().exec().catch((reason: unknown) => reason);
  assert(error instanceof TritonError);
  assertEquals(error.code, ErrorCode.UNAVAILABLE);
  assertStringIncludes(error.message, "BLS is not available");
  const loadError = await models.load("m").catch((reason: unknown) => reason);
  assert(loadError instanceof TritonError && loadError.code === ErrorCode.UNAVAILABLE);
});

Deno.test("stream yields each response and ends after the final flag", async () => {
  const transport = withTransport();
  const seen: number[] = [];
  const consumer = (async () => {
    for await (const response of request().stream()) {
      seen.push(response.output("Y").data[0] as number);
    }
  })();
  await tick();
  transport.respond(out(1), false);
  transport.respond(out(2), false);
  await tick();
  transport.respond(out(3), false);
  transport.respond(undefined, true);
  await consumer;
  assertEquals(seen, [1, 2, 3]);
  assertEquals(transport.cancels, 0);
});

Deno.test("stream: breaking out cancels the call", async () => {
  const transport = withTransport();
  transport.onInfer = (respond) => {
    respond(out(1), false);
    respond(out(2), false);
  };
  const seen: number[] = [];
  for await (const response of request().stream()) {
    seen.push(response.output("Y").data[0] as number);
    break;
  }
  assertEquals(seen, [1]);
  assertEquals(transport.cancels, 1);
});

Deno.test("stream: the AbortSignal cancels the call and ends the loop with its reason", async () => {
  const transport = withTransport();
  const controller = new AbortController();
  const seen: number[] = [];
  const consumer = (async () => {
    for await (const response of request().stream({ signal: controller.signal })) {
      seen.push(response.output("Y").data[0] as number);
    }
  })();
  await tick();
  transport.respond(out(1), false);
  await tick();
  controller.abort(new Error("stop"));
  const error = await consumer.catch((reason: unknown) => reason);
  assert(error instanceof Error);
  assertEquals(error.message, "stop");
  assertEquals(seen, [1]);
  assertEquals(transport.cancels, 1);
});

Deno.test("stream: an error without outputs ends the loop with that error, after earlier ones", async () => {
  const transport = withTransport();
  transport.onInfer = (respond) => {
    respond(out(1), false);
    respond({ outputs: [], error: { code: ErrorCode.INVALID_ARG, message: "bad prompt" } }, true);
  };
  const seen: BlsResponse[] = [];
  const error = await (async () => {
    for await (const response of request().stream()) seen.push(response);
  })().catch((reason: unknown) => reason);
  assert(error instanceof TritonError);
  assertEquals([error.code, error.message], [ErrorCode.INVALID_ARG, "bad prompt"]);
  assertEquals(seen.length, 1);
  assertEquals(transport.cancels, 0, "the final flag came with the error: nothing to cancel");
});

Deno.test("stream: a non-final error cancels the rest", async () => {
  const transport = withTransport();
  transport.onInfer = (respond) => {
    respond({ outputs: [], error: { code: ErrorCode.INTERNAL, message: "crashed" } }, false);
  };
  const error = await (async () => {
    for await (const _ of request().stream()) { /* nothing arrives */ }
  })().catch((reason: unknown) => reason);
  assert(error instanceof TritonError && error.message === "crashed");
  assertEquals(transport.cancels, 1);
});

Deno.test("BlsResponse.output names the missing output and lists the present ones", async () => {
  const transport = withTransport();
  transport.onInfer = (respond) => respond(out(1), true);
  const response = await request().exec();
  const error = assertThrows(
    () => response.output("Z"),
    TritonError,
    "the response to the BLS request to model 'target' has no output 'Z'; its outputs are 'Y'",
  );
  assertEquals(error.code, ErrorCode.NOT_FOUND);
});

Deno.test("malformed response parameters reject the call", async () => {
  const transport = withTransport();
  transport.onInfer = (respond) => respond({ outputs: [], parametersJson: "{" }, true);
  const error = await request().exec().catch((reason: unknown) => reason);
  assert(error instanceof TritonError);
  assertStringIncludes(
    error.message,
    "the response to the BLS request to model 'target': parameters are not valid JSON",
  );
});

Deno.test("models.load / unload / isReady go through the transport", async () => {
  const transport = withTransport();
  await models.load("a");
  await models.unload("a");
  assertEquals(await models.isReady("a"), true);
  transport.ready = false;
  assertEquals(await models.isReady("a", 2), false);
  assertEquals(transport.control, ["load a", "unload a", "ready a -1", "ready a 2"]);

  transport.controlError = new Error("explicit model control mode is off");
  const error = await models.load("b").catch((reason: unknown) => reason);
  assert(error instanceof TritonError);
  assertEquals(error.message, "loading model 'b': explicit model control mode is off");

  const badName = await models.unload("").catch((reason: unknown) => reason);
  assert(badName instanceof TritonError && badName.code === ErrorCode.INVALID_ARG);
  assertEquals(badName.message, 'models.unload needs a non-empty model name, got a string ("")');
  const badVersion = await models.isReady("a", -3).catch((reason: unknown) => reason);
  assert(badVersion instanceof TritonError);
  assertStringIncludes(
    badVersion.message,
    "models.isReady('a'): modelVersion must be an integer >= -1",
  );
  setBlsTransport(undefined);
});

Deno.test("models.load carries a configuration and files; unload carries unloadDependents", async () => {
  const transport = withTransport();
  await models.load("made", {
    config: { backend: "deno", max_batch_size: 0 },
    files: { "1/model.ts": "src", "file:1/data.bin": new Uint8Array([1, 2]) },
  });
  assertEquals(transport.loadOptions.at(-1), {
    config: '{"backend":"deno","max_batch_size":0}',
    files: [
      { path: "1/model.ts", bytes: new TextEncoder().encode("src") },
      { path: "1/data.bin", bytes: new Uint8Array([1, 2]) },
    ],
  });
  await models.load("made", { config: '{"backend":"deno"}' });
  assertEquals(transport.loadOptions.at(-1), { config: '{"backend":"deno"}' });
  await models.unload("made", { unloadDependents: true });
  assertEquals(transport.unloadOptions.at(-1), { unloadDependents: true });
  setBlsTransport(undefined);
});

Deno.test("models.load and unload refuse bad options before anything is sent, naming them", async () => {
  const transport = withTransport();
  const cases: [() => Promise<void>, string][] = [
    [() => models.load("m", { files: { "1/model.ts": "x" } }), "files need a config"],
    [
      () => models.load("m", { config: "{}", files: { "../x.ts": "x" } }),
      "file '../x.ts' must be a path inside",
    ],
    [() => models.load("m", { config: "{}", files: { "/abs": "x" } }), "must be a path inside"],
    [() => models.load("m", { config: "{}", files: { "1//a": "x" } }), "must be a path inside"],
    [
      () => models.load("m", { config: "{}", files: { "1/a": 5 as never } }),
      "must be a Uint8Array or a string",
    ],
    [() => models.load("m", { config: 5 as never }), "config must be JSON text or an object"],
    [() => models.load("m", { conifg: "{}" } as never), "unknown option 'conifg'"],
    [
      () => models.unload("m", { unloadDependents: "yes" } as never),
      "unloadDependents must be a boolean",
    ],
  ];
  for (const [call, expected] of cases) {
    const error = await call().catch((reason: unknown) => reason);
    assert(error instanceof TritonError, expected);
    assertEquals(error.code, ErrorCode.INVALID_ARG);
    assertStringIncludes(error.message, expected);
  }
  assertEquals(transport.control, []);
  setBlsTransport(undefined);
});
