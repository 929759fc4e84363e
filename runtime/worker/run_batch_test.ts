import { assert, assertEquals, assertStringIncludes } from "../api/_test_assert.ts";
import { ErrorCode, InferenceResponse, TritonError } from "../api/mod.ts";
import type { InferenceRequest } from "../api/request.ts";
import { parseModelConfigText } from "../model_config/mod.ts";
import { ERROR_CODE, MSG, RESPONSE, RESPONSE_FLAG, TENSOR } from "../wire/layout.ts";
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
  new URL("../../tests/wire/golden/batch_v3.bin", import.meta.url),
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

/** Status, error code, flags and output count of each response of a RESULT. */
function statuses(ctx: BatchContext, record: WireRecord): [number, number, number, number][] {
  const view = new DataView(ctx.arena);
  const responses = Number(view.getBigUint64(record.offset + 8, true));
  return Array.from({ length: view.getUint32(record.offset, true) }, (_, r) => {
    const at = responses + r * RESPONSE.SIZE;
    return [
      view.getUint32(at + RESPONSE.STATUS, true),
      view.getUint32(at + RESPONSE.ERROR_CODE, true),
      view.getUint32(at + RESPONSE.FLAGS, true),
      view.getUint32(at + RESPONSE.OUTPUT_COUNT, true),
    ];
  });
}

Deno.test("run batch: a model that is not decoupled may answer through the response sender, even later", async () => {
  const ctx = context({
    execute(requests: InferenceRequest[]) {
      const [first, second] = requests;
      const out = first.allocateOutput("OUTPUT0", "FP32", [1, 1]);
      out.data[0] = 5;
      first.responseSender().send(new InferenceResponse([out]), { final: true });
      // The second request's one response comes after execute returned.
      const later = second.responseSender();
      setTimeout(() => {
        const value = second.allocateOutput("OUTPUT0", "FP32", [1, 1]);
        value.data[0] = 7;
        later.send(new InferenceResponse([value]));
        later.close();
      }, 20);
      return undefined;
    },
  });
  const reply = await runBatch(ctx, EXECUTE);
  assertEquals(reply.kind, MSG.RESULT);
  assertEquals(outputs(ctx, reply), [[["OUTPUT0", [5]]], [["OUTPUT0", [7]]]]);
});

Deno.test("run batch: returned and sent responses mix; a request with neither fails alone", async () => {
  const ctx = context({
    execute(requests: InferenceRequest[]) {
      requests[0].responseSender().send(new InferenceResponse([]), { final: true });
      return [undefined, new InferenceResponse([])];
    },
  });
  const mixed = await runBatch(ctx, EXECUTE);
  assertEquals(statuses(ctx, mixed), [[0, 0, 0, 0], [0, 0, 0, 0]]);

  const missing = context({ execute: () => [new InferenceResponse([]), undefined] });
  const reply = await runBatch(missing, EXECUTE);
  assertEquals(statuses(missing, reply), [[0, 0, 0, 0], [1, ErrorCode.INVALID_ARG, 0, 0]]);
  assertStringIncludes(
    outputsError(missing, reply, 1),
    "request 1 of the batch: execute returned no response for it and sent none",
  );

  const both = context({
    execute(requests: InferenceRequest[]) {
      requests[0].responseSender().send(new InferenceResponse([]), { final: true });
      return [new InferenceResponse([]), new InferenceResponse([])];
    },
  });
  const twice = await runBatch(both, EXECUTE);
  assertEquals(statuses(both, twice)[0][0], 1);
  assertStringIncludes(outputsError(both, twice, 0), "execute also returned one");
});

Deno.test("run batch: reschedule() needs iterative sequence batching", async () => {
  let message = "";
  const ctx = context({
    execute(requests: InferenceRequest[]) {
      try {
        requests[0].reschedule();
      } catch (error) {
        message = (error as TritonError).message;
      }
      return requests.map(() => new InferenceResponse([]));
    },
  });
  await runBatch(ctx, EXECUTE);
  assertStringIncludes(message, "sequence_batching { iterative_sequence: true }");
});

Deno.test("run batch: a rescheduled request has no response, flagged RESCHEDULE", async () => {
  const iterative = parseModelConfigText(`
    name: "m"
    output [{ name: "OUTPUT0" data_type: TYPE_FP32 dims: [-1, -1] }]
    sequence_batching { iterative_sequence: true }
  `);
  const ctx = {
    ...context({
      execute(requests: InferenceRequest[]) {
        requests[1].reschedule();
        return [new InferenceResponse([]), undefined];
      },
    }),
    config: iterative,
  };
  const reply = await runBatch(ctx, EXECUTE);
  assertEquals(statuses(ctx, reply), [[0, 0, 0, 0], [0, 0, RESPONSE_FLAG.RESCHEDULE, 0]]);

  // A rescheduled request that execute also answers fails alone.
  const both = {
    ...context({
      execute(requests: InferenceRequest[]) {
        requests[0].reschedule();
        return [new InferenceResponse([]), new InferenceResponse([])];
      },
    }),
    config: iterative,
  };
  const refused = await runBatch(both, EXECUTE);
  assertEquals(statuses(both, refused).map(([status, , flags]) => [status, flags]), [[1, 0], [
    0,
    0,
  ]]);
});

/** The error message of response `index` of a RESULT. */
function outputsError(ctx: BatchContext, record: WireRecord, index: number): string {
  const view = new DataView(ctx.arena);
  const at = Number(view.getBigUint64(record.offset + 8, true)) + index * RESPONSE.SIZE;
  const offset = Number(view.getBigUint64(at + RESPONSE.ERROR_MESSAGE, true));
  const length = view.getUint32(at + RESPONSE.ERROR_MESSAGE + 8, true);
  return new TextDecoder().decode(new Uint8Array(ctx.arena, offset, length));
}
