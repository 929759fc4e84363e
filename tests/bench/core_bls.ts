/**
 * BLS in Triton's real core: a model calling another model, beside
 * python_backend doing the same and beside a direct request to the called
 * model, in one run (issue 16's rows).
 *
 * - `bls_add_sub` (models/bls_add_sub) calling `add_sub` (models/add_sub),
 *   4 FP32 elements per input; python_backend: `py_bls`
 *   (tests/bench/models/python_bls, `InferenceRequest.exec()`) calling
 *   `py_add_sub`. Concurrency 1 and 4, one instance of each model; and at
 *   concurrency 4 the same caller with `deno.max_batches_in_flight` 4
 *   (`bls_add_sub_overlap`), whose calls then overlap.
 * - Streaming: `bls_stream` (models/bls_stream) reading the stream of a
 *   one-word text from `stream_text` (its first response, then FINAL) and
 *   answering with it; python_backend: `py_bls_stream`
 *   (`exec(decoupled=True)`) over `py_stream_text`. Beside it, the same
 *   one-word request sent directly to each `stream_text`.
 *
 * Every model stays loaded while the group runs; the subjects take turns
 * (runtime of each cell: the median of `repeat` runs by p50).
 *
 * With a baseline build (the benchmark's BENCH_BASELINE), the four models
 * are also written for it (backend `denobase`, names prefixed with
 * `base_`, each calling the other `base_` models), and they take
 * python_backend's place in the table: one build against the other.
 *
 * @module
 */

import type { InferRequest, TritonServer } from "../../runtime/core/mod.ts";
import { REPOSITORY_ROOT } from "../harness/paths.ts";
import { alternating, ratio, type Run, timedRun } from "./core_runner.ts";
import { blsCalls, breakdown, parseTrace, renderBreakdown } from "./bls_trace.ts";
import { formatNumber, renderTable } from "./stats.ts";

const DENO_MODELS = ["add_sub", "bls_add_sub", "stream_text", "bls_stream"] as const;
/** bls_add_sub with `deno.max_batches_in_flight` 4. */
const OVERLAP_MODEL = "bls_add_sub_overlap";
const PYTHON_MODELS = ["py_add_sub", "py_bls", "py_stream_text", "py_bls_stream"] as const;

/** The prefix of the baseline build's copies of the models. */
const BASE = "base_";

/**
 * The models of the group, by name, for the repository.
 *
 * @param baseline Also the baseline build's copies (backend `denobase`).
 */
export function writeBlsModels(repository: string, withPython: boolean, baseline = false): void {
  writeDenoModels(repository, "", "deno");
  if (baseline) writeDenoModels(repository, BASE, "denobase");
  if (!withPython) return;
  const models = `${REPOSITORY_ROOT}/tests/bench/models`;
  const fp32 = (kind: string) =>
    [0, 1].map((i) => `{ name: "${kind}${i}" data_type: TYPE_FP32 dims: [ -1 ] }`).join(", ");
  const text = '{ name: "TEXT" data_type: TYPE_STRING dims: [ 1 ] }';
  const write = (name: string, from: string, lines: string[]) => {
    Deno.mkdirSync(`${repository}/${name}/1`, { recursive: true });
    Deno.copyFileSync(`${models}/${from}/model.py`, `${repository}/${name}/1/model.py`);
    Deno.writeTextFileSync(
      `${repository}/${name}/config.pbtxt`,
      [
        `name: "${name}"`,
        'backend: "python"',
        "max_batch_size: 0",
        ...lines,
        "instance_group [ { count: 1 kind: KIND_CPU } ]",
        "",
      ].join("\n"),
    );
  };
  const target = (name: string) =>
    `parameters { key: "target" value: { string_value: "${name}" } }`;
  write("py_add_sub", "python_add_sub", [
    `input [ ${fp32("INPUT")} ]`,
    `output [ ${fp32("OUTPUT")} ]`,
  ]);
  write("py_bls", "python_bls", [
    `input [ ${fp32("INPUT")} ]`,
    `output [ ${fp32("OUTPUT")} ]`,
    target("py_add_sub"),
  ]);
  write("py_stream_text", "python_stream_text", [
    `input [ ${text} ]`,
    'output [ { name: "TOKEN" data_type: TYPE_STRING dims: [ 1 ] } ]',
    "model_transaction_policy { decoupled: true }",
  ]);
  write("py_bls_stream", "python_bls_stream", [
    `input [ ${text} ]`,
    'output [ { name: "WORDS" data_type: TYPE_STRING dims: [ -1 ] } ]',
    target("py_stream_text"),
  ]);
}

