/**
 * What a server with the Deno backend costs to run, for sizing containers
 * (docs/operating.md, deploy/): the memory of the server process and of
 * each stub, the peak while the repository loads (stubs type-check their
 * models then), the shared memory the regions take, and the CPU that idle
 * instances use. Only prints; never fails on a number.
 *
 * It serves a copy of the example models (`models/`, or `--model-repository
 * DIR`) with `deno task serve`'s main, through Triton's core when
 * `TRITON_HOME` is set, the stand-in core otherwise; `--backend-directory
 * DIR` measures an install instead of the build. The type-check cache is
 * warm or cold as the backend directory has it: a fresh `make install`
 * gives the numbers of a new container (every model checked from scratch).
 *
 * Usage: [TRITON_HOME=/opt/tritonserver] deno run -A tests/bench/footprint.ts
 *          [--model-repository DIR] [--backend-directory DIR] [--requests N]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { REPOSITORY_ROOT } from "../harness/paths.ts";
import { memoryOf, parentPidOf, sleep } from "../harness/processes.ts";
import { startServeProcess } from "../serve/server_process.ts";
import { tritonHome } from "../../runtime/core/triton_home.ts";
import { renderTable } from "./stats.ts";

const MIB = 1024 * 1024;
const CLOCK_TICKS_PER_SECOND = 100;

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    "model-repository": { type: "string", default: `${REPOSITORY_ROOT}/models` },
    "backend-directory": { type: "string" },
    requests: { type: "string", default: "200" },
  },
});

/** Every process below this one (pid order). */
function descendants(): number[] {
  const parents = new Map<number, number>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const parent = parentPidOf(Number(entry.name));
    if (parent !== null) parents.set(Number(entry.name), parent);
  }
  const tree = [Deno.pid];
  for (let i = 0; i < tree.length; i++) {
    for (const [pid, parent] of parents) if (parent === tree[i]) tree.push(pid);
  }
  return tree.slice(1).sort((a, b) => a - b);
}

function commandLine(pid: number): string {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).replaceAll("\0", " ");
  } catch {
    return "";
  }
}

type Role = "server" | "stub" | "type check" | "policy evaluator" | "other";

function roleOf(pid: number): Role {
  const line = commandLine(pid);
  if (line.includes("runtime/serve/main.ts")) return "server";
  if (line.includes("runtime/stub/main.ts")) return "stub";
  if (line.includes(" check ")) return "type check";
  if (line.includes("sandbox/evaluate_main.ts")) return "policy evaluator";
  return "other";
}

function memory(pid: number): { rss: number; pss: number } {
  try {
    const { rssBytes, pssBytes } = memoryOf(pid);
    return { rss: rssBytes, pss: pssBytes };
  } catch {
    return { rss: 0, pss: 0 };
  }
}

function cpuTicks(pid: number): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]); // utime + stime
  } catch {
    return 0;
  }
}

/** Bytes of /dev/shm the server's open regions have allocated (they are unlinked at once). */
function sharedMemoryBytes(server: number): number {
  let bytes = 0;
  for (const entry of Deno.readDirSync(`/proc/${server}/fd`)) {
    const path = `/proc/${server}/fd/${entry.name}`;
    try {
      if (!Deno.readLinkSync(path).startsWith("/dev/shm/")) continue;
      bytes += (Deno.statSync(path).blocks ?? 0) * 512;
    } catch { /* closed meanwhile */ }
  }
  return bytes;
}

function copyTree(from: string, to: string): void {
  Deno.mkdirSync(to, { recursive: true });
  for (const entry of Deno.readDirSync(from)) {
    if (entry.name.endsWith("_test.ts")) continue;
    if (entry.isDirectory) copyTree(`${from}/${entry.name}`, `${to}/${entry.name}`);
    else if (entry.isFile) Deno.copyFileSync(`${from}/${entry.name}`, `${to}/${entry.name}`);
  }
}

const mib = (bytes: number) => (bytes / MIB).toFixed(1);

