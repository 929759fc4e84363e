/**
 * Reads the backend's hop trace (ffi/src/trace.h: `TDN_TRACE_FILE`) and
 * breaks each BLS call down into its hops: the caller's Worker sending the
 * call, the parent building and submitting the Triton request, Triton
 * scheduling the called model, the called model's own round trip, the
 * response allocator and callbacks, the answer's way back to the caller's
 * Worker, and the caller finishing its batch. Each hop is the median over
 * the calls of one run made one at a time (concurrency 1: a call's marks
 * are then the only ones in their time window).
 *
 * Marks come from two clocks that follow CLOCK_REALTIME (the parent's
 * `clock_gettime`, a Worker's `performance.timeOrigin + now()`): a hop
 * between a parent and a Worker is good to a microsecond or two.
 *
 * @example
 * ```ts ignore
 * import { blsCalls, breakdown, parseTrace, renderBreakdown } from "./bls_trace.ts";
 *
 * const marks = parseTrace(Deno.readTextFileSync("/tmp/trace.txt"));
 * console.log(renderBreakdown(breakdown(blsCalls(marks, "bls_add_sub_0_0", "add_sub_0"))));
 * ```
 *
 * @module
 */

import { MSG, RECORD_FLAG, TRACE_EVENT } from "../../runtime/wire/layout.ts";
import { formatNumber, median, renderTable } from "./stats.ts";

/** The parent's events (ffi/src/trace.h, `tdn_trace_event`). */
export const PARENT_EVENT = {
  EXECUTE_ENTER: 100,
  /** aux: the record's kind, its flags above bit 16. */
  SENT: 101,
  TAKEN: 102,
  BLS_SUBMITTED: 103,
  BLS_ALLOC: 104,
  BLS_RESPONSE: 105,
  BLS_RELEASED: 106,
  EXECUTE_LEAVE: 108,
} as const;

/** One line of the trace. */
export interface Mark {
  /** Nanoseconds since the trace's first mark (CLOCK_REALTIME, on the parent's clock). */
  ns: number;
  /** `TRACE_EVENT` (a Worker's) or `PARENT_EVENT`. */
  event: number;
  /** The instance. */
  instance: string;
  /** Batch or call id. */
  id: number;
  /** SENT, TAKEN: the record kind (SENT: flags above bit 16); BLS_RESPONSE: the flags. */
  aux: number;
}

/**
 * Parses the trace file's text (comment lines start with `#`) and puts
 * each Worker's marks on the parent's clock ({@linkcode workerOffsets}).
 */
export function parseTrace(text: string): Mark[] {
  const lines = text.split("\n").filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => line.split(" "));
  // Nanoseconds since the first mark: exact as numbers (the epoch's are not).
  let base: bigint | undefined;
  for (const [ns] of lines) {
    const value = BigInt(ns);
    if (base === undefined || value < base) base = value;
  }
  const marks: Mark[] = lines.map(([ns, event, instance, id, aux]) => ({
    ns: Number(BigInt(ns) - base!),
    event: Number(event),
    instance,
    id: Number(id),
    aux: Number(aux),
  }));
  const offsets = workerOffsets(marks);
  for (const mark of marks) {
    if (mark.event < PARENT_EVENT.EXECUTE_ENTER) mark.ns -= offsets.get(mark.instance) ?? 0;
  }
  return marks.sort((a, b) => a.ns - b.ns);
}

/**
 * How far each instance's Worker clock is ahead of the parent's, in ns.
 * Both follow CLOCK_REALTIME, but a Worker's time origin is taken once and
 * may be off by more than the hops measured. The offset is estimated the
 * way NTP does, from records crossing both ways: the quickest parent ->
 * Worker crossing (EXECUTE) measures offset + d1, the quickest Worker ->
 * parent one (RESULT, RESPONSE, BLS_REQUEST) d2 - offset; with d1 and d2
 * alike (both sides spin sometimes), offset = (first - second) / 2.
 */