/**
 * The example models, one instance each, named with `prefix`; the names
 * they call, and may call, get it too, so that a baseline's copies call
 * one another.
 */
function writeDenoModels(repository: string, prefix: string, backend: string): void {
  const renamed = (text: string) =>
    prefix === "" ? text : text
      .replace(/"(bls_add_sub|add_sub|bls_stream|stream_text)"/g, `"${prefix}$1"`)
      .replace('backend: "deno"', `backend: "${backend}"`);
  for (const name of DENO_MODELS) {
    const from = `${REPOSITORY_ROOT}/models/${name}`;
    const to = `${repository}/${prefix}${name}`;
    const model = renamed(Deno.readTextFileSync(`${from}/1/model.ts`));
    // One instance of each, whatever the example says.
    const config = renamed(Deno.readTextFileSync(`${from}/config.pbtxt`)).replace(
      /count:\s*\d+/,
      "count: 1",
    );
    Deno.mkdirSync(`${to}/1`, { recursive: true });
    Deno.writeTextFileSync(`${to}/1/model.ts`, model);
    Deno.writeTextFileSync(`${to}/config.pbtxt`, config);
    if (name === "bls_add_sub") {
      // The same caller with 4 batches in flight (README, "Batches in
      // flight"): its concurrency-4 row.
      const overlap = `${repository}/${prefix}${OVERLAP_MODEL}`;
      Deno.mkdirSync(`${overlap}/1`, { recursive: true });
      Deno.writeTextFileSync(`${overlap}/1/model.ts`, model);
      Deno.writeTextFileSync(
        `${overlap}/config.pbtxt`,
        config.replace(`name: "${prefix}bls_add_sub"`, `name: "${prefix}${OVERLAP_MODEL}"`) +
          'parameters { key: "deno.max_batches_in_flight" value: { string_value: "4" } }\n',
      );
    }
  }
}

/** The models to load for the group (`baseline`: the baseline's copies too). */
export function blsModelNames(withPython: boolean, baseline = false): string[] {
  const deno = [...DENO_MODELS, OVERLAP_MODEL];
  return [
    ...deno,
    ...(baseline ? deno.map((name) => BASE + name) : []),
    ...(withPython ? PYTHON_MODELS : []),
  ];
}

function fp32Request(model: string): InferRequest {
  const data = new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer);
  return {
    model,
    inputs: [
      { name: "INPUT0", datatype: "FP32", shape: [4], data },
      { name: "INPUT1", datatype: "FP32", shape: [4], data },
    ],
  };
}

function textRequest(model: string, text: string, parameters = {}): InferRequest {
  const bytes = new TextEncoder().encode(text);
  const data = new Uint8Array(4 + bytes.length);
  new DataView(data.buffer).setUint32(0, bytes.length, true);
  data.set(bytes, 4);
  return {
    model,
    inputs: [{ name: "TEXT", datatype: "BYTES", shape: [1], data }],
    parameters,
  };
}

/** The requests each subject of the group sends. */
export const BLS_SUBJECTS = {
  "deno BLS": fp32Request("bls_add_sub"),
  "deno direct": fp32Request("add_sub"),
  "python BLS": fp32Request("py_bls"),
  "python direct": fp32Request("py_add_sub"),
  "baseline BLS": fp32Request(`${BASE}bls_add_sub`),
  "baseline direct": fp32Request(`${BASE}add_sub`),
} as const;

/** The same with the caller that keeps 4 batches in flight. */
const OVERLAP_SUBJECTS = {
  ...BLS_SUBJECTS,
  "deno BLS": fp32Request(OVERLAP_MODEL),
  "baseline BLS": fp32Request(`${BASE}${OVERLAP_MODEL}`),
} as const;

/** The streaming subjects: a one-word stream through BLS, and directly. */
export const STREAM_SUBJECTS = {
  "deno BLS": textRequest("bls_stream", "first", { max_words: 1 }),
  "deno direct": textRequest("stream_text", "first"),
  "python BLS": textRequest("py_bls_stream", "first"),
  "python direct": textRequest("py_stream_text", "first"),
  "baseline BLS": textRequest(`${BASE}bls_stream`, "first", { max_words: 1 }),
  "baseline direct": textRequest(`${BASE}stream_text`, "first"),
} as const;

/** The decoupled models of the idle row: one-word streams, served directly. */
export function idleStreamSubjects(withPython: boolean): [string, InferRequest][] {
  return [
    ["deno, decoupled", STREAM_SUBJECTS["deno direct"]],
    ...(withPython
      ? [["python, decoupled", STREAM_SUBJECTS["python direct"]] as [string, InferRequest]]
      : []),
  ];
}

type Subject = keyof typeof BLS_SUBJECTS;

