/**
 * The Worker's per-batch work without any IPC: decode an EXECUTE payload
 * like the parent writes for the benchmark's identity model (one request,
 * two FP32 inputs of 4 elements, no parameters), build the requests, run the
 * model, check and write the RESULT. `deno bench` prints the time per batch;
 * in Triton this is most of what a stub spends on a small request.
 *
 * Usage: deno bench -A tests/bench/worker_path_bench.ts
 *
 * @module
 */

import { InferenceResponse, Tensor } from "../../runtime/api/mod.ts";
import type { InferenceRequest } from "../../runtime/api/request.ts";
import { parseModelConfigText } from "../../runtime/model_config/mod.ts";
import { BATCH_HEADER, DATATYPE, MSG, REQUEST, STR, TENSOR } from "../../runtime/wire/layout.ts";
import type { WireRecord } from "../../runtime/wire/ring.ts";
import { StubArena } from "../../runtime/wire/stub_arena.ts";
import type { LoadedModel } from "../../runtime/worker/load_model.ts";
import { type BatchContext, runBatch } from "../../runtime/worker/run_batch.ts";

const HALF = 1 << 20;
const arena = new ArrayBuffer(2 * HALF);
const view = new DataView(arena);
const bytes = new Uint8Array(arena);
let at = 0;
function reserve(size: number, align = 8): number {
  at = Math.ceil(at / align) * align;
  const start = at;
  at += size;
  return start;
}
function putStr(where: number, text: string): void {
  const encoded = new TextEncoder().encode(text);
  const offset = reserve(encoded.byteLength, 1);
  bytes.set(encoded, offset);
  view.setBigUint64(where + STR.OFFSET, BigInt(offset), true);
  view.setUint32(where + STR.LENGTH, encoded.byteLength, true);
}

// The payload: header, one request offset, the request, its tensors.
const header = reserve(BATCH_HEADER.SIZE);
const offsets = reserve(8);
const request = reserve(REQUEST.SIZE);
const tensors = reserve(2 * TENSOR.SIZE);
view.setUint32(header + BATCH_HEADER.REQUEST_COUNT, 1, true);
view.setBigUint64(offsets, BigInt(request), true);
putStr(request + REQUEST.ID, "");
view.setUint32(request + REQUEST.INPUT_COUNT, 2, true);
view.setBigUint64(request + REQUEST.INPUTS_OFFSET, BigInt(tensors), true);
for (let i = 0; i < 2; i++) {
  const tensor = tensors + i * TENSOR.SIZE;
  putStr(tensor + TENSOR.NAME, `INPUT${i}`);
  view.setUint32(tensor + TENSOR.DATATYPE, DATATYPE.FP32, true);
  view.setUint32(tensor + TENSOR.RANK, 1, true);
  const shape = reserve(8);
  view.setBigInt64(shape, 4n, true);
  view.setBigUint64(tensor + TENSOR.SHAPE_OFFSET, BigInt(shape), true);
  const data = reserve(16, 64);
  new Float32Array(arena, data, 4).set([1, 2, 3, 4]);
  view.setBigUint64(tensor + TENSOR.DATA_OFFSET, BigInt(data), true);
  view.setBigUint64(tensor + TENSOR.DATA_SIZE, 16n, true);
}
const used = reserve(0, 64);
view.setBigUint64(header + BATCH_HEADER.ARENA_USED, BigInt(used), true);

const config = parseModelConfigText(`
  name: "identity"
  input [{ name: "INPUT0" data_type: TYPE_FP32 dims: [-1] },
         { name: "INPUT1" data_type: TYPE_FP32 dims: [-1] }]
  output [{ name: "OUTPUT0" data_type: TYPE_FP32 dims: [-1] },
          { name: "OUTPUT1" data_type: TYPE_FP32 dims: [-1] }]
`);
/** tests/bench/models/deno_identity, inline. */
const identity = {
  execute(requests: InferenceRequest[]): InferenceResponse[] {
    return requests.map((r) => {
      const a = r.input("INPUT0", "FP32");
      const b = r.input("INPUT1", "FP32");
      return new InferenceResponse([
        new Tensor("OUTPUT0", "FP32", a.shape, a.data),
        new Tensor("OUTPUT1", "FP32", b.shape, b.data),
      ]);
    });
  },
};
let done = 0;
const stubArena = new StubArena({ arena, base: HALF, size: HALF, parentDone: () => done });
const context: BatchContext = {
  model: identity as unknown as LoadedModel,
  modelName: "identity",
  config,
  arena,
  stubArena,
};
const execute: WireRecord = {
  kind: MSG.EXECUTE,
  flags: 0,
  aux: 0,
  id: 1n,
  offset: 0,
  length: used,
};
let sequence = 0;

Deno.bench("Worker: one identity batch (decode, execute, check, write RESULT)", async () => {
  const { record, scope } = await runBatch(context, execute);
  if (record.kind !== MSG.RESULT) throw new Error(`batch failed: kind ${record.kind}`);
  scope.seal(++sequence);
  done = sequence;
});
