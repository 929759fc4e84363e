/**
 * End-to-end: the backend's hop trace (ffi/src/trace.h). With
 * TDN_TRACE_FILE set when the backend initializes, a BLS call leaves the
 * parent's marks and both Workers' (TRACE records) in the file once the
 * instances finalize, enough to break the call into its hops
 * (tests/bench/bls_trace.ts); without it, nothing is written.
 */

import { assert, assertEquals } from "./harness/assert.ts";
import { exampleModelDir } from "./harness/fixtures.ts";
import type { InferRequest } from "./harness/host.ts";
import { withHost } from "./harness/session.ts";
import { blsCalls, breakdown, parseTrace } from "./bench/bls_trace.ts";

function request(id: string): InferRequest {
  return {
    id,
    inputs: [
      { name: "INPUT0", datatype: "FP32", shape: [2], data: new Float32Array([1, 2]) },
      { name: "INPUT1", datatype: "FP32", shape: [2], data: new Float32Array([3, 4]) },
    ],
  };
}

/** Runs `calls` BLS calls one at a time with TDN_TRACE_FILE as given (or unset). */
async function callWithTrace(traceFile: string | undefined, calls: number): Promise<void> {
  if (traceFile === undefined) Deno.env.delete("TDN_TRACE_FILE");
  else Deno.env.set("TDN_TRACE_FILE", traceFile);
  try {
    await withHost((host) => {
      const callee = host.loadModel(exampleModelDir("add_sub"));
      const caller = host.loadModel(exampleModelDir("bls_add_sub"));
      for (let i = 0; i < calls; i++) {
        const [result] = caller.execute(0, [request(`r${i}`)]);
        assertEquals(result.error, null);
      }
      // Each instance writes the marks out as it finalizes.
      caller.unload();
      callee.unload();
    });
  } finally {
    Deno.env.delete("TDN_TRACE_FILE");
  }
}

Deno.test("hop trace: every hop of a BLS call is marked, by the parent and by both Workers", async () => {
  const traceFile = Deno.makeTempFileSync({ prefix: "tdn_trace_test_" });
  try {
    await callWithTrace(traceFile, 6);
    const marks = parseTrace(Deno.readTextFileSync(traceFile));
    const calls = blsCalls(marks, "bls_add_sub_0", "add_sub_0");
    assertEquals(calls.length, 6);
    for (const call of calls) {
      // Every moment of the path is there...
      for (
        const moment of [
          "caller.enter",
          "caller.execute_sent",
          "caller.execute_taken",
          "caller.bls_sent",
          "caller.request_taken",
          "caller.submitted",
          "callee.enter",
          "callee.execute_sent",
          "callee.execute_taken",
          "callee.answer_sent",
          "callee.answer_taken",
          "caller.alloc",
          "caller.response",
          "caller.released",
          "caller.answered_final",
          "caller.final_taken",
          "caller.final_delivered",
          "caller.last_delivered",
          "caller.result_sent",
          "caller.result_taken",
          "caller.leave",
        ]
      ) {
        assert(call.has(moment), `${moment} is missing`);
      }
      // ...and each clock's marks come in the path's order.
      const ordered = (names: string[]) => {
        for (let i = 1; i < names.length; i++) {
          assert(
            call.get(names[i - 1])! <= call.get(names[i])!,
            `${names[i - 1]} after ${names[i]}`,
          );
        }
      };
      ordered([
        "caller.enter",
        "caller.execute_sent",
        "caller.request_taken",
        "caller.alloc",
        "caller.response",
        "caller.released",
        "caller.answered_final",
        "caller.result_taken",
        "caller.leave",
      ]);
      ordered([
        "caller.execute_taken",
        "caller.bls_sent",
        "caller.final_taken",
        "caller.final_delivered",
        "caller.result_sent",
      ]);
      ordered(["callee.enter", "callee.execute_sent", "callee.answer_taken"]);
      ordered(["callee.execute_taken", "callee.answer_sent"]);
    }
    const rows = breakdown(calls);
    assert(rows.length >= 18, `${rows.length} hops`);
    assert(rows.every((row) => row.calls === 6));
  } finally {
    Deno.removeSync(traceFile);
  }
});

Deno.test("hop trace: off without TDN_TRACE_FILE", async () => {
  const traceFile = Deno.makeTempFileSync({ prefix: "tdn_trace_test_" });
  try {
    await callWithTrace(traceFile, 1);
    const traced = Deno.statSync(traceFile).size;
    assert(traced > 0, "the traced run wrote marks");
    // The same calls with the variable unset: nothing more is written.
    await callWithTrace(undefined, 2);
    assertEquals(Deno.statSync(traceFile).size, traced);
  } finally {
    Deno.removeSync(traceFile);
  }
});