async function main(): Promise<void> {
  const home = tritonHome();
  const repository = await Deno.makeTempDir({ prefix: "footprint_repo_" });
  copyTree(flags["model-repository"]!, repository);
  const models = [...Deno.readDirSync(repository)].filter((entry) => entry.isDirectory)
    .map((entry) => entry.name).sort();

  // Sample the whole tree while it loads: the peak is what a memory limit must allow.
  let peakTotal = 0;
  let peakChecks = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      let total = 0;
      let checks = 0;
      for (const pid of descendants()) {
        const { rss } = memory(pid);
        total += rss;
        if (roleOf(pid) === "type check") checks++;
      }
      peakTotal = Math.max(peakTotal, total);
      peakChecks = Math.max(peakChecks, checks);
      await sleep(200);
    }
  })();
  const started = performance.now();
  const server = await startServeProcess({
    repository,
    startupMs: 900_000,
    args: [
      ...(home === undefined ? [] : ["--triton-home", home.prefix]),
      ...(flags["backend-directory"] ? ["--backend-directory", flags["backend-directory"]] : []),
      "--backend-config",
      "stub-timeout-seconds=600",
    ],
  });
  const loadSeconds = (performance.now() - started) / 1000;
  sampling = false;
  await sampler;

  // Some traffic, so that the numbers are those of a server that has served.
  const body = JSON.stringify({
    inputs: [
      { name: "INPUT0", datatype: "FP32", shape: [4], data: [1, 2, 3, 4] },
      { name: "INPUT1", datatype: "FP32", shape: [4], data: [10, 20, 30, 40] },
    ],
  });
  for (let i = 0; i < Number(flags.requests); i++) {
    for (const model of ["add_sub", "bls_add_sub"]) {
      if (!models.includes(model)) continue;
      const response = await fetch(`${server.url}/v2/models/${model}/infer`, {
        method: "POST",
        body,
      });
      await response.body?.cancel();
    }
  }
  await sleep(2000);

  const processes = descendants().map((pid) => ({ pid, role: roleOf(pid), ...memory(pid) }));
  const serverPid = processes.find((process) => process.role === "server")?.pid ?? server.pid;
  const stubs = processes.filter((process) => process.role === "stub");
  const before = new Map(processes.map((process) => [process.pid, cpuTicks(process.pid)]));
  const idleSeconds = 10;
  await sleep(idleSeconds * 1000);
  const idleTicks = processes.reduce(
    (sum, process) => sum + cpuTicks(process.pid) - (before.get(process.pid) ?? 0),
    0,
  );
  const shm = sharedMemoryBytes(serverPid);
  const serverMemory = processes.find((process) => process.pid === serverPid)!;
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  const stubRss = stubs.map((stub) => stub.rss).sort((a, b) => a - b);
  const rssRange = [stubRss[0], stubRss[stubRss.length >> 1], stubRss[stubRss.length - 1]];
  const backend = flags["backend-directory"] ?? "build/deno";
  const stubPss = stubs.map((stub) => stub.pss);

  console.log(
    `footprint: ${models.length} models, ${stubs.length} stubs, ` +
      `${home === undefined ? "stand-in core" : `Triton's core at ${home.prefix}`}, ` +
      `backend ${backend}, ${navigator.hardwareConcurrency} CPUs`,
  );
  console.log(renderTable(
    ["what", "value"],
    [
      ["load (start to listening)", `${loadSeconds.toFixed(1)} s`],
      ["peak RSS of the whole tree while loading", `${mib(peakTotal)} MiB`],
      ["type checks running at once (peak)", String(peakChecks)],
      ["server process RSS / PSS", `${mib(serverMemory.rss)} / ${mib(serverMemory.pss)} MiB`],
      ["stub RSS: min / median / max", `${rssRange.map(mib).join(" / ")} MiB`],
      [
        "stub PSS: mean (own memory, the shared deno binary split)",
        `${mib(sum(stubPss) / Math.max(1, stubs.length))} MiB`,
      ],
      ["all stubs PSS", `${mib(sum(stubPss))} MiB`],
      ["server + stubs PSS", `${mib(serverMemory.pss + sum(stubPss))} MiB`],
      ["/dev/shm allocated by the regions", `${mib(shm)} MiB`],
      [
        "CPU of the idle tree",
        `${((idleTicks / CLOCK_TICKS_PER_SECOND / idleSeconds) * 100).toFixed(2)} % of one core`,
      ],
    ],
  ));
  const stopped = await server.stop("SIGTERM");
  if (stopped.code !== 0) console.log(`server exited with ${stopped.code}:\n${stopped.log}`);
  await Deno.remove(repository, { recursive: true });
}

await main();
