import { assert, assertEquals } from "../harness/assert.ts";
import { MSG, TRACE_EVENT } from "../../runtime/wire/layout.ts";
import { blsCalls, breakdown, PARENT_EVENT, parseTrace, workerOffsets } from "./bls_trace.ts";

const P = PARENT_EVENT;
const W = TRACE_EVENT;

/**
 * A made-up trace of `calls` BLS calls, one at a time, with each hop 10 us
 * long (parent clock), and every mark of Worker `skewed` stamped `skewUs`
 * late.
 */
function syntheticTrace(calls: number, skewed: string, skewUs: number): string {
  const lines: string[] = [];
  let t = 1_800_000_000_000_000_000n;
  const at = (event: number, instance: string, id: number, aux = 0) => {
    const skew = event < 100 && instance === skewed ? BigInt(skewUs * 1000) : 0n;
    lines.push(`${t + skew} ${event} ${instance} ${id} ${aux}`);
    t += 10_000n;
  };
  for (let i = 1; i <= calls; i++) {
    at(P.EXECUTE_ENTER, "caller_0", 0, 1);
    at(P.SENT, "caller_0", i, MSG.EXECUTE);
    at(W.EXECUTE_TAKEN, "caller_0", i);
    at(W.BLS_SENT, "caller_0", i);
    at(P.TAKEN, "caller_0", i, MSG.BLS_REQUEST);
    at(P.BLS_SUBMITTED, "caller_0", i);
    at(P.EXECUTE_ENTER, "callee_0_1", 0, 1);
    at(P.SENT, "callee_0_1", 100 + i, MSG.EXECUTE);
    at(W.EXECUTE_TAKEN, "callee_0_1", 100 + i);
    at(W.RESULT_SENT, "callee_0_1", 100 + i);
    at(P.TAKEN, "callee_0_1", 100 + i, MSG.RESULT);
    at(P.BLS_ALLOC, "caller_0", i);
    at(P.BLS_RESPONSE, "caller_0", i, 1);
    at(P.EXECUTE_LEAVE, "callee_0_1", 0, 1);
    at(P.BLS_RELEASED, "caller_0", i);
    at(P.SENT, "caller_0", i, MSG.BLS_RESPONSE | (1 << 16));
    at(W.BLS_ANSWER_TAKEN, "caller_0", i);
    at(W.BLS_DELIVERED, "caller_0", i);
    at(W.RESULT_SENT, "caller_0", i);
    at(P.TAKEN, "caller_0", i, MSG.RESULT);
    at(P.EXECUTE_LEAVE, "caller_0", 0, 1);
  }
  return `${lines.reverse().join("\n")}\n# a comment line\n`;
}

Deno.test("BLS trace: a Worker's clock is put on the parent's, from both crossing directions", () => {
  const text = syntheticTrace(20, "caller_0", 250);
  const offsets = workerOffsets(parseTrace(text));
  // parseTrace has already corrected them; measured on the raw lines:
  const raw = text.trim().split("\n").filter((line) => !line.startsWith("#")).map((line) => {
    const [ns, event, instance, id, aux] = line.split(" ");
    return {
      ns: Number(BigInt(ns) - 1_800_000_000_000_000_000n),
      event: Number(event),
      instance,
      id: Number(id),
      aux: Number(aux),
    };
  });
  const measured = workerOffsets(raw);
  assert(Math.abs(measured.get("caller_0")! - 250_000) < 1000, `${measured.get("caller_0")}`);
  assert(Math.abs(measured.get("callee_0_1")!) < 1000, `${measured.get("callee_0_1")}`);
  // Once corrected, no offset is left.
  assert(Math.abs(offsets.get("caller_0")!) < 1000, `${offsets.get("caller_0")}`);
});

Deno.test("BLS trace: each call is broken into its hops, the called instance found by prefix", () => {
  const calls = blsCalls(parseTrace(syntheticTrace(5, "caller_0", 250)), "caller_0", "callee_0");
  assertEquals(calls.length, 5);
  const rows = new Map(breakdown(calls).map((row) => [row.label, row]));
  assertEquals(rows.get("Worker's BLS_REQUEST to the parent")?.medianUs, 10);
  assertEquals(rows.get("Triton schedules the called model")?.medianUs, 20);
  assertEquals(rows.get("called model's Worker wakes for EXECUTE")?.medianUs, 10);
  assertEquals(rows.get("answer to the caller's Worker (wake-up)")?.medianUs, 10);
  assertEquals(rows.get("whole batch of the caller (execute in and out)")?.medianUs, 200);
  assert([...rows.values()].every((row) => row.calls === 5 && row.medianUs >= 0));
});
