import { assert, assertEquals } from "../../tests/harness/assert.ts";
import { MSG, RING, RING_CAPACITY, TRACE_EVENT } from "../wire/layout.ts";
import { atomicsWaiter, Ring } from "../wire/ring.ts";
import { TraceMarks } from "./trace_marks.ts";

function ring(): Ring {
  return new Ring(new SharedArrayBuffer(RING.SIZE), 0, atomicsWaiter);
}

Deno.test("trace marks: off, nothing is sent", () => {
  const toParent = ring();
  const marks = new TraceMarks(toParent, false);
  marks.mark(TRACE_EVENT.EXECUTE_TAKEN, 1n);
  marks.flush();
  assertEquals(toParent.tryPop(), undefined);
});

Deno.test("trace marks: on, each mark is a TRACE record stamped on the realtime clock", () => {
  const toParent = ring();
  const marks = new TraceMarks(toParent, true);
  const before = BigInt(Date.now()) * 1_000_000n;
  marks.mark(TRACE_EVENT.BLS_SENT, 7n);
  marks.mark(TRACE_EVENT.RESULT_SENT, 3);
  // Kept until the flush: tracing adds no wake-up to the path it measures.
  assertEquals(toParent.pending, 0);
  marks.flush();
  const after = BigInt(Date.now() + 1) * 1_000_000n;
  const first = toParent.tryPop()!;
  const second = toParent.tryPop()!;
  assertEquals([first.kind, first.aux, first.offset, first.length], [
    MSG.TRACE,
    TRACE_EVENT.BLS_SENT,
    7,
    0,
  ]);
  assertEquals([second.kind, second.aux, second.offset], [MSG.TRACE, TRACE_EVENT.RESULT_SENT, 3]);
  // Within a few ms of Date.now(): the same clock, not a monotonic origin.
  const slack = 5_000_000n;
  assert(first.id >= before - slack && first.id <= after + slack, `${first.id} not near now`);
  assert(second.id >= first.id, "marks are in order");
  assertEquals(toParent.tryPop(), undefined);
});

Deno.test("trace marks: a full ring drops the rest instead of waiting", () => {
  const toParent = ring();
  const marks = new TraceMarks(toParent, true);
  for (let i = 0; i < RING_CAPACITY + 5; i++) marks.mark(TRACE_EVENT.EXECUTE_TAKEN, i);
  marks.flush();
  assertEquals(toParent.pending, RING_CAPACITY);
  marks.flush(); // nothing left to send
  assertEquals(toParent.pending, RING_CAPACITY);
});
