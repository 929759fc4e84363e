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
 * BENCH_WARMUP_SECONDS (each run's warm-up, default 3: tests/bench/core_runner.ts),
 * BENCH_REPEAT (runs per cell, default 3: the backends take turns and each
 * cell shows the median run by p50; these VMs are noisy), BENCH_ONLY (comma
 * list of row groups: small, large, load, bls (tests/bench/core_bls.ts),
 * idle (CPU of loaded instances that get no requests)),
 * BENCH_INSTANCES and BENCH_CONCURRENCY (comma lists narrowing the small
 * rows, default "1,2,4" and "1,4"), BENCH_BASELINE (the `build/deno`
 * directory of another build of this backend: the small, large and BLS
 * rows then compare this build with that one instead of with python_backend,
 * taking turns in the same run; it gets a `libtriton_denobase.so` link so
 * that Triton can load it as a second backend), BENCH_LOG_INFO=1 (Triton's
 * info log on standard error: what the backend says at unload, such as how
 * often a model woke a sibling instance early).
 *
 * @module
 */

import { TritonServer } from "../../runtime/core/mod.ts";
import { buildPaths } from "../harness/paths.ts";
import { composeBackendDirectory, tritonHome } from "../../runtime/core/triton_home.ts";
import { formatNumber, percentile, renderTable } from "./stats.ts";
import {
  benchBls,
  blsModelNames,
  idleStreamSubjects,
  traceBls,
  writeBlsModels,
} from "./core_bls.ts";
import {
  alternating,
  type Backend,
  BASELINE,
  childPids,
  cpuBetween,
  linkBaseline,
  ratio,
  type Run,
  threadTimes,
  timedRun,
  waitForStubs,
  WARMUP_SECONDS,
  writeIdentityModel,
} from "./core_runner.ts";

const MIB = 1024 * 1024;
const SCALE = Number(Deno.env.get("BENCH_SCALE") ?? "1");
const REPEAT = Math.max(1, Number(Deno.env.get("BENCH_REPEAT") ?? "3"));
const ONLY = new Set((Deno.env.get("BENCH_ONLY") ?? "small,large,load,bls,idle").split(","));
const INSTANCES = numberList("BENCH_INSTANCES", [1, 2, 4]);
const CONCURRENCY = numberList("BENCH_CONCURRENCY", [1, 4]);

/** A comma list of positive integers from the environment, or `fallback`. */
function numberList(variable: string, fallback: number[]): number[] {
  const text = Deno.env.get(variable);
  if (text === undefined || text === "") return fallback;
  const values = text.split(",").map(Number);
  if (values.some((value) => !Number.isInteger(value) || value < 1)) {
    throw new Error(`${variable} must be a comma list of positive integers, not '${text}'`);
  }
  return values;
}

if (BASELINE !== undefined) {
  for (const group of [...ONLY]) {
    if (group !== "small" && group !== "large" && group !== "bls") ONLY.delete(group);
  }
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

/** One run of `elements` FP32 elements per input against `model`. */
function run(
  server: TritonServer,
  model: string,
  elements: number,
  requests: number,
  concurrency: number,
  warmupSeconds?: number,
): Promise<Run> {
  const data = new Uint8Array(new Float32Array(elements).map((_, i) => i % 97).buffer);
  return timedRun(
    server,
    {
      model,
      inputs: [
        { name: "INPUT0", datatype: "FP32", shape: [elements], data },
        { name: "INPUT1", datatype: "FP32", shape: [elements], data },
      ],
    },
    requests,
    concurrency,
    warmupSeconds,
  );
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
    await waitForStubs();
  }
}

/** Each backend REPEAT times, taking turns; each one's median run by p50. */
function alternatingBackends(
  backends: readonly Backend[],
  measure: (backend: Backend) => Promise<Run>,
): Promise<Map<Backend, Run>> {
  return alternating(backends, REPEAT, measure);
}

function cell(run: Run | undefined, key: keyof Run, decimals = 0): string {
  return run === undefined ? "-" : formatNumber(run[key], decimals);
}

/**
 * The BLS breakdown comes from a second process whose backend traces every
 * hop (ffi/src/trace.h): tracing costs a little, so the tables above are
 * measured without it.
 */
async function tracedChild(): Promise<void> {
  const traceFile = Deno.makeTempFileSync({ prefix: "core_bench_trace_" });
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--unstable-worker-options", new URL(import.meta.url).pathname],
      // The backend's trace buffer holds a fixed number of marks: a long
      // warm-up's calls would fill it before the timed ones.
      env: { BENCH_ONLY: "bls-trace", TDN_TRACE_FILE: traceFile, BENCH_WARMUP_SECONDS: "0" },
      stdout: "inherit",
      stderr: "inherit",
    });
    const { code } = await child.output();
    if (code !== 0) console.log(`(the traced BLS run failed with exit code ${code})`);
  } finally {
    Deno.removeSync(traceFile);
  }
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
  const backends: Backend[] = BASELINE !== undefined
    ? ["deno", "denobase"]
    : home.hasPython
    ? ["deno", "python"]
    : ["deno"];
  const counts = new Set([1, ...INSTANCES]); // the large and load rows use one instance
  for (const backend of backends) {
    for (const n of counts) writeIdentityModel(repository, backend, n);
  }
  if (home.hasIdentity) writeIdentityModel(repository, "identity", 1);
  writeBlsModels(repository, home.hasPython, BASELINE !== undefined);
  const backendDirectory = composeBackendDirectory(home, buildPaths().backendDir);
  if (BASELINE !== undefined) linkBaseline(backendDirectory, BASELINE);
  const server = await TritonServer.start({
    coreLibrary: home.coreLibrary,
    clientLibrary: buildPaths().clientLibrary,
    modelRepository: repository,
    backendDirectory,
    modelControl: "explicit",
    logInfo: Deno.env.get("BENCH_LOG_INFO") === "1",
  });
  console.log(
    `Real Triton core ${home.prefix}; ${navigator.hardwareConcurrency} CPUs; ` +
      `python_backend ${home.hasPython ? "present" : "absent"}; ` +
      `identity backend ${home.hasIdentity ? "present" : "absent"}`,
  );
  try {
    if (ONLY.has("small")) {
      const rows: string[][] = [];
      for (const instances of INSTANCES) {
        for (const concurrency of CONCURRENCY) {
          const results = await alternatingBackends(
            backends,
            (backend) =>
              withModel(
                server,
                `${backend}_i${instances}`,
                () =>
                  run(server, `${backend}_i${instances}`, 4, Math.round(4000 * SCALE), concurrency),
              ),
          );
          const ours = results.get("deno");
          const python = results.get(BASELINE !== undefined ? "denobase" : "python");
          rows.push([
            String(instances),
            String(concurrency),
            cell(ours, "requestsPerSecond"),
            cell(ours, "p50Us", 1),
            cell(ours, "p99Us", 1),
            cell(ours, "cpuUsPerRequest", 1),
            cell(ours, "waitUsPerRequest", 1),
            cell(python, "requestsPerSecond"),
            cell(python, "p50Us", 1),
            cell(python, "p99Us", 1),
            cell(python, "cpuUsPerRequest", 1),
            cell(python, "waitUsPerRequest", 1),
            ratio(ours, python, "p50Us"),
            ratio(ours, python, "requestsPerSecond"),
          ]);
        }
      }
      console.log(
        `\n4 FP32 elements per input (identity, 2 inputs, 2 outputs), ${
          Math.round(4000 * SCALE)
        } requests a run after ${WARMUP_SECONDS} s of warm-up, median of ${REPEAT} runs by p50; ` +
          "wait: what the server's and the stubs' threads spent ready to run, waiting for a " +
          "CPU (schedstat, a yielding spinner's included), per request",
      );
      const other = BASELINE !== undefined ? "baseline" : "python";
      if (BASELINE !== undefined) console.log(`baseline: the build in ${BASELINE}`);
      console.log(renderTable([
        "instances",
        "concurrency",
        "deno req/s",
        "p50 us",
        "p99 us",
        "CPU us/req",
        "wait us/req",
        `${other} req/s`,
        "p50 us",
        "p99 us",
        "CPU us/req",
        "wait us/req",
        `p50 deno/${other}`,
        `req/s deno/${other}`,
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
        const results = await alternatingBackends(
          [...backends, ...(home.hasIdentity ? ["identity" as const] : [])],
          (backend) =>
            withModel(
              server,
              `${backend}_i1`,
              () => run(server, `${backend}_i1`, elements, Math.round(requests * SCALE), 1),
            ),
        );
        const ours = results.get("deno");
        const python = results.get(BASELINE !== undefined ? "denobase" : "python");
        const identity = results.get("identity");
        rows.push([
          label,
          cell(ours, "requestsPerSecond"),
          cell(ours, "p50Us"),
          cell(python, "requestsPerSecond"),
          cell(python, "p50Us"),
          cell(identity, "requestsPerSecond"),
          cell(identity, "p50Us"),
          ratio(ours, python, "requestsPerSecond"),
          ratio(identity, ours, "requestsPerSecond"),
        ]);
      }
      const other = BASELINE !== undefined ? "baseline" : "python";
      console.log("\nLarge tensors per input, 1 instance, concurrency 1");
      if (BASELINE !== undefined) console.log(`baseline: the build in ${BASELINE}`);
      console.log(renderTable([
        "per input",
        "deno req/s",
        "p50 us",
        `${other} req/s`,
        "p50 us",
        "C++ identity req/s",
        "p50 us",
        `req/s deno/${other}`,
        "identity/deno req/s",
      ], rows));
    }
    if (ONLY.has("bls-trace")) {
      await traceBls(server, Deno.env.get("TDN_TRACE_FILE")!, SCALE, waitForStubs);
    }
    if (ONLY.has("bls")) {
      const baseline = BASELINE !== undefined;
      const withPython = home.hasPython && !baseline;
      const names = blsModelNames(withPython, baseline);
      for (const name of names) await server.loadModel(name);
      try {
        await benchBls(server, { repeat: REPEAT, scale: SCALE, withPython, baseline });
      } finally {
        for (const name of names) await server.unloadModel(name);
        await waitForStubs();
      }
      // The hops of this build's calls (not a comparison).
      if (!baseline) await tracedChild();
    }
    if (ONLY.has("idle")) {
      // An idle instance must use no CPU: the most instances of each
      // backend, loaded and served, then left alone; and a decoupled model
      // (its own response thread in the server) the same way.
      const instances = Math.max(...INSTANCES);
      const rows: string[][] = [];
      const idleRow = async (label: string, model: string, serve: () => Promise<unknown>) => {
        await withModel(server, model, async () => {
          await serve();
          // A stream's wait that outlived its work took about 3 s to move
          // to the event loop on a quiet machine (runtime/wire/futex_proxy.ts,
          // tests/serve/idle_stub_test.ts): rest past that.
          await new Promise((resolve) => setTimeout(resolve, 5000));
          const before = threadTimes();
          const started = performance.now();
          await new Promise((resolve) => setTimeout(resolve, 10_000));
          const seconds = (performance.now() - started) / 1000;
          const cpu = cpuBetween(before, threadTimes());
          rows.push([
            label,
            String(cpu.stubs),
            formatNumber((cpu.serverSeconds + cpu.stubSeconds) / seconds * 100, 3),
            formatNumber(cpu.serverSeconds / seconds * 100, 3),
            cpu.stubs === 0 ? "-" : formatNumber(cpu.stubSeconds / seconds / cpu.stubs * 1e6, 1),
          ]);
        });
      };
      for (const backend of backends) {
        await idleRow(
          backend,
          `${backend}_i${instances}`,
          () => run(server, `${backend}_i${instances}`, 4, 1000, 4, 0),
        );
      }
      for (const [label, subject] of idleStreamSubjects(home.hasPython)) {
        await idleRow(label, subject.model, () => timedRun(server, subject, 200, 1, 0));
      }
      console.log(
        "\nIdle: CPU over 10 s without requests (after 1,500 requests, or 400 to a decoupled " +
          "model, and 5 s of rest; each thread's run time from schedstat)",
      );
      console.log(renderTable([
        "backend",
        "stubs",
        "all, % of one core",
        "server (core and backends' threads), %",
        "per stub, us CPU per s",
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
            // The memory row of issue 10: 100 requests (after the shortest
            // warm-up, as many again) after the load, not a long-serving stub.
            await run(server, `${backend}_i1`, MIB / 4, 100, 1, 0);
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
    try {
      await server.stop();
    } catch (error) {
      // A model that stopped answering (python_backend's streaming BLS has,
      // in some runs) keeps Triton's exit past its timeout; the tables stand.
      console.log(`(the server did not stop cleanly: ${(error as Error).message})`);
    }
    killLeftoverStubs();
    Deno.removeSync(repository, { recursive: true });
    Deno.removeSync(backendDirectory, { recursive: true });
  }
}

/**
 * Kills the stubs that outlived the server (python_backend's do when one of
 * its models hangs: they would keep running, and keep this benchmark's
 * output pipe open), saying which.
 */
function killLeftoverStubs(): void {
  for (const pid of childPids()) {
    try {
      const name = Deno.readTextFileSync(`/proc/${pid}/comm`).trim();
      Deno.kill(pid, "SIGKILL");
      console.log(`(killed stub ${pid} (${name}), which outlived the server)`);
    } catch { /* gone meanwhile */ }
  }
}

await main();
