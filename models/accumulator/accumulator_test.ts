import { ErrorCode, type InferenceRequest, InferenceResponse } from "@triton/deno";
import { assert, assertEquals } from "../../runtime/api/_test_assert.ts";
import { checkResponse, loadTestModelConfig, TestArena, testRequest } from "@triton/deno/testing";
import Accumulator from "./1/model.ts";

const { config } = await loadTestModelConfig(new URL("./", import.meta.url));

const START = 1;
const END = 2;

/** A request as Triton's sequence batcher hands it over: flags plus the START and READY controls. */
function step(
  arena: TestArena,
  correlationId: bigint | string,
  value: number,
  flags = 0,
  ready = true,
): InferenceRequest {
  return testRequest(arena, [
    arena.input("INPUT0", "INT32", [1, 1], [value]),
    arena.input("START", "INT32", [1, 1], [(flags & START) !== 0 ? 1 : 0]),
    arena.input("READY", "INT32", [1, 1], [ready ? 1 : 0]),
  ], { id: `${correlationId}:${value}`, correlationId, flags });
}

/** OUTPUT0 of a successful response, after the runtime's checks. */
function sumOf(response: InferenceResponse): number {
  const checked = checkResponse(response, config, []);
  assert(checked.ok, JSON.stringify(checked));
  return (response.outputs[0].data as Int32Array)[0];
}

function errorOf(response: InferenceResponse): { code: number; message: string } {
  const checked = checkResponse(response, config, []);
  assert(!checked.ok, "expected an error response");
  return { code: checked.code, message: checked.message };
}

Deno.test("accumulator keeps one running sum per correlation id", () => {
  const arena = new TestArena();
  const model = new Accumulator();
  const sums = model.execute([
    step(arena, 7n, 1, START),
    step(arena, "7", 100, START),
  ]).map(sumOf);
  assertEquals(sums, [1, 100], 'numeric 7 and string "7" are separate sequences');
  assertEquals(model.execute([step(arena, 7n, 2), step(arena, "7", 200)]).map(sumOf), [3, 300]);
  assertEquals(model.execute([step(arena, 7n, 3, END)]).map(sumOf), [6]);
  assertEquals(model.sequenceCount, 1, "END drops the sequence's state");
  assertEquals(model.execute([step(arena, "7", 300, END)]).map(sumOf), [600]);
  assertEquals(model.sequenceCount, 0);
});

Deno.test("accumulator: START resets a running sequence; START|END is a one-request sequence", () => {
  const arena = new TestArena();
  const model = new Accumulator();
  model.execute([step(arena, 1n, 10, START), step(arena, 1n, 10)]);
  assertEquals(model.execute([step(arena, 1n, 5, START)]).map(sumOf), [5]);
  assertEquals(model.execute([step(arena, 2n, 9, START | END)]).map(sumOf), [9]);
  assertEquals(model.sequenceCount, 1);
});

Deno.test("accumulator fails a request of an unknown sequence alone, naming the id", () => {
  const arena = new TestArena();
  const model = new Accumulator();
  const [good, unknown, unknownString, ended, none] = model.execute([
    step(arena, 3n, 4, START | END),
    step(arena, 42n, 1),
    step(arena, "session-a", 1),
    step(arena, 3n, 1),
    step(arena, 0n, 1, START),
  ]);
  assertEquals(sumOf(good), 4);
  const reason = "is not running on this instance: its first request must carry START " +
    "(it never started, already ended, or the instance restarted since)";
  assertEquals(errorOf(unknown), {
    code: ErrorCode.INVALID_ARG,
    message: `sequence 42 ${reason}`,
  });
  assertEquals(errorOf(unknownString).message, `sequence "session-a" ${reason}`);
  assertEquals(errorOf(ended).message, `sequence 3 ${reason}`);
  assertEquals(
    errorOf(none).message,
    "accumulator needs a correlation id: send it through Triton's sequence batcher",
  );
});

Deno.test("accumulator: a padded slot (READY 0) changes nothing", () => {
  const arena = new TestArena();
  const model = new Accumulator();
  model.execute([step(arena, 5n, 10, START)]);
  const [padded, unknown] = model.execute([
    step(arena, 5n, 99, 0, false),
    step(arena, 0n, 1, 0, false),
  ]);
  assertEquals([sumOf(padded), sumOf(unknown)], [10, 0]);
  assertEquals(model.execute([step(arena, 5n, 1)]).map(sumOf), [11]);
});

Deno.test("accumulator wraps around like INT32", () => {
  const arena = new TestArena();
  const model = new Accumulator();
  model.execute([step(arena, 9n, 2147483647, START)]);
  assertEquals(model.execute([step(arena, 9n, 1)]).map(sumOf), [-2147483648]);
});

Deno.test("accumulator: a request holding more than one value fails alone", () => {
  const arena = new TestArena();
  const model = new Accumulator();
  const wide = testRequest(arena, [
    arena.input("INPUT0", "INT32", [1, 2], [1, 2]),
    arena.input("START", "INT32", [1, 1], [1]),
    arena.input("READY", "INT32", [1, 1], [1]),
  ], { id: "wide", correlationId: 8n, flags: START });
  const [failed, good] = model.execute([wide, step(arena, 9n, 1, START)]);
  assertEquals(errorOf(failed), {
    code: ErrorCode.INVALID_ARG,
    message: "input 'INPUT0' must hold one INT32, holds 2",
  });
  assertEquals(sumOf(good), 1);
  assertEquals(model.sequenceCount, 1);
});
