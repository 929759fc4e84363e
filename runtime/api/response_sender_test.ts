import { assert, assertEquals, assertStrictEquals, assertThrows } from "./_test_assert.ts";
import { parseModelConfigText } from "../model_config/mod.ts";
import { type CheckedResponse, checkResponse } from "./check_response.ts";
import { ErrorCode, TritonError } from "./error.ts";
import { makeRequest, makeResponseSender } from "./internal.ts";
import { InferenceResponse } from "./response.ts";
import type { ResponseSender, ResponseSenderInit } from "./response_sender.ts";
import { Tensor } from "./tensor.ts";
import { TestArena } from "./test_support.ts";

interface Sent {
  index: number;
  response: InferenceResponse | undefined;
  final: boolean;
  checked: CheckedResponse | undefined;
}

const config = parseModelConfigText('output [{ name: "Y" data_type: TYPE_INT32 dims: [1] }]');

function sender(overrides: Partial<ResponseSenderInit> = {}): {
  sender: ResponseSender;
  sent: Sent[];
} {
  const sent: Sent[] = [];
  const made = makeResponseSender({
    requestId: "req-1",
    requestIndex: 2,
    transport: (index, response, final, checked) => sent.push({ index, response, final, checked }),
    isCancelled: () => false,
    ...overrides,
  });
  return { sender: made, sent };
}

const y = (value: number) => new InferenceResponse([new Tensor("Y", "INT32", [1], [value])]);

Deno.test("send delivers responses in order, then final closes the sender", () => {
  const { sender: s, sent } = sender();
  const first = y(1);
  const second = y(2);
  assertEquals(s.closed, false);
  s.send(first);
  s.send(second, { final: false });
  s.send(y(3), { final: true });
  assertEquals(s.closed, true);
  assertEquals(sent.map((item) => [item.index, item.final]), [[2, false], [2, false], [2, true]]);
  assertStrictEquals(sent[0].response, first);
  assertStrictEquals(sent[1].response, second);
});

Deno.test("close sends only the final flag", () => {
  const { sender: s, sent } = sender();
  s.send(y(1));
  s.close();
  assertEquals(sent.map((item) => [item.response === undefined, item.final]), [
    [false, false],
    [true, true],
  ]);
  assert(s.closed);
});

Deno.test("sending after the final response throws naming the request", () => {
  const { sender: s, sent } = sender();
  s.close();
  for (
    const attempt of [() => s.send(y(1)), () => s.close(), () => s.send(y(1), { final: true })]
  ) {
    const error = assertThrows(
      attempt,
      TritonError,
      "request 'req-1': the response sender is closed (a final response was sent); " +
        "no more responses can be sent",
    );
    assertEquals(error.code, ErrorCode.INVALID_ARG);
  }
  assertEquals(sent.length, 1);
  const unnamed = sender({ requestId: "" }).sender;
  unnamed.close();
  assertThrows(() => unnamed.close(), TritonError, "request 2 of the batch (no id): the response");
});

Deno.test("send checks its arguments", () => {
  const { sender: s, sent } = sender();
  const cases: [() => void, string][] = [
    [() => s.send(), "request 'req-1': send() needs a response unless it is { final: true }"],
    [() => s.send(undefined, { final: false }), "send() needs a response unless"],
    [
      () => s.send({ outputs: [] } as never),
      "request 'req-1': send() takes an InferenceResponse, got an object that is not one of",
    ],
    [
      () => s.send(y(1), { final: "yes" } as never),
      `request 'req-1': send() option 'final' must be a boolean, got a string ("yes")`,
    ],
    [
      () => s.send(y(1), { flags: 1 } as never),
      "request 'req-1': send() options may only have 'final', got 'flags'",
    ],
    [() => s.send(y(1), 1 as never), "send() options must be { final?: boolean }, got a number"],
  ];
  for (const [attempt, message] of cases) {
    assertEquals(assertThrows(attempt, TritonError, message).code, ErrorCode.INVALID_ARG);
  }
  assertEquals(sent.length, 0);
  assertEquals(s.closed, false);
});

Deno.test("with a checker, a response that does not fit the config is refused at send", () => {
  const { sender: s, sent } = sender({
    checker: (response) => checkResponse(response, config, []),
  });
  const wrong = new InferenceResponse([new Tensor("Y", "FP32", [1], [1])]);
  const error = assertThrows(
    () => s.send(wrong, { final: true }),
    TritonError,
    "request 'req-1': output 'Y' has datatype FP32 but config.pbtxt declares TYPE_INT32",
  );
  assertEquals(error.code, ErrorCode.INTERNAL);
  assertEquals([sent.length, s.closed], [0, false]);

  s.send(y(5));
  assertEquals(sent[0].checked?.ok, true);
  // A response carrying an error is sent as that error, not refused.
  s.send(new InferenceResponse([], new TritonError("bad input", ErrorCode.INVALID_ARG)), {
    final: true,
  });
  assertEquals(sent[1].checked, { ok: false, code: ErrorCode.INVALID_ARG, message: "bad input" });
  assertEquals(sent[1].final, true);
});