/** Options of {@linkcode benchBls}. */
export interface BlsBenchOptions {
  /** Runs per cell. */
  repeat: number;
  /** Request count multiplier. */
  scale: number;
  /** Whether python_backend's models are there. */
  withPython: boolean;
  /** Compare with the baseline build's models instead of python_backend's. */
  baseline?: boolean;
}

function p50(run: Run | undefined): string {
  return run === undefined ? "-" : formatNumber(run.p50Us, 1);
}

/**
 * Runs the group (its models loaded) and prints its table: p50 of each
 * subject and the goal's ratios (BLS over python_backend's BLS, BLS over a
 * direct request to the called model).
 */
export async function benchBls(server: TritonServer, options: BlsBenchOptions): Promise<void> {
  const other = options.baseline ? "baseline" : options.withPython ? "python" : undefined;
  const subjects: Subject[] = other === undefined
    ? ["deno BLS", "deno direct"]
    : ["deno BLS", `${other} BLS`, "deno direct", `${other} direct`];
  const them = other ?? "python";
  const rows: string[][] = [];
  const cases = [
    { label: "BLS add_sub, 4 FP32", table: BLS_SUBJECTS, concurrency: 1, requests: 4000 },
    { label: "BLS add_sub, 4 FP32", table: BLS_SUBJECTS, concurrency: 4, requests: 4000 },
    {
      label: "BLS add_sub, 4 FP32, 4 in flight",
      table: OVERLAP_SUBJECTS,
      concurrency: 4,
      requests: 4000,
    },
    { label: "BLS stream, first word", table: STREAM_SUBJECTS, concurrency: 1, requests: 2000 },
  ];
  for (const { label, table, concurrency, requests } of cases) {
    const count = Math.max(50, Math.round(requests * options.scale));
    const results = await alternating(
      subjects,
      options.repeat,
      (subject) => timedRun(server, table[subject], count, concurrency),
    );
    const failed = [...results.values()].reduce((sum, run) => sum + run.failed, 0);
    const deno = results.get("deno BLS");
    rows.push([
      label,
      String(concurrency),
      p50(deno),
      p50(results.get("deno direct")),
      p50(results.get(`${them} BLS`)),
      p50(results.get(`${them} direct`)),
      ratio(deno, results.get(`${them} BLS`), "p50Us"),
      ratio(deno, results.get("deno direct"), "p50Us"),
      failed === 0 ? "" : `${failed} failed`,
    ]);
  }
  console.log(
    `\nBLS, one instance of each model, p50 in us (median of ${options.repeat} runs, taking turns); ` +
      "goal: deno BLS <= 0.5x python BLS and <= 3x deno direct",
  );
  console.log(renderTable([
    "case",
    "concurrency",
    "deno BLS",
    "deno direct",
    `${them} BLS`,
    `${them} direct`,
    `BLS deno/${them}`,
    "deno BLS/direct",
    "",
  ], rows));
}

/**
 * The breakdown of one BLS call into hops (tests/bench/bls_trace.ts), from
 * a run with the backend's trace on (`TDN_TRACE_FILE` set before the server
 * started): `bls_add_sub` calling `add_sub` and `bls_stream` reading
 * `stream_text`, concurrency 1. The models are loaded here and unloaded
 * before the trace is read (an instance writes its marks out as it
 * finalizes).
 */
export async function traceBls(
  server: TritonServer,
  traceFile: string,
  scale: number,
  waitForStubs: () => Promise<void>,
): Promise<void> {
  for (const name of DENO_MODELS) await server.loadModel(name);
  const count = Math.max(50, Math.round(2000 * scale));
  let add: Run;
  let stream: Run;
  try {
    add = await timedRun(server, BLS_SUBJECTS["deno BLS"], count, 1);
    stream = await timedRun(server, STREAM_SUBJECTS["deno BLS"], count, 1);
  } finally {
    for (const name of DENO_MODELS) await server.unloadModel(name);
    await waitForStubs();
  }
  const marks = parseTrace(Deno.readTextFileSync(traceFile));
  for (
    const [title, run, caller, callee] of [
      ["bls_add_sub calling add_sub", add, "bls_add_sub_0_0", "add_sub_0"],
      ["bls_stream reading stream_text (one word)", stream, "bls_stream_0_0", "stream_text_0"],
    ] as const
  ) {
    const calls = blsCalls(marks, caller, callee);
    console.log(
      `\nWhere a BLS call's time goes: ${title}, concurrency 1, traced run ` +
        `(p50 ${formatNumber(run.p50Us, 1)} us client to client; ${calls.length} calls traced)`,
    );
    console.log(renderBreakdown(breakdown(calls)));
  }
}
