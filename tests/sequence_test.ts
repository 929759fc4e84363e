/**
 * End-to-end: sequence batching with models/accumulator through the test
 * host and the real backend. Each request is built the way Triton's
 * sequence batcher hands it to a backend: a correlation id (numeric or
 * string), the START/END request flags, and the control input tensors the
 * config asks for (START and READY, INT32). The model keeps its running
 * sums in the stub's memory, so a stub that restarts loses every sequence
 * in progress: the next request of such a sequence fails, naming its id,
 * until the client starts it again.
 */

import { assert, assertEquals, assertStringIncludes } from "./harness/assert.ts";
import { exampleModelDir } from "./harness/fixtures.ts";
import type { InferRequest, LoadedModel, RequestResult } from "./harness/host.ts";
import { findStubPids, isGone, waitFor } from "./harness/processes.ts";
import { withHost } from "./harness/session.ts";

const MODEL = exampleModelDir("accumulator");

/** `TRITONSERVER_RequestFlag`. */
const START = 1;
const END = 2;

/**
 * One request of a sequence as Triton's sequence batcher hands it to the
 * backend: the client's INPUT0 and the control tensors START and READY, each
 * [1, 1] (the model batches: batch dimension 1, then dims [1]). `ready`
 * false makes the null request the batcher puts in an empty slot.
 */
function sequenceRequest(
  correlationId: number | bigint | string,
  value: number,
  flags = 0,
  ready = true,
): InferRequest {
  const int32 = (name: string, element: number) => ({
    name,
    datatype: "INT32" as const,
    shape: [1, 1],
    data: new Int32Array([element]),
  });
  return {
    id: `${correlationId}+${value}`,
    correlationId,
    flags,
    inputs: [
      int32("INPUT0", value),
      int32("START", (flags & START) !== 0 ? 1 : 0),
      int32("READY", ready ? 1 : 0),
    ],
  };
}

/** OUTPUT0 of a successful request. */
function sumOf(result: RequestResult): number {
  assertEquals(result.error, null, `request '${result.id}' failed`);
  assertEquals([result.releaseCount, result.final], [1, true]);
  const output = result.outputs.get("OUTPUT0");
  assert(output !== undefined && output.kind === "numeric", `request '${result.id}': no OUTPUT0`);
  return Number(output.data[0]);
}

/** Sends one request as a batch of its own. */
function send(
  model: LoadedModel,
  correlationId: number | bigint | string,
  value: number,
  flags = 0,
): RequestResult {
  const [result] = model.execute(0, [sequenceRequest(correlationId, value, flags)]);
  return result;
}

const NOT_RUNNING = "is not running on this instance: its first request must carry START";

Deno.test("sequence: a numeric and a string correlation id each keep a running sum", () =>
  withHost((host) => {
    const model = host.loadModel(MODEL);
    assertEquals(sumOf(send(model, 11, 1, START)), 1);
    assertEquals(sumOf(send(model, 11, 2)), 3);
    assertEquals(sumOf(send(model, 11, 3, END)), 6);
    assertEquals(sumOf(send(model, "session-a", 100, START)), 100);
    assertEquals(sumOf(send(model, "session-a", 200, END)), 300);
    // Beyond 2^53 the id reaches the model as an exact bigint.
    const big = 18446744073709551615n;
    assertEquals(sumOf(send(model, big, 5, START)), 5);
    assertEquals(sumOf(send(model, big, 5, END)), 10);
    // START and END together: a sequence of one request.
    assertEquals(sumOf(send(model, 12, 7, START | END)), 7);
    model.unload();
  }));

Deno.test("sequence: two interleaved sequences do not see each other's values", () =>
  withHost((host) => {
    const model = host.loadModel(MODEL);
    const steps: [number | string, number, number, number][] = [
      // [correlation id, value, flags, expected running sum]
      [21, 1, START, 1],
      ["21", 10, START, 10], // the string "21" is another sequence than the number 21
      [21, 2, 0, 3],
      ["21", 20, 0, 30],
      [21, 3, 0, 6],
      ["21", 30, END, 60],
      [21, 4, END, 10],
    ];
    for (const [id, value, flags, expected] of steps) {
      assertEquals(sumOf(send(model, id, value, flags)), expected, `${id} += ${value}`);
    }
    // A batch holding a request of each of two sequences (two slots of the instance).
    const [a, b] = model.execute(0, [
      sequenceRequest(31, 5, START),
      sequenceRequest(32, 50, START),
    ]);
    assertEquals([sumOf(a), sumOf(b)], [5, 50]);
    // Slot 0's sequence has nothing queued: the batcher fills the slot with a null request.
    const [padding, e] = model.execute(0, [
      sequenceRequest(0, 0, 0, false),
      sequenceRequest(32, 1),
    ]);
    assertEquals([sumOf(padding), sumOf(e)], [0, 51]);
    const [c, d] = model.execute(0, [sequenceRequest(32, 1, END), sequenceRequest(31, 1, END)]);
    assertEquals([sumOf(c), sumOf(d)], [52, 6]);
    model.unload();
  }));

Deno.test("sequence: a request of an unknown or ended sequence fails alone, naming the id", () =>
  withHost((host) => {
    const model = host.loadModel(MODEL);
    const unknown = send(model, 41, 1);
    assert(unknown.error !== null, "a request without START for an unknown sequence must fail");
    assertEquals(unknown.error.codeString, "Invalid argument");
    assertStringIncludes(unknown.error.message, `sequence 41 ${NOT_RUNNING}`);
    assertEquals([unknown.releaseCount, unknown.final], [1, true]);

    const unknownString = send(model, "nobody", 1);
    assertStringIncludes(unknownString.error?.message ?? "", `sequence "nobody" ${NOT_RUNNING}`);

    // Ended: END dropped the state.
    assertEquals(sumOf(send(model, 42, 1, START | END)), 1);
    assertStringIncludes(send(model, 42, 1).error?.message ?? "", `sequence 42 ${NOT_RUNNING}`);

    // In a batch, only the bad request fails.
    const [good, bad] = model.execute(0, [sequenceRequest(43, 2, START), sequenceRequest(44, 2)]);
    assertEquals(sumOf(good), 2);
    assertStringIncludes(bad.error?.message ?? "", `sequence 44 ${NOT_RUNNING}`);
    model.unload();
  }));

Deno.test({
  name: "sequence: a restarted stub has lost every running sequence; START begins anew",
  fn: () =>
    withHost(async (host) => {
      const model = host.loadModel(MODEL);
      assertEquals(sumOf(send(model, 51, 1, START)), 1);
      assertEquals(sumOf(send(model, 51, 2)), 3);
      const [stub] = findStubPids(MODEL);
      assert(stub !== undefined, "no stub found for the model");
      Deno.kill(stub, "SIGKILL");
      assert(await waitFor(() => isGone(stub), 5_000), "the killed stub was not reaped");

      // The backend starts a new stub for the next request, which succeeds as a request
      // (the crash happened while idle) but the model has no state for sequence 51 any more.
      const lost = send(model, 51, 3);
      assert(lost.error !== null, "the sequence's state should be gone with the old stub");
      assertStringIncludes(lost.error.message, `sequence 51 ${NOT_RUNNING}`);
      assertStringIncludes(lost.error.message, "the instance restarted since");
      assertEquals(lost.releaseCount, 1);
      assert(findStubPids(MODEL)[0] !== stub, "a new stub should serve the instance");

      // The client starts the sequence again.
      assertEquals(sumOf(send(model, 51, 3, START)), 3);
      model.unload();
    }),
});