Deno.test("a transport failure reaches the caller and leaves the sender open", () => {
  let fail = true;
  const sent: boolean[] = [];
  const { sender: s } = sender({
    transport: (_index, _response, final) => {
      if (fail) throw new TritonError("arena full", ErrorCode.UNAVAILABLE);
      sent.push(final);
    },
  });
  assertThrows(() => s.close(), TritonError, "arena full");
  assertEquals(s.closed, false);
  fail = false;
  s.close();
  assertEquals([s.closed, sent], [true, [true]]);
});

Deno.test("isCancelled reads the injected flag each time", () => {
  let cancelled = false;
  const { sender: s } = sender({ isCancelled: () => cancelled });
  assertEquals(s.isCancelled(), false);
  cancelled = true;
  assertEquals(s.isCancelled(), true);
});

Deno.test("request.responseSender() needs a sender from the runtime, and is made once", () => {
  const base = {
    id: "r9",
    correlationId: 0n,
    flags: 0,
    inputs: [],
    requestedOutputNames: [],
    allocator: new TestArena(64),
  };
  const plain = makeRequest(base);
  const refused = assertThrows(
    () => plain.responseSender(),
    TritonError,
    "responseSender() is not available for request 'r9': the runtime gave it no sender; " +
      "execute must return its InferenceResponse",
  );
  assertEquals(refused.code, ErrorCode.UNSUPPORTED);
  assertThrows(
    () => makeRequest({ ...base, decoupled: true }).responseSender(),
    TritonError,
    "responseSender() is not available for request 'r9': the runtime gave it no sender",
  );

  let made = 0;
  const decoupled = makeRequest({
    ...base,
    decoupled: true,
    createResponseSender: () => {
      made++;
      return sender().sender;
    },
  });
  assertStrictEquals(decoupled.responseSender(), decoupled.responseSender());
  assertEquals(made, 1);
});

Deno.test("request.isCancelled() reads the injected flag; false without one", () => {
  const base = {
    id: "",
    correlationId: 0n,
    flags: 0,
    inputs: [],
    requestedOutputNames: [],
    allocator: new TestArena(64),
  };
  assertEquals(makeRequest(base).isCancelled(), false);
  let cancelled = false;
  const request = makeRequest({ ...base, isCancelled: () => cancelled });
  assertEquals(request.isCancelled(), false);
  cancelled = true;
  assertEquals(request.isCancelled(), true);
});

Deno.test("a request the server ended closes its sender: a send throws CANCELLED and sends nothing", () => {
  let ended = false;
  const { sender: s, sent } = sender({ endedByServer: () => ended });
  s.send(y(1));
  assertEquals([s.closed, sent.length], [false, 1]);
  ended = true;
  assertEquals(s.closed, true);
  const error = assertThrows(() => s.send(y(2)), TritonError);
  assertEquals(error.code, ErrorCode.CANCELLED);
  assert(error.message.includes("request 'req-1'"), error.message);
  assert(error.message.includes("deno.stream_idle_timeout_ms"), error.message);
  assertThrows(() => s.close(), TritonError);
});

Deno.test("single (not decoupled): one response then the final flag, in one send or two", () => {
  const one = sender({ single: true });
  one.sender.send(y(1), { final: true });
  assertEquals(one.sent.map((item) => [item.response !== undefined, item.final]), [[true, true]]);

  const two = sender({ single: true });
  two.sender.send(y(1));
  two.sender.close();
  assertEquals(two.sent.map((item) => [item.response !== undefined, item.final]), [
    [true, false],
    [false, true],
  ]);
  assertEquals(two.sender.responseCount, 1);
});

Deno.test("single: a second response, or the final flag before any, is refused and nothing is sent", () => {
  const early = sender({ single: true });
  const error = assertThrows(() => early.sender.close(), TritonError);
  assertEquals(error.code, ErrorCode.INVALID_ARG);
  assert(error.message.includes("must send the request's one response before the final flag"));
  assertEquals(early.sent, []);
  assertEquals(early.sender.closed, false);

  const twice = sender({ single: true });
  twice.sender.send(y(1));
  const again = assertThrows(() => twice.sender.send(y(2), { final: true }), TritonError);
  assert(again.message.includes("request 'req-1' already has its response"));
  assertEquals(twice.sent.length, 1);
});

Deno.test("a refusal from the runtime fails the send, naming the request and the reason", () => {
  let reason: string | undefined = undefined;
  const { sender: s, sent } = sender({ refusal: () => reason });
  s.send(y(1));
  reason = "its batch is over";
  const error = assertThrows(() => s.send(y(2)), TritonError);
  assertEquals(error.message, "request 'req-1': its batch is over");
  assertEquals(sent.length, 1);
});
