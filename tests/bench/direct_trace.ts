/**
 * Where a direct request's time goes in Triton's real core: runs the
 * benchmark's identity model (tests/bench/models/deno_identity) with N
 * instances at concurrency 1 with the backend's hop trace on
 * (ffi/src/trace.h), and prints the median of each hop of a batch:
 * Execute entered -> EXECUTE sent -> taken by the Worker -> RESULT sent
 * -> taken by the parent -> Execute left, and the gap from one Execute's
 * end to the next one's start (Triton's completion, the client's next
 * submission and Triton's scheduling; on whichever instance).
 *
 * Usage: TRITON_HOME=<prefix> deno run -A --unstable-worker-options
 *   tests/bench/direct_trace.ts [instances ...]  (default 1 2 4)
 *
 * @module
 */

import { TritonServer } from "../../runtime/core/mod.ts";
import { composeBackendDirectory, tritonHome } from "../../runtime/core/triton_home.ts";
import { buildPaths } from "../harness/paths.ts";
import { type Mark, PARENT_EVENT, parseTrace } from "./bls_trace.ts";
import { timedRun, waitForStubs, writeIdentityModel } from "./core_runner.ts";
import { formatNumber, median, renderTable } from "./stats.ts";
import { MSG, TRACE_EVENT } from "../../runtime/wire/layout.ts";

/** FP32 elements per input (DIRECT_TRACE_ELEMENTS, default 4). */
const ELEMENTS = Number(Deno.env.get("DIRECT_TRACE_ELEMENTS") ?? "4");
const REQUESTS = ELEMENTS > 65536 ? 100 : 3000;

/** The hops of one batch, in ns (undefined where a mark is missing). */
interface BatchHops {
  enter: number;
  sent?: number;
  taken?: number;
  resultSent?: number;
  parentTaken?: number;
  leave?: number;
}

/** Groups the marks of each batch by its id, in order of Execute entry. */
function batches(marks: Mark[]): BatchHops[] {
  const byInstance = new Map<string, Mark[]>();
  for (const mark of marks) {
    const list = byInstance.get(mark.instance) ?? [];
    list.push(mark);
    byInstance.set(mark.instance, list);
  }
  const result: BatchHops[] = [];
  for (const list of byInstance.values()) {
    let current: BatchHops | undefined;
    let batchId = -1;
    for (const mark of list) {
      if (mark.event === PARENT_EVENT.EXECUTE_ENTER) {
        current = { enter: mark.ns };
        batchId = -1;
        result.push(current);
      } else if (current === undefined) {
        continue;
      } else if (mark.event === PARENT_EVENT.SENT && (mark.aux & 0xffff) === MSG.EXECUTE) {
        current.sent = mark.ns;
        batchId = mark.id;
      } else if (mark.event === TRACE_EVENT.EXECUTE_TAKEN && mark.id === batchId) {
        current.taken = mark.ns;
      } else if (mark.event === TRACE_EVENT.RESULT_SENT && mark.id === batchId) {
        current.resultSent = mark.ns;
      } else if (
        mark.event === PARENT_EVENT.TAKEN && mark.aux === MSG.RESULT && mark.id === batchId
      ) {
        current.parentTaken = mark.ns;
      } else if (mark.event === PARENT_EVENT.EXECUTE_LEAVE) {
        current.leave = mark.ns;
      }
    }
  }
  return result.sort((a, b) => a.enter - b.enter);
}

function hop(list: BatchHops[], from: keyof BatchHops, to: keyof BatchHops): string {
  const values = list.flatMap((batch) =>
    batch[from] === undefined || batch[to] === undefined ? [] : [(batch[to]! - batch[from]!) / 1000]
  );
  return values.length === 0 ? "-" : formatNumber(median(values), 1);
}

async function traceOne(instances: number): Promise<string[]> {
  const home = tritonHome();
  if (home === undefined) throw new Error("TRITON_HOME is not set");
  const traceFile = Deno.makeTempFileSync({ prefix: "direct_trace_" });
  const repository = Deno.makeTempDirSync({ prefix: "direct_trace_repo_" });
  const name = writeIdentityModel(repository, "deno", instances);
  Deno.env.set("TDN_TRACE_FILE", traceFile);
  const server = await TritonServer.start({
    coreLibrary: home.coreLibrary,
    clientLibrary: buildPaths().clientLibrary,
    modelRepository: repository,
    backendDirectory: composeBackendDirectory(home, buildPaths().backendDir),
    modelControl: "explicit",
    logInfo: false,
  });
  try {
    await server.loadModel(name);
    const data = new Uint8Array(new Float32Array(ELEMENTS).map((_, i) => i % 97).buffer);
    const run = await timedRun(
      server,
      {
        model: name,
        inputs: [
          { name: "INPUT0", datatype: "FP32", shape: [ELEMENTS], data },
          { name: "INPUT1", datatype: "FP32", shape: [ELEMENTS], data },
        ],
      },
      REQUESTS,
      1,
    );
    await server.unloadModel(name);
    await waitForStubs();
    const list = batches(parseTrace(Deno.readTextFileSync(traceFile))).slice(-REQUESTS);
    const gaps: BatchHops[] = [];
    for (let i = 1; i < list.length; i++) {
      if (list[i - 1].leave !== undefined) {
        gaps.push({ enter: list[i - 1].leave!, leave: list[i].enter });
      }
    }
    return [
      String(instances),
      formatNumber(run.p50Us, 1),
      hop(list, "enter", "sent"),
      hop(list, "sent", "taken"),
      hop(list, "taken", "resultSent"),
      hop(list, "resultSent", "parentTaken"),
      hop(list, "parentTaken", "leave"),
      hop(gaps, "enter", "leave"),
    ];
  } finally {
    await server.stop();
    Deno.removeSync(traceFile);
    Deno.removeSync(repository, { recursive: true });
  }
}

const counts = Deno.args.length > 0 ? Deno.args.map(Number) : [1, 2, 4];
const rows: string[][] = [];
for (const instances of counts) rows.push(await traceOne(instances));
console.log(
  `\nWhere a direct request's time goes (identity, ${ELEMENTS} FP32 per input, concurrency 1, ` +
    `${REQUESTS} traced ` +
    "requests; medians in us)",
);
console.log(renderTable([
  "instances",
  "p50 client",
  "enter->sent",
  "sent->Worker took",
  "Worker: took->result",
  "result->parent took",
  "parent took->leave",
  "leave->next enter",
], rows));
