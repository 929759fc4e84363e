/**
 * Start and memory: how fast a model loads and how light its stub stays,
 * beside python_backend, and a repository of many models loaded at once.
 * Prints only; never fails on a number. In Triton's own core when
 * TRITON_HOME is set (runtime/core, in-process), through the stand-in core
 * otherwise (which is not a result, only a comparison between versions).
 *
 * Rows (model: two FP32 inputs echoed to two outputs, tests/bench/models/):
 * - load with one instance, warm: the sources were type-checked before
 *   (a verdict exists, sandbox/checks/check_verdicts.ts); median of 5, and range;
 * - load with one instance, cold: sources no check has seen (a fresh
 *   comment each time), so the stub type-checks them (TypeScript's native
 *   compiler, which passes this model without `deno check`); median of 3;
 * - one more instance of a loaded model (Triton reloads it with count 2
 *   and starts only the new instance's stub); median of 3; and the CPU
 *   time the new stub used until the load returned (all its threads, from
 *   /proc/<pid>/task/<tid>/schedstat), which a busy machine disturbs far
 *   less than the wall time;
 * - a model with 4 instances loaded from unloaded (median of 3): each
 *   backend says whether its instances may start in parallel, and both do;
 * - memory of a stub after 100 requests of 1 MiB per input: RSS, PSS,
 *   anonymous (what the stub owns), file-backed;
 * - scale: N models (BENCH_MODELS, default 200) with one instance each,
 *   the same sources no check has seen, loaded at once by the core (Triton:
 *   at server start, its load threads; stand-in: four at a time, as serve
 *   does): time until all are ready, how many are, and the memory of the
 *   server process and all stubs (RSS sum, PSS sum).
 *
 * Usage: [TRITON_HOME=<prefix>] deno run -A --unstable-worker-options tests/bench/startup_bench.ts
 * Environment: BENCH_ONLY (comma list: load, scale), BENCH_MODELS,
 * BENCH_BASELINE (the `build/deno` directory of another build of this
 * backend, as for core_bench.ts: the load rows in Triton's core then
 * compare this build with that one instead of with python_backend, taking
 * turns in every round).
 *
 * @module
 */

import { TritonServer } from "../../runtime/core/mod.ts";
import { composeBackendDirectory, tritonHome } from "../../runtime/core/triton_home.ts";
import { modelConfigToTritonJson, parseModelConfigText } from "../../runtime/model_config/mod.ts";
import { openHostLibrary } from "../../ffi/host/bindings.ts";
import { HostBackend, HostModel } from "../../runtime/serve/host_executor.ts";
import { LoadLimit } from "../../runtime/serve/load_limit.ts";
import { Host } from "../harness/host.ts";
import { buildPaths } from "../harness/paths.ts";
import {
  type Backend,
  BASELINE,
  benchLoop,
  childPids,
  identityConfigText,
  linkBaseline,
  waitForNoChildren,
  writeIdentityModel,
} from "./core_runner.ts";
import { formatNumber, median, renderTable } from "./stats.ts";

const MIB = 1024 * 1024;
const ONLY = new Set((Deno.env.get("BENCH_ONLY") ?? "load,scale").split(","));
const SCALE_MODELS = Number(Deno.env.get("BENCH_MODELS") ?? "200");

/**
 * Writes the identity model with one instance as `name` into `repository`;
 * `nonce` ends the Deno model's source with a comment, making sources no
 * type check has seen.
 *
 * @returns The model's directory.
 */
function writeModel(repository: string, name: string, backend: Backend, nonce = ""): string {
  writeIdentityModel(repository, backend, 1, { name, nonce });
  return `${repository}/${name}`;
}

/** Memory of a process, MiB: resident, proportional, anonymous, file-backed. */
interface Memory {
  rss: number;
  pss: number;
  anon: number;
  file: number;
}

