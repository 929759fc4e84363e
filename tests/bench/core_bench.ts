/**
 * The benchmark in Triton's real core: this backend beside python_backend
 * (and Triton's C++ identity backend for large tensors) in one run, driven
 * in-process through `TRITONSERVER_ServerInferAsync` by the client's C loop
 * (ffi/client/bench.c), as perf_analyzer's C API mode would.
 *
 * Model: two FP32 inputs, each output a copy of its input (`dims: [-1]`;
 * tests/bench/models/). Rows: 4 elements per input at 1, 2 and 4
 * instances, concurrency 1 and 4 (req/s, p50, p99, CPU per request of this
 * process and its stubs together); 1 MiB and 16 MiB per input with one
 * instance; model load time; stub memory. Only prints; never fails on a
 * number.
 *
 * Usage: TRITON_HOME=/opt/tritonserver deno run -A tests/bench/core_bench.ts
 * Environment: BENCH_SCALE (request count multiplier, default 1),
 * BENCH_REPEAT (runs per cell, default 3: the backends take turns and each
 * cell shows the median run by p50; these VMs are noisy), BENCH_ONLY (comma
 * list of row groups: small, large, load).
 *
 * @module
 */

import { TritonServer } from "../../runtime/core/mod.ts";
import { buildPaths, REPOSITORY_ROOT } from "../harness/paths.ts";
import { composeBackendDirectory, tritonHome } from "../../runtime/core/triton_home.ts";
import { formatNumber, percentile, renderTable } from "./stats.ts";

const MIB = 1024 * 1024;
const SCALE = Number(Deno.env.get("BENCH_SCALE") ?? "1");
const REPEAT = Math.max(1, Number(Deno.env.get("BENCH_REPEAT") ?? "3"));
const ONLY = new Set((Deno.env.get("BENCH_ONLY") ?? "small,large,load").split(","));
const CLOCK_TICKS_PER_SECOND = 100;

type Backend = "deno" | "python" | "identity";

/** Writes one model of `backend` with `instances` CPU instances into `repository`. */
function writeModel(repository: string, backend: Backend, instances: number): string {
  const name = `${backend}_i${instances}`;
  const directory = `${repository}/${name}`;
  Deno.mkdirSync(`${directory}/1`, { recursive: true });
  const tensors = (kind: string) =>
    [0, 1].map((i) => `{ name: "${kind}${i}" data_type: TYPE_FP32 dims: [ -1 ] }`).join(", ");
  Deno.writeTextFileSync(
    `${directory}/config.pbtxt`,
    [
      `name: "${name}"`,
      `backend: "${backend}"`,
      "max_batch_size: 0",
      `input [ ${tensors("INPUT")} ]`,
      `output [ ${tensors("OUTPUT")} ]`,
      `instance_group [ { count: ${instances} kind: KIND_CPU } ]`,
      "",
    ].join("\n"),
  );
  const models = `${REPOSITORY_ROOT}/tests/bench/models`;
  if (backend === "deno") {
    Deno.copyFileSync(`${models}/deno_identity/model.ts`, `${directory}/1/model.ts`);
  }
  if (backend === "python") {
    Deno.copyFileSync(`${models}/python_identity/model.py`, `${directory}/1/model.py`);
  }
  return name;
}