export function workerOffsets(marks: readonly Mark[]): Map<string, number> {
  const key = (instance: string, id: number) => `${instance} ${id}`;
  const executeSent = new Map<string, number>();
  const taken = new Map<string, number>();
  for (const mark of marks) {
    if (mark.event === PARENT_EVENT.SENT && (mark.aux & 0xffff) === MSG.EXECUTE) {
      executeSent.set(key(mark.instance, mark.id), mark.ns);
    }
    if (
      mark.event === PARENT_EVENT.TAKEN &&
      (mark.aux === MSG.BLS_REQUEST || mark.aux === MSG.RESULT || mark.aux === MSG.RESPONSE)
    ) {
      const kind = mark.aux === MSG.BLS_REQUEST ? "call" : "batch";
      // The first RESPONSE of a batch, the RESULT, the BLS_REQUEST.
      const at = `${key(mark.instance, mark.id)} ${kind}`;
      if (!taken.has(at)) taken.set(at, mark.ns);
    }
  }
  const toWorker = new Map<string, number>();
  const toParent = new Map<string, number>();
  const lower = (map: Map<string, number>, instance: string, value: number) =>
    map.set(instance, Math.min(map.get(instance) ?? Infinity, value));
  for (const mark of marks) {
    if (mark.event === TRACE_EVENT.EXECUTE_TAKEN) {
      const sent = executeSent.get(key(mark.instance, mark.id));
      if (sent !== undefined) lower(toWorker, mark.instance, mark.ns - sent);
    }
    const kind = mark.event === TRACE_EVENT.BLS_SENT
      ? "call"
      : mark.event === TRACE_EVENT.RESULT_SENT || mark.event === TRACE_EVENT.RESPONSE_SENT
      ? "batch"
      : undefined;
    if (kind !== undefined) {
      const at = taken.get(`${key(mark.instance, mark.id)} ${kind}`);
      if (at !== undefined) lower(toParent, mark.instance, at - mark.ns);
    }
  }
  const offsets = new Map<string, number>();
  for (const [instance, first] of toWorker) {
    const second = toParent.get(instance);
    if (second !== undefined) offsets.set(instance, (first - second) / 2);
  }
  return offsets;
}

/** The named moments of one call, in ns; a moment missing from the trace is absent. */
export type CallMoments = Map<string, number>;

/** The hops, in order: a label and the moments it runs between. */
const HOPS: readonly [string, string, string][] = [
  ["caller's parent: batch to EXECUTE", "caller.enter", "caller.execute_sent"],
  ["caller's Worker wakes for EXECUTE", "caller.execute_sent", "caller.execute_taken"],
  ["caller's model until BlsRequest.exec()", "caller.execute_taken", "caller.bls_sent"],
  ["Worker's BLS_REQUEST to the parent", "caller.bls_sent", "caller.request_taken"],
  ["parent builds and submits the Triton request", "caller.request_taken", "caller.submitted"],
  ["Triton schedules the called model", "caller.request_taken", "callee.enter"],
  ["called model: batch to EXECUTE", "callee.enter", "callee.execute_sent"],
  ["called model's Worker wakes for EXECUTE", "callee.execute_sent", "callee.execute_taken"],
  ["called model's execute, to its first answer", "callee.execute_taken", "callee.answer_sent"],
  ["called model's answer to its parent", "callee.answer_sent", "callee.answer_taken"],
  ["called model's parent to the response allocator", "callee.answer_taken", "caller.alloc"],
  ["allocator to the response callback", "caller.alloc", "caller.response"],
  ["response callback to the answer on to_stub", "caller.response", "caller.answered"],
  ["answer to the caller's Worker (wake-up)", "caller.answered", "caller.answer_taken"],
  ["Worker reads the answer (copies outputs)", "caller.answer_taken", "caller.delivered"],
  ["called model: first answer to the request's release", "callee.answer_taken", "caller.released"],
  ["release to the FINAL answer on to_stub", "caller.released", "caller.answered_final"],
  ["FINAL answer to the caller's Worker", "caller.answered_final", "caller.final_taken"],
  ["caller's model resumes, to its RESULT", "caller.last_delivered", "caller.result_sent"],
  ["caller's RESULT to its parent", "caller.result_sent", "caller.result_taken"],
  ["caller's parent answers and releases", "caller.result_taken", "caller.leave"],
  ["whole batch of the caller (execute in and out)", "caller.enter", "caller.leave"],
];

