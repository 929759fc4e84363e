/**
 * A BLS call's work in the model's Worker, without any IPC: the model's
 * `await new BlsRequest({...}).exec()` (the request written into the
 * stub's half, a BLS_REQUEST on `to_parent`), the parent's side played
 * here (a one-response answer with two FP32 outputs written in the
 * parent's half, BLS_RESPONSE FINAL on `to_stub`), and the answer read,
 * copied and handed to the model. `deno bench` prints the time per call;
 * in Triton it comes on top of the hops (tests/bench/bls_trace.ts).
 *
 * Usage: deno bench -A tests/bench/bls_worker_bench.ts
 *
 * @module
 */

import { BlsRequest, Tensor } from "../../runtime/api/mod.ts";
import { setBlsTransport } from "../../runtime/api/internal.ts";
import { DATATYPE, MSG, RECORD_FLAG, RING } from "../../runtime/wire/layout.ts";
import { writeResult } from "../../runtime/wire/batch_codec.ts";
import { atomicsWaiter, Ring } from "../../runtime/wire/ring.ts";
import { StubArena } from "../../runtime/wire/stub_arena.ts";
import { WorkerBlsTransport } from "../../runtime/worker/bls_transport.ts";
import { Inbox } from "../../runtime/worker/inbox.ts";

const HALF = 1 << 20;
const arena = new ArrayBuffer(2 * HALF);
const rings = new SharedArrayBuffer(2 * RING.SIZE);
const toStub = new Ring(rings, 0, atomicsWaiter);
const toParent = new Ring(rings, RING.SIZE, atomicsWaiter);
const stubArena = new StubArena({
  arena,
  base: HALF,
  size: HALF,
  parentDone: () => toParent.peerDone(),
});
const inbox = new Inbox(toStub);
setBlsTransport(
  new WorkerBlsTransport({ arena, stubArena, inbox, toParent, setBusy: () => {} }),
);

// The parent's answer, written once: OUTPUT0 and OUTPUT1, 4 FP32 each.
let parentAt = 0;
const answer = writeResult(
  {
    arena,
    reserve: (bytes) => {
      const at = Math.ceil(parentAt / 64) * 64;
      parentAt = at + bytes;
      return at;
    },
    canReference: () => false,
  },
  [{
    ok: true,
    outputs: ["OUTPUT0", "OUTPUT1"].map((name) => ({
      name,
      datatypeCode: DATATYPE.FP32,
      shape: [4],
      bytes: new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer),
    })),
  }],
);

const a = new Tensor("INPUT0", "FP32", [4], new Float32Array([1, 2, 3, 4]));
const b = new Tensor("INPUT1", "FP32", [4], new Float32Array([5, 6, 7, 8]));

/** The parent: takes the BLS_REQUEST, answers FINAL, marks it done. */
function parentAnswers(): void {
  const request = toParent.tryPop();
  if (request?.kind !== MSG.BLS_REQUEST) {
    throw new Error(`expected BLS_REQUEST, got ${request?.kind}`);
  }
  toParent.markDone();
  toStub.push({
    kind: MSG.BLS_RESPONSE,
    flags: RECORD_FLAG.FINAL,
    aux: 0,
    id: request.id,
    offset: answer.offset,
    length: answer.length,
  });
}

Deno.bench("Worker: one BLS call's own work (exec(), request written, answer read)", async () => {
  const call = new BlsRequest({
    modelName: "add_sub",
    inputs: [a, b],
    requestedOutputNames: ["OUTPUT0", "OUTPUT1"],
    requestId: "",
  }).exec();
  parentAnswers();
  inbox.drain();
  const result = await call;
  if (result.outputs.length !== 2) throw new Error("no outputs");
});
