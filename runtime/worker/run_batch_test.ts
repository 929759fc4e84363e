import { assert, assertEquals, assertStringIncludes } from "../api/_test_assert.ts";
import { ErrorCode, InferenceResponse, TritonError } from "../api/mod.ts";
import type { InferenceRequest } from "../api/request.ts";
import { parseModelConfigText } from "../model_config/mod.ts";
import { ERROR_CODE, MSG, RESPONSE, TENSOR } from "../wire/layout.ts";
import type { WireRecord } from "../wire/ring.ts";
import type { LoadedModel } from "./load_model.ts";
import { StubArena } from "../wire/stub_arena.ts";
import { type BatchContext, runBatch as runBatchWithScope } from "./run_batch.ts";

async function runBatch(ctx: BatchContext, execute: WireRecord): Promise<WireRecord> {
  const { record, scope } = await runBatchWithScope(ctx, execute);
  scope.seal(0);
  return record;
}

// The C writer's sample batch: request 0 has INPUT0 FP32 [1,4] = [1,2,3,4]
// and asks for OUTPUT0 only; request 1 has INPUT0 INT32 [3].
const golden = await Deno.readFile(
  new URL("../../tests/wire/golden/batch_v2.bin", import.meta.url),
);
const config = parseModelConfigText(`
  name: "m"
  output [{ name: "OUTPUT0" data_type: TYPE_FP32 dims: [-1, -1] },
          { name: "OUTPUT1" data_type: TYPE_FP32 dims: [-1] }]
`);
const EXECUTE: WireRecord = { kind: MSG.EXECUTE, flags: 0, aux: 0, id: 11n, offset: 0, length: 16 };

/** Doubles INPUT0 (as FP32) into OUTPUT0 [1, n]; also sends OUTPUT1, which request 0 did not ask for. */
const doubler = {
  execute(requests: InferenceRequest[]): InferenceResponse[] {
    return requests.map((request) => {
      const input = Array.from(request.input("INPUT0").data as ArrayLike<number>, Number);
      const out = request.allocateOutput("OUTPUT0", "FP32", [1, input.length]);
      input.forEach((value, i) => (out.data[i] = 2 * value));
      const extra = request.allocateOutput("OUTPUT1", "FP32", [1]);
      return new InferenceResponse([out, extra]);
    });
  },
};

const HALF = 1 << 19;

function context(model: unknown, half = HALF): BatchContext {
  const arena = new ArrayBuffer(2 * half);
  new Uint8Array(arena).set(golden);
  let done = 0;
  const stubArena = new StubArena({ arena, base: half, size: half, parentDone: () => done++ });
  return { model: model as LoadedModel, modelName: "m", config, arena, stubArena };
}

function text(ctx: BatchContext, record: WireRecord): string {
  return new TextDecoder().decode(new Uint8Array(ctx.arena, record.offset, record.length));
}

/** Output names and FP32 values of each response. */
function outputs(ctx: BatchContext, record: WireRecord): [string, number[]][][] {
  const view = new DataView(ctx.arena);
  const u64 = (at: number) => Number(view.getBigUint64(at, true));
  const responses = u64(record.offset + 8);
  return Array.from({ length: view.getUint32(record.offset, true) }, (_, r) => {
    const at = responses + r * RESPONSE.SIZE;
    const tensors = u64(at + RESPONSE.OUTPUTS_OFFSET);
    return Array.from({ length: view.getUint32(at + RESPONSE.OUTPUT_COUNT, true) }, (_, o) => {
      const t = tensors + o * TENSOR.SIZE;
      const name = new TextDecoder().decode(
        new Uint8Array(ctx.arena, u64(t), view.getUint32(t + 8, true)),
      );
      const data = new Float32Array(ctx.arena, u64(t + TENSOR.DATA_OFFSET), u64(t + 40) / 4);
      return [name, Array.from(data)];
    });
  });
}

Deno.test("run batch: responses are checked, pruned to the requested outputs and written", async () => {
  const ctx = context(doubler);
  const reply = await runBatch(ctx, EXECUTE);
  assertEquals([reply.kind, reply.id], [MSG.RESULT, 11n]);
  assertEquals(outputs(ctx, reply), [
    [["OUTPUT0", [2, 4, 6, 8]]],
    [["OUTPUT0", [-2, 0, 14]], ["OUTPUT1", [0]]],
  ]);
});

Deno.test("run batch: everything the stub writes goes in its own half", async () => {
  const ctx = context(doubler);
  const reply = await runBatch(ctx, EXECUTE);
  assertEquals(reply.kind, MSG.RESULT);
  assert(reply.offset >= HALF, "the result is outside the stub's half");
});

Deno.test("run batch: outputs that do not fit the stub's half fail the batch with a clear error", async () => {
  const ctx = context({
    execute: (requests: InferenceRequest[]) =>
      requests.map((request) =>
        new InferenceResponse([request.allocateOutput("OUTPUT1", "FP32", [1 << 16])])
      ),
  }, 1 << 16);
  const reply = await runBatch(ctx, EXECUTE);
  assertEquals(reply.kind, MSG.ERROR);
  assertStringIncludes(text(ctx, reply), "do not fit the stub's half");
});

Deno.test("run batch: a throw fails the whole batch with message and stack", async () => {
  const ctx = context({
    execute() {
      throw new Error("boom");
    },
  });
  const reply = await runBatch(ctx, EXECUTE);
  assertEquals([reply.kind, reply.id, reply.aux], [MSG.ERROR, 11n, ERROR_CODE.INTERNAL]);
  const message = text(ctx, reply);
  assertStringIncludes(message, "Failed to process the request(s) for model 'm', message: boom\n");
  assertStringIncludes(message, "run_batch_test.ts:");
  assert(reply.offset >= HALF, "the text is outside the stub's half");
});

Deno.test("run batch: a thrown TritonError keeps its code", async () => {
  const ctx = context({
    execute: () => Promise.reject(new TritonError("no such thing", ErrorCode.NOT_FOUND)),
  });
  const reply = await runBatch(ctx, EXECUTE);
  assertEquals([reply.kind, reply.aux], [MSG.ERROR, ERROR_CODE.NOT_FOUND]);
});

Deno.test("run batch: the wrong number of responses fails the batch clearly", async () => {
  for (
    const [returned, expected] of [
      [[], "it returned 0 for 2 request(s)"],
      ["nope", "it returned string"],
    ] as const
  ) {
    const ctx = context({ execute: () => returned });
    const reply = await runBatch(ctx, EXECUTE);
    assertEquals(reply.kind, MSG.ERROR);
    assertStringIncludes(text(ctx, reply), expected);
  }
});

Deno.test("run batch: a malformed batch is an ERROR, not a crash", async () => {
  const ctx = context(doubler);
  const reply = await runBatch(ctx, { ...EXECUTE, offset: 1 << 19 });
  assertEquals(reply.kind, MSG.ERROR);
  assertStringIncludes(text(ctx, reply), "batch header");
});