/** How far apart two clocks may still be once a Worker's is corrected. */
const CLOCK_SLACK_NS = 2000;

/** Where to start looking for a Worker's mark of a moment near index `i`: its clock may differ by a microsecond or two. */
function near(i: number): number {
  return Math.max(0, i - 64);
}

function first(
  marks: readonly Mark[],
  from: number,
  test: (mark: Mark) => boolean,
  until = Infinity,
): Mark | undefined {
  for (let i = from; i < marks.length && marks[i].ns <= until; i++) {
    if (test(marks[i])) return marks[i];
  }
  return undefined;
}

/**
 * The moments of each BLS call the instance `caller` made to the model
 * whose instances' names start with `callee`, one call per caller batch
 * (calls made one at a time).
 */
export function blsCalls(
  marks: readonly Mark[],
  caller: string,
  callee: string,
): CallMoments[] {
  const calls: CallMoments[] = [];
  const W = TRACE_EVENT;
  const P = PARENT_EVENT;
  const mine = (instance: string, event: number, id?: number, aux?: number) => (mark: Mark) =>
    mark.instance === instance && mark.event === event &&
    (id === undefined || mark.id === id) && (aux === undefined || mark.aux === aux);
  for (let i = 0; i < marks.length; i++) {
    const sent = marks[i];
    if (!mine(caller, P.SENT)(sent) || (sent.aux & 0xffff) !== MSG.EXECUTE) continue;
    const batch = sent.id;
    const resultTaken = first(marks, i, mine(caller, P.TAKEN, batch, MSG.RESULT));
    if (resultTaken === undefined) continue;
    const end = resultTaken.ns + 1e9;
    const moments: CallMoments = new Map();
    const put = (name: string, mark: Mark | undefined) => {
      if (mark !== undefined) moments.set(name, mark.ns);
    };
    let enter: Mark | undefined;
    for (let j = i; j >= 0 && sent.ns - marks[j].ns < 1e9; j--) {
      if (mine(caller, P.EXECUTE_ENTER)(marks[j])) {
        enter = marks[j];
        break;
      }
    }
    put("caller.enter", enter);
    put("caller.execute_sent", sent);
    put("caller.execute_taken", first(marks, near(i), mine(caller, W.EXECUTE_TAKEN, batch), end));
    const blsSent = first(marks, i, mine(caller, W.BLS_SENT), resultTaken.ns);
    if (blsSent === undefined) continue;
    const call = blsSent.id;
    put("caller.bls_sent", blsSent);
    const requestTaken = first(marks, i, mine(caller, P.TAKEN, call, MSG.BLS_REQUEST), end);
    put("caller.request_taken", requestTaken);
    put("caller.submitted", first(marks, i, mine(caller, P.BLS_SUBMITTED, call), end));
    const from = marks.indexOf(requestTaken ?? blsSent);
    const calleeEnter = first(
      marks,
      from,
      (mark) => mark.event === P.EXECUTE_ENTER && mark.instance.startsWith(callee),
      end,
    );
    put("callee.enter", calleeEnter);
    // The instance that took the call.
    const target = calleeEnter?.instance ?? callee;
    const at = calleeEnter === undefined ? from : marks.indexOf(calleeEnter);
    const calleeSent = first(
      marks,
      at,
      (mark) => mine(target, P.SENT)(mark) && (mark.aux & 0xffff) === MSG.EXECUTE,
      end,
    );
    put("callee.execute_sent", calleeSent);
    if (calleeSent !== undefined) {
      const calleeBatch = calleeSent.id;
      put(
        "callee.execute_taken",
        first(marks, near(at), mine(target, W.EXECUTE_TAKEN, calleeBatch), end),
      );
      put(
        "callee.answer_sent",
        first(
          marks,
          near(at),
          (mark) =>
            mark.instance === target && mark.id === calleeBatch &&
            (mark.event === W.RESULT_SENT || mark.event === W.RESPONSE_SENT),
          end,
        ),
      );
      put(
        "callee.answer_taken",
        first(
          marks,
          at,
          (mark) =>
            mark.instance === target && mark.event === P.TAKEN && mark.id === calleeBatch &&
            (mark.aux === MSG.RESULT || mark.aux === MSG.RESPONSE),
          end,
        ),
      );
    }
    put("caller.alloc", first(marks, from, mine(caller, P.BLS_ALLOC, call), end));
    put("caller.response", first(marks, from, mine(caller, P.BLS_RESPONSE, call), end));
    put("caller.released", first(marks, from, mine(caller, P.BLS_RELEASED, call), end));
    const answered = (mark: Mark) =>
      mine(caller, P.SENT, call)(mark) && (mark.aux & 0xffff) === MSG.BLS_RESPONSE;
    put("caller.answered", first(marks, from, answered, end));
    put(
      "caller.answered_final",
      first(
        marks,
        from,
        (mark) => answered(mark) && ((mark.aux >> 16) & RECORD_FLAG.FINAL) !== 0,
        end,
      ),
    );
    const window = marks.slice(near(from), marks.indexOf(resultTaken) + 1);
    const taken = window.filter(mine(caller, W.BLS_ANSWER_TAKEN, call));
    const delivered = window.filter(mine(caller, W.BLS_DELIVERED, call));
    put("caller.answer_taken", taken[0]);
    put("caller.delivered", delivered[0]);
    // The FINAL answer's own moments, when it came before the batch ended
    // (a model that leaves a stream early answers before it): the first
    // taken after it was sent, allowing for the clocks' residual offset.
    const finalSent = moments.get("caller.answered_final");
    if (finalSent !== undefined) {
      const finalTaken = taken.find((mark) => mark.ns >= finalSent - CLOCK_SLACK_NS);
      put("caller.final_taken", finalTaken);
      if (finalTaken !== undefined) {
        put("caller.final_delivered", delivered.find((mark) => mark.ns >= finalTaken.ns));
      }
    }
    const resultSent = first(marks, near(i), mine(caller, W.RESULT_SENT, batch), end);
    put("caller.result_sent", resultSent);
    // The answer the model finished with: the last handed over before its RESULT.
    put(
      "caller.last_delivered",
      resultSent === undefined ? undefined : delivered.findLast((mark) => mark.ns <= resultSent.ns),
    );
    put("caller.result_taken", resultTaken);
    put(
      "caller.leave",
      first(marks, marks.indexOf(resultTaken), mine(caller, P.EXECUTE_LEAVE), end),
    );
    calls.push(moments);
  }
  return calls;
}

/** One hop's median and how many calls had it. */
export interface HopRow {
  /** What the hop is. */
  label: string;
  /** Median, microseconds. */
  medianUs: number;
  /** Calls that had both moments. */
  calls: number;
}

/** The median of each hop over `calls`. */
export function breakdown(calls: readonly CallMoments[]): HopRow[] {
  const rows: HopRow[] = [];
  for (const [label, from, to] of HOPS) {
    const values: number[] = [];
    for (const call of calls) {
      const a = call.get(from);
      const b = call.get(to);
      if (a !== undefined && b !== undefined) values.push((b - a) / 1000);
    }
    if (values.length > 0) rows.push({ label, medianUs: median(values), calls: values.length });
  }
  return rows;
}

/** The breakdown as a table. */
export function renderBreakdown(rows: readonly HopRow[]): string {
  return renderTable(
    ["hop", "median us", "calls"],
    rows.map((row) => [row.label, formatNumber(row.medianUs, 1), String(row.calls)]),
  );
}
