/**
 * What the real-core benchmarks share: timing a stream of requests through
 * the client's C loop (ffi/client/bench.c), CPU and memory of this process
 * and its stubs, and taking turns between the things compared.
 *
 * @module
 */

import type { InferCall, InferRequest, TritonServer } from "../../runtime/core/mod.ts";
import { REPOSITORY_ROOT } from "../harness/paths.ts";
import { formatNumber, percentile } from "./stats.ts";

const CLOCK_TICKS_PER_SECOND = 100;

/** One timed run. */
export interface Run {
  /** Requests per second over the run. */
  requestsPerSecond: number;
  /** Median latency, submit to final response and release. */
  p50Us: number;
  /** 99th percentile latency. */
  p99Us: number;
  /** CPU of this process and its child processes (the stubs), per request. */
  cpuUsPerRequest: number;
  /**
   * Time the threads of the server process (Triton's, the backends' and the
   * client loop's; not the benchmark's JavaScript) and of the stubs spent
   * ready to run but waiting for a CPU (the run queue), per request, summed
   * over threads: where threads outnumber cores, what they wait for each
   * other. A spinning thread that offers its CPU (`sched_yield`) counts its
   * wait for it back.
   */
  waitUsPerRequest: number;
  /** Requests whose response carried an error. */
  failed: number;
}

/** CPU seconds used so far by this process and its child processes (the stubs). */
export function treeCpuSeconds(): number {
  let ticks = 0;
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const pid = Number(entry.name);
      if (pid !== Deno.pid && Number(fields[1]) !== Deno.pid) continue;
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
    } catch { /* exited meanwhile */ }
  }
  return ticks / CLOCK_TICKS_PER_SECOND;
}

/**
 * Run time of each thread of this process and its child processes,
 * nanoseconds, by "pid/tid"; `harness`: a thread of this process that runs
 * the benchmark's own JavaScript (its main thread and V8's threads) rather
 * than Triton's core or a backend.
 */
export type ThreadTimes = Map<
  string,
  { pid: number; ns: number; waitNs: number; harness: boolean }
>;

/**
 * V8's threads in this process, by name (the main thread is the other
 * harness thread). Deno's tokio threads are not told apart: Triton's own
 * threads (the instance threads above all) inherit the name of the thread
 * that created them, which is one of tokio's (the FFI call that started the
 * server or loaded the model), so they count as the server's; at rest
 * Deno's run nothing.
 */
const HARNESS_THREAD_NAMES = /^V8 /;

/**
 * Run time so far of every thread of this process and of its child
 * processes (the stubs), from each thread's schedstat (nanoseconds, where
 * /proc/<pid>/stat counts 10 ms clock ticks): what an idle row needs.
 */
export function threadTimes(): ThreadTimes {
  const times: ThreadTimes = new Map();
  for (const pid of [Deno.pid, ...childPids()]) {
    try {
      for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
        const dir = `/proc/${pid}/task/${task.name}`;
        // schedstat: time on a CPU, time waiting in a run queue (ns), slices.
        const [ns, waitNs] = Deno.readTextFileSync(`${dir}/schedstat`).split(" ").map(Number);
        const harness = pid === Deno.pid &&
          (task.name === String(pid) ||
            HARNESS_THREAD_NAMES.test(Deno.readTextFileSync(`${dir}/comm`)));
        times.set(`${pid}/${task.name}`, { pid, ns, waitNs, harness });
      }
    } catch { /* exited meanwhile */ }
  }
  return times;
}

/**
 * CPU between two {@linkcode threadTimes} samples, seconds: this process's
 * threads of Triton's core and the backends (the server's; not the
 * benchmark's own) and its child processes' (the stubs'), with how many
 * stubs. A thread that ended in between loses its last slice; one that
 * started counts whole.
 */
export function cpuBetween(
  before: ThreadTimes,
  after: ThreadTimes,
): { serverSeconds: number; stubSeconds: number; stubs: number; waitSeconds: number } {
  let server = 0;
  let stub = 0;
  let wait = 0;
  const stubs = new Set<number>();
  for (const [thread, { pid, ns, waitNs, harness }] of after) {
    const spent = ns - (before.get(thread)?.ns ?? 0);
    if (harness) continue;
    wait += waitNs - (before.get(thread)?.waitNs ?? 0);
    if (pid === Deno.pid) server += spent;
    else {
      stub += spent;
      stubs.add(pid);
    }
  }
  return {
    serverSeconds: server / 1e9,
    stubSeconds: stub / 1e9,
    stubs: stubs.size,
    waitSeconds: wait / 1e9,
  };
}

