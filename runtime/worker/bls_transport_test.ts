import { assert, assertEquals, assertStringIncludes } from "../api/_test_assert.ts";
import { ErrorCode, TritonError } from "../api/error.ts";
import type { BlsWireRequest, BlsWireResponse } from "../api/internal.ts";
import { Tensor } from "../api/tensor.ts";
import { BumpAllocator } from "../wire/arena_allocator.ts";
import {
  BLS_REQUEST,
  CONTROL_OP,
  CONTROL_REQUEST,
  DATATYPE,
  ERROR_CODE,
  MSG,
  RECORD_FLAG,
  RING,
} from "../wire/layout.ts";
import { writeResult } from "../wire/batch_codec.ts";
import { atomicsWaiter, Ring, type WireRecord } from "../wire/ring.ts";
import { StubArena } from "../wire/stub_arena.ts";
import { WorkerBlsTransport } from "./bls_transport.ts";
import { Inbox } from "./inbox.ts";

const HALF = 1 << 16;

/** A Worker's view of a parent played by the test. */
function setUp() {
  const arena = new ArrayBuffer(2 * HALF);
  const toStub = new Ring(new SharedArrayBuffer(RING.SIZE), 0, atomicsWaiter);
  const toParent = new Ring(new SharedArrayBuffer(RING.SIZE), 0, atomicsWaiter);
  const stubArena = new StubArena({ arena, base: HALF, size: HALF, parentDone: () => 0 });
  const inbox = new Inbox(toStub);
  const busy: boolean[] = [];
  const transport = new WorkerBlsTransport({
    arena,
    stubArena,
    inbox,
    toParent,
    setBusy: (value) => busy.push(value),
  });
  // The parent's half: where the test writes answers.
  const parentHalf = new BumpAllocator({ arena, start: 0, arenaSize: () => HALF });
  const answer = (id: bigint, flags: number, response?: Parameters<typeof writeResult>[1][0]) => {
    let offset = 0;
    let length = 0;
    if (response !== undefined) ({ offset, length } = writeResult(parentHalf, [response]));
    toStub.push({ kind: MSG.BLS_RESPONSE, flags, aux: 0, id, offset, length });
  };
  return { arena, toStub, toParent, stubArena, inbox, busy, transport, answer, parentHalf };
}

function wireRequest(modelName = "add_sub"): BlsWireRequest {
  return {
    modelName,
    modelVersion: -1,
    inputs: [{
      name: "X",
      datatypeCode: DATATYPE.FP32,
      shape: [2],
      bytes: new Uint8Array(new Float32Array([1, 2]).buffer),
      arenaOffset: undefined,
    }],
    requestedOutputNames: [],
    requestId: "r",
    correlationId: 0n,
    flags: 0,
    timeoutMicros: 0n,
    parametersJson: '{"n":{"type":"INT","value":"3"}}',
  };
}