/** CPU seconds used so far by this process and its child processes (the stubs). */
function treeCpuSeconds(): number {
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

/** Child processes of this one (stubs), for memory. */
function childPids(): number[] {
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

function memoryMiB(pid: number): { rss: number; pss: number } {
  const read = (file: string, key: string) => {
    const match = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(Deno.readTextFileSync(file));
    return match === null ? Number.NaN : Number(match[1]) / 1024;
  };
  return {
    rss: read(`/proc/${pid}/status`, "VmRSS"),
    pss: read(`/proc/${pid}/smaps_rollup`, "Pss"),
  };
}

interface Run {
  requestsPerSecond: number;
  p50Us: number;
  p99Us: number;
  cpuUsPerRequest: number;
  failed: number;
}

async function run(
  server: TritonServer,
  model: string,
  elements: number,
  requests: number,
  concurrency: number,
): Promise<Run> {
  const data = new Uint8Array(new Float32Array(elements).map((_, i) => i % 97).buffer);
  const template = server.call({
    model,
    inputs: [
      { name: "INPUT0", datatype: "FP32", shape: [elements], data },
      { name: "INPUT1", datatype: "FP32", shape: [elements], data },
    ],
  });
  try {
    const bench = async (count: number) => {
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
    };
    await bench(Math.min(500, requests)); // warm-up: JIT, caches, first touch of the arena
    const cpuBefore = treeCpuSeconds();
    const { latencies, elapsedNs, failed } = await bench(requests);
    const cpu = treeCpuSeconds() - cpuBefore;
    const micros = Array.from(latencies, (ns) => Number(ns) / 1000);
    return {
      requestsPerSecond: requests / (elapsedNs / 1e9),
      p50Us: percentile(micros, 0.5),
      p99Us: percentile(micros, 0.99),
      cpuUsPerRequest: (cpu * 1e6) / requests,
      failed,
    };
  } finally {
    template.free();
  }
}

async function withModel<T>(
  server: TritonServer,
  model: string,
  body: (loadMs: number) => Promise<T>,
): Promise<T> {
  const started = performance.now();
  await server.loadModel(model);
  const loadMs = performance.now() - started;
  try {
    return await body(loadMs);
  } finally {
    await server.unloadModel(model);
    // Unloading is asynchronous in Triton: wait until the stubs are gone.
    for (let i = 0; i < 500 && childPids().length > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/**
 * Runs each backend REPEAT times, taking turns (A B A B ...), so that a
 * slow spell of the machine hits both; keeps each backend's median run by p50.
 */
async function alternating(
  backends: readonly Backend[],
  measure: (backend: Backend) => Promise<Run>,
): Promise<Map<Backend, Run>> {
  const runs = new Map<Backend, Run[]>(backends.map((backend) => [backend, []]));
  for (let round = 0; round < REPEAT; round++) {
    for (const backend of backends) runs.get(backend)!.push(await measure(backend));
  }
  const medians = new Map<Backend, Run>();
  for (const [backend, list] of runs) {
    list.sort((a, b) => a.p50Us - b.p50Us);
    medians.set(backend, list[list.length >> 1]);
  }
  return medians;
}

function cell(run: Run | undefined, key: keyof Run, decimals = 0): string {
  return run === undefined ? "-" : formatNumber(run[key], decimals);
}

async function main(): Promise<void> {
  const home = tritonHome();
  if (home === undefined) {
    console.log(
      "real-core benchmark skipped: TRITON_HOME is not set (see README, 'Real Triton core')",
    );
    return;
  }
  const repository = Deno.makeTempDirSync({ prefix: "core_bench_repo_" });
  const backends: Backend[] = home.hasPython ? ["deno", "python"] : ["deno"];
  for (const backend of backends) for (const n of [1, 2, 4]) writeModel(repository, backend, n);
  if (home.hasIdentity) writeModel(repository, "identity", 1);
  const backendDirectory = composeBackendDirectory(home, buildPaths().backendDir);
  const server = await TritonServer.start({
    coreLibrary: home.coreLibrary,
    clientLibrary: buildPaths().clientLibrary,
    modelRepository: repository,
    backendDirectory,
    modelControl: "explicit",
    logInfo: false,
  });
  console.log(
    `Real Triton core ${home.prefix}; ${navigator.hardwareConcurrency} CPUs; ` +
      `python_backend ${home.hasPython ? "present" : "absent"}; ` +
      `identity backend ${home.hasIdentity ? "present" : "absent"}`,
  );
  try {
    if (ONLY.has("small")) {
      const rows: string[][] = [];
      for (const instances of [1, 2, 4]) {
        for (const concurrency of [1, 4]) {
          const results = await alternating(
            backends,
            (backend) =>
              withModel(
                server,
                `${backend}_i${instances}`,
                () =>
                  run(server, `${backend}_i${instances}`, 4, Math.round(4000 * SCALE), concurrency),
              ),
          );
          const ours = results.get("deno")!;
          const python = results.get("python");
          rows.push([
            String(instances),
            String(concurrency),
            cell(ours, "requestsPerSecond"),
            cell(ours, "p50Us", 1),
            cell(ours, "p99Us", 1),
            cell(ours, "cpuUsPerRequest", 1),
            cell(python, "requestsPerSecond"),
            cell(python, "p50Us", 1),
            cell(python, "p99Us", 1),
            cell(python, "cpuUsPerRequest", 1),
            python === undefined ? "-" : formatNumber(ours.p50Us / python.p50Us, 2),
            python === undefined
              ? "-"
              : formatNumber(ours.requestsPerSecond / python.requestsPerSecond, 2),
          ]);
        }
      }
      console.log(
        `\n4 FP32 elements per input (identity, 2 inputs, 2 outputs), ${
          Math.round(4000 * SCALE)
        } requests a run, median of ${REPEAT} runs by p50`,
      );
      console.log(renderTable([
        "instances",
        "concurrency",
        "deno req/s",
        "p50 us",
        "p99 us",
        "CPU us/req",
        "python req/s",
        "p50 us",
        "p99 us",
        "CPU us/req",
        "p50 deno/python",
        "req/s deno/python",
      ], rows));
    }
    if (ONLY.has("large")) {
      const rows: string[][] = [];
      for (
        const [label, elements, requests] of [["1 MiB", MIB / 4, 1000], [
          "16 MiB",
          4 * MIB,
          100,
        ]] as const
      ) {
        const results = await alternating(
          [...backends, ...(home.hasIdentity ? ["identity" as const] : [])],
          (backend) =>
            withModel(
              server,
              `${backend}_i1`,
              () => run(server, `${backend}_i1`, elements, Math.round(requests * SCALE), 1),
            ),
        );
        const ours = results.get("deno")!;
        const python = results.get("python");
        const identity = results.get("identity");
        rows.push([
          label,
          cell(ours, "requestsPerSecond"),
          cell(ours, "p50Us"),
          cell(python, "requestsPerSecond"),
          cell(python, "p50Us"),
          cell(identity, "requestsPerSecond"),
          cell(identity, "p50Us"),
          python === undefined
            ? "-"
            : formatNumber(ours.requestsPerSecond / python.requestsPerSecond, 2),
          identity === undefined
            ? "-"
            : formatNumber(identity.requestsPerSecond / ours.requestsPerSecond, 2),
        ]);
      }
      console.log("\nLarge tensors per input, 1 instance, concurrency 1");
      console.log(renderTable([
        "per input",
        "deno req/s",
        "p50 us",
        "python req/s",
        "p50 us",
        "C++ identity req/s",
        "p50 us",
        "req/s deno/python",
        "identity/deno req/s",
      ], rows));
    }
    if (ONLY.has("load")) {
      const rows: string[][] = [];
      for (const backend of backends) {
        const loads: number[] = [];
        let memory = { rss: Number.NaN, pss: Number.NaN };
        for (let i = 0; i < 3; i++) {
          await withModel(server, `${backend}_i1`, async (loadMs) => {
            loads.push(loadMs);
            await run(server, `${backend}_i1`, MIB / 4, 100, 1);
            const [stub] = childPids();
            if (stub !== undefined) memory = memoryMiB(stub);
          });
        }
        rows.push([
          backend,
          formatNumber(percentile(loads, 0.5), 0),
          formatNumber(memory.rss, 1),
          formatNumber(memory.pss, 1),
        ]);
      }
      console.log(
        "\nModel load (1 instance, median of 3) and stub memory after 100 requests of 1 MiB",
      );
      console.log(renderTable(["backend", "load ms", "stub RSS MiB", "stub PSS MiB"], rows));
    }
  } finally {
    await server.stop();
    Deno.removeSync(repository, { recursive: true });
    Deno.removeSync(backendDirectory, { recursive: true });
  }
}

await main();