/**
 * The benchmarks' backends: this one (and, with `BENCH_BASELINE`, another
 * build of it), python_backend and Triton's C++ identity backend.
 */
export type Backend = "deno" | "python" | "identity" | "denobase";

/**
 * The identity model's config.pbtxt: two FP32 inputs, two outputs,
 * `instances` CPU instances.
 */
export function identityConfigText(name: string, backend: Backend, instances: number): string {
  const tensors = (kind: string) =>
    [0, 1].map((i) => `{ name: "${kind}${i}" data_type: TYPE_FP32 dims: [ -1 ] }`).join(", ");
  return [
    `name: "${name}"`,
    `backend: "${backend}"`,
    "max_batch_size: 0",
    `input [ ${tensors("INPUT")} ]`,
    `output [ ${tensors("OUTPUT")} ]`,
    `instance_group [ { count: ${instances} kind: KIND_CPU } ]`,
    "",
  ].join("\n");
}

/**
 * Writes the benchmark's identity model (two FP32 inputs, each output a
 * copy of its input, tests/bench/models/) for `backend` with `instances`
 * CPU instances into `repository`, as `options.name` (default
 * `<backend>_i<instances>`). A `options.nonce` ends the Deno model's source
 * with a comment, making sources no type check has seen.
 *
 * @returns The model's name.
 */
export function writeIdentityModel(
  repository: string,
  backend: Backend,
  instances: number,
  options: { name?: string; nonce?: string } = {},
): string {
  const name = options.name ?? `${backend}_i${instances}`;
  const directory = `${repository}/${name}`;
  Deno.mkdirSync(`${directory}/1`, { recursive: true });
  Deno.writeTextFileSync(
    `${directory}/config.pbtxt`,
    identityConfigText(name, backend, instances),
  );
  const models = `${REPOSITORY_ROOT}/tests/bench/models`;
  if ((backend === "deno" || backend === "denobase") && options.nonce) {
    const source = Deno.readTextFileSync(`${models}/deno_identity/model.ts`);
    Deno.writeTextFileSync(`${directory}/1/model.ts`, `${source}// ${options.nonce}\n`);
  } else if (backend === "deno" || backend === "denobase") {
    Deno.copyFileSync(`${models}/deno_identity/model.ts`, `${directory}/1/model.ts`);
  }
  if (backend === "python") {
    Deno.copyFileSync(`${models}/python_identity/model.py`, `${directory}/1/model.py`);
  }
  return name;
}

/**
 * Waits (up to 10 s) until no stub of this process is left: unloading is
 * asynchronous in Triton. Then 200 ms more, since an instance writes its
 * trace marks out right after its stub is gone.
 */
export async function waitForStubs(): Promise<void> {
  await waitForNoChildren();
  await new Promise((resolve) => setTimeout(resolve, 200));
}

/** Waits (up to 10 s) until this process has no live child process (stub) left. */
export async function waitForNoChildren(): Promise<void> {
  for (let i = 0; i < 500 && childPids().length > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** `a[key] / b[key]` to two decimals, or "-" where a run is missing. */
export function ratio(a: Run | undefined, b: Run | undefined, key: keyof Run): string {
  return a === undefined || b === undefined ? "-" : formatNumber(a[key] / b[key], 2);
}

/** Child processes of this one (stubs), for memory. */
export function childPids(): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) === Deno.pid && fields[0] !== "Z") pids.push(Number(entry.name));
    } catch { /* exited */ }
  }
  return pids;
}

/** What one pass of the client's C loop measured. */
export interface BenchLoopResult {
  /** Each request's latency, submission to final response and release, ns. */
  latencies: BigUint64Array;
  /** The whole pass, ns. */
  elapsedNs: number;
  /** Requests whose response carried an error. */
  failed: number;
}

/**
 * One pass of the client's C loop (ffi/client/bench.c): `count` copies of
 * `template`, `concurrency` at a time, each thread waiting for its answer
 * before the next.
 *
 * @throws {Error} If the loop cannot build or submit a request.
 */
export async function benchLoop(
  server: TritonServer,
  template: InferCall,
  count: number,
  concurrency: number,
): Promise<BenchLoopResult> {
  const latencies = new BigUint64Array(count);
  const elapsed = new BigUint64Array(1);
  const error = new Uint8Array(512);
  const failed = Number(
    await server.client.symbols.tdc_bench_run(
      template.handle,
      count,
      concurrency,
      latencies,
      elapsed,
      error,
      error.byteLength,
    ),
  );
  if (failed < 0) {
    throw new Error(new TextDecoder().decode(error.subarray(0, error.indexOf(0))));
  }
  return { latencies, elapsedNs: Number(elapsed[0]), failed };
}