/** Lets the inbox's reader take what was pushed. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

Deno.test("BLS transport: a request goes out, its responses come back copied, FINAL frees it", async () => {
  const { arena, toParent, stubArena, busy, transport, answer } = setUp();
  const got: [BlsWireResponse | undefined, boolean][] = [];
  transport.infer(wireRequest(), (response, final) => got.push([response, final]));
  const sent = toParent.tryPop() as WireRecord;
  assertEquals([sent.kind, sent.id], [MSG.BLS_REQUEST, 1n]);
  const name = new DataView(arena, sent.offset + BLS_REQUEST.MODEL_NAME);
  const nameAt = Number(name.getBigUint64(0, true));
  assertEquals(
    new TextDecoder().decode(new Uint8Array(arena, nameAt, name.getUint32(8, true))),
    "add_sub",
  );
  assert(stubArena.held > 0, "the request's block is held until FINAL");
  assertEquals(busy, [true]);
  assertEquals(transport.inFlight, 1);

  answer(1n, 0, {
    ok: true,
    outputs: [{
      name: "Y",
      datatypeCode: DATATYPE.INT32,
      shape: [1],
      bytes: new Uint8Array(new Int32Array([7]).buffer),
    }],
    parameters: '{"k":{"type":"STRING","value":"v"}}',
  });
  answer(1n, RECORD_FLAG.FINAL);
  await settle(); // the held inbox reads on its own
  assertEquals(got.map(([, final]) => final), [false, true]);
  const [first] = got[0];
  assert(first !== undefined);
  const tensor = first.outputs[0] as Tensor<"INT32">;
  new Uint8Array(arena).fill(0, 0, HALF); // the parent reuses its half
  assertEquals(Array.from(tensor.data), [7], "outputs are the Worker's own copy");
  // The wire form as the parent wrote it: the model API decodes it, once.
  assertEquals(first.parametersJson, '{"k":{"type":"STRING","value":"v"}}');
  assertEquals(got[1][0], undefined, "FINAL alone");
  assertEquals(stubArena.held, 0, "the request's block is free after FINAL");
  assertEquals(busy, [true, false]);
  assertEquals(transport.inFlight, 0);
});

Deno.test("BLS transport: cancel is sent once, and not after FINAL; an error response passes", async () => {
  const { toParent, transport, answer } = setUp();
  const got: (BlsWireResponse | undefined)[] = [];
  const call = transport.infer(wireRequest(), (response) => got.push(response));
  toParent.tryPop();
  call.cancel();
  call.cancel();
  const cancel = toParent.tryPop() as WireRecord;
  assertEquals([cancel.kind, cancel.id], [MSG.BLS_CANCEL, 1n]);
  assertEquals(toParent.tryPop(), undefined);
  answer(1n, RECORD_FLAG.FINAL, { ok: false, code: ERROR_CODE.CANCELLED, message: "cancelled" });
  await settle();
  assertEquals(got[0]?.error, { code: ERROR_CODE.CANCELLED, message: "cancelled" });
  call.cancel();
  assertEquals(toParent.tryPop(), undefined);
});

Deno.test("BLS transport: model control resolves with the parent's text or rejects with its error", async () => {
  const { arena, toParent, toStub, transport, parentHalf } = setUp();
  const done = (id: bigint, aux: number, text: string) => {
    const bytes = new TextEncoder().encode(text);
    const offset = parentHalf.reserve(bytes.byteLength);
    new Uint8Array(arena, offset, bytes.byteLength).set(bytes);
    toStub.push({ kind: MSG.CONTROL_DONE, flags: 0, aux, id, offset, length: bytes.byteLength });
  };
  const ready = transport.isModelReady("m", 2);
  const asked = toParent.tryPop() as WireRecord;
  assertEquals([asked.kind, asked.aux], [MSG.CONTROL, CONTROL_OP.IS_READY]);
  const view = new DataView(arena, asked.offset);
  assertEquals(view.getBigInt64(CONTROL_REQUEST.MODEL_VERSION, true), 2n);
  done(asked.id, 0, "true");
  assertEquals(await ready, true);

  const load = transport.loadModel("m");
  const loading = toParent.tryPop() as WireRecord;
  assertEquals(loading.aux, CONTROL_OP.LOAD);
  done(loading.id, ErrorCode.UNAVAILABLE, "cannot load model 'm': explicit mode only");
  try {
    await load;
    throw new Error("the load should have failed");
  } catch (error) {
    assert(error instanceof TritonError);
    assertEquals(error.code, ErrorCode.UNAVAILABLE);
    assertStringIncludes(error.message, "explicit mode only");
  }
  assertEquals(transport.inFlight, 0);
});

Deno.test("BLS transport: a request the wire cannot carry fails at once and holds nothing", () => {
  const { toParent, stubArena, transport } = setUp();
  try {
    transport.infer({ ...wireRequest(), requestId: "a\0b" }, () => {});
    throw new Error("accepted a NUL in the request id");
  } catch (error) {
    assert(error instanceof TritonError, String(error));
    assertEquals(error.code, ErrorCode.INVALID_ARG);
    assertStringIncludes(error.message, "BLS request to model 'add_sub'");
  }
  assertEquals(toParent.tryPop(), undefined);
  assertEquals(stubArena.held, 0);
  assertEquals(transport.inFlight, 0);
});