function memoryOf(pid: number): Memory {
  const field = (text: string, key: string) =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? NaN) / 1024;
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const rollup = Deno.readTextFileSync(`/proc/${pid}/smaps_rollup`);
  return {
    rss: field(status, "VmRSS"),
    pss: field(rollup, "Pss"),
    anon: field(status, "RssAnon"),
    file: field(status, "RssFile"),
  };
}

/** CPU time a process used so far, all its threads, in ms (the scheduler's own count). */
function cpuMillisOf(pid: number): number {
  let nanoseconds = 0;
  for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
    try {
      nanoseconds += Number(
        Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/schedstat`).split(" ")[0],
      );
    } catch { /* the thread ended meanwhile */ }
  }
  return nanoseconds / 1e6;
}

async function timed(action: () => Promise<unknown> | unknown): Promise<number> {
  const started = performance.now();
  await action();
  return performance.now() - started;
}

function summary(times: number[]): string {
  if (times.length === 0) return "-";
  const low = Math.min(...times);
  const high = Math.max(...times);
  return `${formatNumber(median(times), 0)} (${formatNumber(low, 0)}-${formatNumber(high, 0)})`;
}

function memoryCells(memory: Memory | undefined): string[] {
  if (memory === undefined) return ["-", "-", "-", "-"];
  return [memory.rss, memory.pss, memory.anon, memory.file].map((v) => formatNumber(v, 1));
}

const TARGETS = {
  warm: "<= 100",
  cold: "<= 400",
  extra: "<= 60",
  rss: "<= 45",
};

/** One backend's load measurements. */
interface LoadTimes {
  warm: number[];
  cold: number[];
  extra: number[];
  extraCpu: number[];
  four: number[];
}

/**
 * The load rows in Triton's core. The backends take turns in every round
 * of every row, so that a slow spell of the machine hits all of them.
 */
async function coreLoadRows(home: NonNullable<ReturnType<typeof tritonHome>>): Promise<void> {
  const repository = Deno.makeTempDirSync({ prefix: "startup_bench_repo_" });
  const backends: Backend[] = BASELINE !== undefined
    ? ["deno", "denobase"]
    : home.hasPython
    ? ["deno", "python"]
    : ["deno"];
  for (const backend of backends) writeModel(repository, `${backend}_warm`, backend);
  const backendDirectory = composeBackendDirectory(home, buildPaths().backendDir);
  if (BASELINE !== undefined) linkBaseline(backendDirectory, BASELINE);
  const server = await TritonServer.start({
    coreLibrary: home.coreLibrary,
    clientLibrary: buildPaths().clientLibrary,
    modelRepository: repository,
    backendDirectory,
    modelControl: "explicit",
    logInfo: false,
  });
  const unload = async (name: string) => {
    await server.unloadModel(name);
    await waitForNoChildren();
  };
  const withCount = (name: string, count: number) =>
    JSON.stringify({
      ...server.modelConfig(name),
      instance_group: [{ count, kind: "KIND_CPU" }],
    });
  try {
    const times = new Map<Backend, LoadTimes>();
    for (const backend of backends) {
      times.set(backend, { warm: [], cold: [], extra: [], extraCpu: [], four: [] });
      await server.loadModel(`${backend}_warm`); // checks the sources (or finds them checked)
      await unload(`${backend}_warm`);
    }
    for (let i = 0; i < 5; i++) {
      for (const backend of backends) {
        const name = `${backend}_warm`;
        times.get(backend)!.warm.push(await timed(() => server.loadModel(name)));
        await unload(name);
      }
    }
    for (let i = 0; i < 3; i++) {
      for (const backend of backends.filter((backend) => backend !== "python")) {
        const name = `${backend}_cold_${i}`;
        writeModel(repository, name, backend, crypto.randomUUID());
        times.get(backend)!.cold.push(await timed(() => server.loadModel(name)));
        await unload(name);
      }
    }
    for (let i = 0; i < 3; i++) {
      for (const backend of backends) {
        const name = `${backend}_warm`;
        await server.loadModel(name);
        const two = withCount(name, 2);
        const before = new Set(childPids());
        const row = times.get(backend)!;
        row.extra.push(await timed(() => server.loadModel(name, { config: two })));
        const added = childPids().filter((pid) => !before.has(pid));
        if (added.length === 1) row.extraCpu.push(cpuMillisOf(added[0]));
        await unload(name);
      }
    }
    // All at once from unloaded: the instances start in parallel
    // (TRITONBACKEND_GetBackendAttribute), so this is near one stub's start.
    const four = new Map<Backend, string>();
    for (const backend of backends) {
      const name = `${backend}_warm`;
      await server.loadModel(name);
      four.set(backend, withCount(name, 4));
      await unload(name);
    }
    for (let i = 0; i < 3; i++) {
      for (const backend of backends) {
        const name = `${backend}_warm`;
        times.get(backend)!.four.push(
          await timed(() => server.loadModel(name, { config: four.get(backend)! })),
        );
        await unload(name);
      }
    }
    const rows: string[][] = [];
    for (const backend of backends) {
      const name = `${backend}_warm`;
      await server.loadModel(name);
      await megabyteRequests(server, name, 100);
      const [stub] = childPids();
      let memory: Memory | undefined;
      let idle: Memory | undefined;
      if (stub !== undefined) {
        memory = memoryOf(stub);
        // An idle stub gives back what it touched while busy.
        await new Promise((resolve) => setTimeout(resolve, 2500));
        idle = memoryOf(stub);
      }
      await unload(name);
      const row = times.get(backend)!;
      rows.push([
        backend === "denobase" ? "baseline" : backend,
        summary(row.warm),
        summary(row.cold),
        summary(row.extra),
        summary(row.extraCpu),
        summary(row.four),
        ...memoryCells(memory),
        idle === undefined ? "-" : `${formatNumber(idle.rss, 1)} / ${formatNumber(idle.pss, 1)}`,
      ]);
    }
    rows.push([
      "target (deno)",
      TARGETS.warm,
      TARGETS.cold,
      TARGETS.extra,
      "-",
      "-",
      TARGETS.rss,
      "-",
      "-",
      "-",
      "-",
    ]);
    console.log(
      "\nModel load in Triton's core, ms: median (min-max), the new stub's CPU ms for +1 instance; " +
        "stub memory after 100 requests of 1 MiB, MiB, and 2.5 s later, idle",
    );
    if (BASELINE !== undefined) console.log(`baseline: the build in ${BASELINE}`);
    console.log(renderTable([
      "backend",
      "load warm (5)",
      "load cold (3)",
      "+1 instance (3)",
      "its CPU",
      "4 instances (3)",
      "stub RSS",
      "PSS",
      "anon",
      "file",
      "idle RSS / PSS",
    ], rows));
  } finally {
    await server.stop();
    Deno.removeSync(repository, { recursive: true });
    Deno.removeSync(backendDirectory, { recursive: true });
  }
}

/** `count` requests of 1 MiB per input, back to back (ffi/client's loop). */
async function megabyteRequests(server: TritonServer, model: string, count: number) {
  const elements = MIB / 4;
  const data = new Uint8Array(new Float32Array(elements).map((_, i) => i % 97).buffer);
  const template = server.call({
    model,
    inputs: [
      { name: "INPUT0", datatype: "FP32", shape: [elements], data },
      { name: "INPUT1", datatype: "FP32", shape: [elements], data },
    ],
  });
  try {
    const { failed } = await benchLoop(server, template, count, 1);
    if (failed !== 0) throw new Error(`${failed} of ${count} 1 MiB requests failed`);
  } finally {
    template.free();
  }
}

/** The scale row in Triton's core: every model loads at server start. */
async function coreScaleRow(home: NonNullable<ReturnType<typeof tritonHome>>): Promise<void> {
  const repository = Deno.makeTempDirSync({ prefix: "startup_bench_scale_" });
  const nonce = crypto.randomUUID();
  const names = Array.from({ length: SCALE_MODELS }, (_, i) => `m${String(i).padStart(3, "0")}`);
  for (const name of names) writeModel(repository, name, "deno", nonce);
  const backendDirectory = composeBackendDirectory(home, buildPaths().backendDir);
  let server: TritonServer | undefined;
  try {
    const emptyRepository = Deno.makeTempDirSync({ prefix: "startup_bench_empty_" });
    const emptyStart = await timed(async () => {
      const empty = await TritonServer.start({
        coreLibrary: home.coreLibrary,
        clientLibrary: buildPaths().clientLibrary,
        modelRepository: emptyRepository,
        backendDirectory,
        modelControl: "none",
        logInfo: false,
      });
      await empty.stop();
    });
    Deno.removeSync(emptyRepository, { recursive: true });
    const started = performance.now();
    server = await TritonServer.start({
      coreLibrary: home.coreLibrary,
      clientLibrary: buildPaths().clientLibrary,
      modelRepository: repository,
      backendDirectory,
      modelControl: "none",
      logInfo: false,
    });
    const seconds = (performance.now() - started) / 1000;
    const ready = names.filter((name) => server!.modelReady(name)).length;
    printScale("Triton's core (its load threads, at server start)", {
      seconds,
      ready,
      note: `an empty server starts in ${formatNumber(emptyStart, 0)} ms`,
    });
  } finally {
    await server?.stop();
    Deno.removeSync(repository, { recursive: true });
    Deno.removeSync(backendDirectory, { recursive: true });
  }
}

/** Prints the scale row: time, readiness, and the memory of this process and its stubs. */
function printScale(where: string, run: { seconds: number; ready: number; note: string }): void {
  const stubs = childPids().map(memoryOf);
  const server = memoryOf(Deno.pid);
  const sum = (key: keyof Memory) => stubs.reduce((total, m) => total + m[key], 0);
  const gib = (mib: number) => formatNumber(mib / 1024, 2);
  console.log(
    `\n${SCALE_MODELS} models with one instance each, the same sources no check had seen; ${where}`,
  );
  console.log(renderTable([
    "models",
    "ready",
    "load all, s",
    "stubs",
    "total PSS GiB",
    "total RSS GiB",
    "stubs' anon GiB",
    "per stub RSS / PSS MiB",
    "target",
  ], [[
    String(SCALE_MODELS),
    String(run.ready),
    formatNumber(run.seconds, 1),
    String(stubs.length),
    gib(sum("pss") + server.pss),
    gib(sum("rss") + server.rss),
    gib(sum("anon")),
    `${formatNumber(sum("rss") / Math.max(1, stubs.length), 1)} / ${
      formatNumber(sum("pss") / Math.max(1, stubs.length), 1)
    }`,
    "all ready, <= 60 s, <= 10 GiB",
  ]]));
  console.log(`(${run.note}; the server process is this benchmark, with the core in it)`);
}

/** The load rows through the stand-in core. */
async function standInLoadRows(): Promise<void> {
  const repository = Deno.makeTempDirSync({ prefix: "startup_bench_repo_" });
  const host = Host.open({ options: { "shm-region-prefix-name": "tdn_startup_bench" } });
  try {
    const warmDir = writeModel(repository, "deno_warm", "deno");
    host.loadModel(warmDir).unload();
    const warm: number[] = [];
    for (let i = 0; i < 5; i++) {
      let model: ReturnType<Host["loadModel"]> | undefined;
      warm.push(await timed(() => (model = host.loadModel(warmDir))));
      model!.unload();
    }
    const cold: number[] = [];
    for (let i = 0; i < 3; i++) {
      const dir = writeModel(repository, `deno_cold_${i}`, "deno", crypto.randomUUID());
      let model: ReturnType<Host["loadModel"]> | undefined;
      cold.push(await timed(() => (model = host.loadModel(dir))));
      model!.unload();
    }
    // The stand-in cannot add an instance to a loaded model: two instances minus one.
    const extra: number[] = [];
    for (let i = 0; i < 3; i++) {
      let one: ReturnType<Host["loadModel"]> | undefined;
      let two: ReturnType<Host["loadModel"]> | undefined;
      const single = await timed(() => (one = host.loadModel(warmDir, { instanceCount: 1 })));
      one!.unload();
      const double = await timed(() => (two = host.loadModel(warmDir, { instanceCount: 2 })));
      two!.unload();
      extra.push(double - single);
    }
    const model = host.loadModel(warmDir);
    const data = new Float32Array(MIB / 4);
    for (let i = 0; i < 100; i++) {
      model.execute(0, [{
        inputs: [
          { name: "INPUT0", datatype: "FP32", shape: [data.length], data },
          { name: "INPUT1", datatype: "FP32", shape: [data.length], data },
        ],
      }]);
    }
    const [stub] = childPids();
    const memory = stub === undefined ? undefined : memoryOf(stub);
    model.unload();
    console.log(
      "\nModel load through the stand-in core, ms: median (min-max); stub memory after 100 requests of 1 MiB, MiB",
    );
    console.log(renderTable(
      [
        "backend",
        "load warm (5)",
        "load cold (3)",
        "+1 instance (3)",
        "stub RSS",
        "PSS",
        "anon",
        "file",
      ],
      [
        ["deno", summary(warm), summary(cold), summary(extra), ...memoryCells(memory)],
        ["target", TARGETS.warm, TARGETS.cold, TARGETS.extra, TARGETS.rss, "-", "-", "-"],
      ],
    ));
  } finally {
    host.close();
    Deno.removeSync(repository, { recursive: true });
  }
}

/** The scale row through the stand-in core: four loads at a time, as serve loads. */
async function standInScaleRow(): Promise<void> {
  const repository = Deno.makeTempDirSync({ prefix: "startup_bench_scale_" });
  const nonce = crypto.randomUUID();
  const names = Array.from({ length: SCALE_MODELS }, (_, i) => `m${String(i).padStart(3, "0")}`);
  for (const name of names) writeModel(repository, name, "deno", nonce);
  const paths = buildPaths();
  const library = openHostLibrary(paths.hostLibrary);
  const backend = HostBackend.load(library, paths.backendLibrary, paths.backendDir, {
    "shm-region-prefix-name": "tdn_startup_scale",
  });
  const models: HostModel[] = [];
  try {
    const limit = new LoadLimit(4);
    const started = performance.now();
    const outcomes = await Promise.allSettled(names.map((name) =>
      limit.run(() =>
        HostModel.load(
          backend,
          name,
          1,
          `${repository}/${name}`,
          modelConfigToTritonJson(
            parseModelConfigText(identityConfigText(name, "deno", 1)),
          ),
          1,
          false,
        )
      )
    ));
    const seconds = (performance.now() - started) / 1000;
    for (const outcome of outcomes) if (outcome.status === "fulfilled") models.push(outcome.value);
    printScale("the stand-in core, four loads at a time (as serve)", {
      seconds,
      ready: models.length,
      note: "stand-in: not a result",
    });
  } finally {
    for (const model of models) await model.unload().catch(() => {});
    await backend.unload().catch(() => {});
    library.close();
    Deno.removeSync(repository, { recursive: true });
  }
}

async function main(): Promise<void> {
  const home = tritonHome();
  console.log(
    home === undefined
      ? "Start and memory through the stand-in core (TRITON_HOME is not set)"
      : `Start and memory in Triton's core at ${home.prefix}; python_backend ${
        home.hasPython ? "present" : "absent"
      }`,
  );
  console.log(`deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs`);
  if (ONLY.has("load")) await (home === undefined ? standInLoadRows() : coreLoadRows(home));
  if (ONLY.has("scale")) await (home === undefined ? standInScaleRow() : coreScaleRow(home));
}

await main();