/**
 * How long each run warms up before it is timed, seconds (`BENCH_WARMUP_SECONDS`,
 * default 3). A stub serves its first thousands of requests while V8 still
 * compiles the hot paths on its background threads (about a third more CPU
 * per request at 4 instances after 5,000 requests each than after 25,000):
 * a run measures a server that has been serving, as a server does.
 */
export const WARMUP_SECONDS: number = Math.max(
  0,
  Number(Deno.env.get("BENCH_WARMUP_SECONDS") ?? "3"),
);

/**
 * Sends `requests` copies of `request` (after {@linkcode WARMUP_SECONDS} of
 * the same requests, at least 500),
 * `concurrency` at a time, each thread waiting for its answer before the
 * next: the C loop times each from submission to final response and
 * release.
 *
 * @throws {Error} If a request cannot be built or submitted.
 */
export async function timedRun(
  server: TritonServer,
  request: InferRequest,
  requests: number,
  concurrency: number,
  warmupSeconds: number = WARMUP_SECONDS,
): Promise<Run> {
  const template = server.call(request);
  try {
    const bench = (count: number) => benchLoop(server, template, count, concurrency);
    // Warm-up: the JIT's tiers, caches, the first touch of the arena.
    const warmUntil = performance.now() + warmupSeconds * 1000;
    do await bench(Math.min(500, requests)); while (performance.now() < warmUntil);
    const threadsBefore = threadTimes();
    const cpuBefore = treeCpuSeconds();
    const { latencies, elapsedNs, failed } = await bench(requests);
    const cpu = treeCpuSeconds() - cpuBefore;
    const { waitSeconds } = cpuBetween(threadsBefore, threadTimes());
    const micros = Array.from(latencies, (ns) => Number(ns) / 1000);
    return {
      requestsPerSecond: requests / (elapsedNs / 1e9),
      p50Us: percentile(micros, 0.5),
      p99Us: percentile(micros, 0.99),
      cpuUsPerRequest: (cpu * 1e6) / requests,
      waitUsPerRequest: (waitSeconds * 1e6) / requests,
      failed,
    };
  } finally {
    template.free();
  }
}

/**
 * Measures each of `subjects` `repeat` times, taking turns, so that a slow
 * spell of the machine hits all of them; the order turns around every other
 * round (A B, B A, A B, ...), so that no subject always runs first (right
 * after a load, an unload or the other's run). Keeps each one's median run
 * by p50. A subject whose run fails (a model that stopped
 * answering, say) is left out of the later rounds and of the result, with
 * one line saying why; the others go on.
 */
export async function alternating<K extends string>(
  subjects: readonly K[],
  repeat: number,
  measure: (subject: K) => Promise<Run>,
): Promise<Map<K, Run>> {
  const runs = new Map<K, Run[]>(subjects.map((subject) => [subject, []]));
  const failed = new Set<K>();
  for (let round = 0; round < repeat; round++) {
    for (const subject of round % 2 === 0 ? subjects : [...subjects].reverse()) {
      if (failed.has(subject)) continue;
      try {
        runs.get(subject)!.push(await measure(subject));
      } catch (error) {
        failed.add(subject);
        console.log(`(${subject}: left out, ${(error as Error).message})`);
      }
    }
  }
  const medians = new Map<K, Run>();
  for (const [subject, list] of runs) {
    if (failed.has(subject) || list.length === 0) continue;
    list.sort((a, b) => a.p50Us - b.p50Us);
    medians.set(subject, list[list.length >> 1]);
  }
  return medians;
}

/**
 * Another build of this backend to compare with: the `build/deno` directory
 * of that build (`BENCH_BASELINE`), or undefined.
 */
export const BASELINE: string | undefined = Deno.env.get("BENCH_BASELINE");

/**
 * Makes the baseline build loadable as a second backend, "denobase", from
 * `backendDirectory` (runtime/core/triton_home.ts): Triton loads it from
 * `denobase/libtriton_denobase.so`, a link made beside the baseline's own
 * library, and the backend resolves its directory, so its stubs run the
 * baseline's own runtime.
 */
export function linkBaseline(backendDirectory: string, baseline: string): void {
  const library = `${baseline}/libtriton_denobase.so`;
  try {
    Deno.lstatSync(library);
  } catch {
    Deno.symlinkSync("libtriton_deno.so", library);
  }
  Deno.symlinkSync(baseline, `${backendDirectory}/denobase`);
}
