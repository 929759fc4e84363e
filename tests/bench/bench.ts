/**
 * Benchmark of the Deno backend, printed beside python_backend's numbers and
 * the project's targets. It only prints; it never fails on a number.
 *
 * What it measures, all through the test host (build/libtriton_host.so),
 * the real libtriton_deno.so and real stubs:
 *   - add_sub FP32 (models/add_sub, dims [-1]) at 4 elements, 1 MiB and
 *     16 MiB per input, concurrency 1 and 4, one request per execute:
 *     req/s, p50 and p99 latency (submit to final response);
 *   - instance start: loading the model with one instance, in ms;
 *   - memory per instance: the stub's VmRSS and PSS;
 *   - the C-to-C shared-memory round trip floor, and our 4-element p50 as a
 *     multiple of it.
 *
 * Usage: deno run -A --unstable-worker-options tests/bench/bench.ts
 * Environment: TRITON_DENO_BUILD (build dir), BENCH_SCALE (request counts
 * multiplier, default 1), BENCH_INSTANCES (instances for the throughput
 * runs, default 1 like python_backend's measurement).
 *
 * @module
 */

import { exampleModelDir } from "../harness/fixtures.ts";
import { Host, type InferRequest, type LoadedModel } from "../harness/host.ts";
import { findStubPids, memoryOf } from "../harness/processes.ts";
import {
  PYTHON_BACKEND_LOAD_MS,
  PYTHON_BACKEND_STUB_MIB,
  TARGET_FLOOR_RATIO,
  TARGET_INSTANCE_MIB,
  TARGET_LOAD_MS,
  THROUGHPUT_REFERENCES,
} from "./reference.ts";
import { formatNumber, median, percentile, renderTable } from "./stats.ts";

const MIB = 1024 * 1024;
const SCALE = Number(Deno.env.get("BENCH_SCALE") ?? "1");
const THROUGHPUT_INSTANCES = Number(Deno.env.get("BENCH_INSTANCES") ?? "1");
const MODEL_DIR = exampleModelDir("add_sub");

interface SizeCase {
  label: string;
  elements: number;
  requests: number;
}

const SIZES: readonly SizeCase[] = [
  { label: "4 elements", elements: 4, requests: 20_000 },
  { label: "1 MiB", elements: MIB / 4, requests: 1_000 },
  { label: "16 MiB", elements: (16 * MIB) / 4, requests: 100 },
];
const CONCURRENCIES = [1, 4] as const;

interface ThroughputRow {
  size: SizeCase;
  concurrency: number;
  requests: number;
  requestsPerSecond: number;
  p50Us: number;
  p99Us: number;
  failures: number;
}

function addSubRequest(elements: number): InferRequest {
  const a = new Float32Array(elements);
  const b = new Float32Array(elements);
  for (let i = 0; i < elements; i++) {
    a[i] = i % 1000;
    b[i] = 1;
  }
  return {
    id: "bench",
    inputs: [
      { name: "INPUT0", datatype: "FP32", shape: [elements], data: a },
      { name: "INPUT1", datatype: "FP32", shape: [elements], data: b },
    ],
  };
}

async function measureThroughput(
  model: LoadedModel,
  size: SizeCase,
  concurrency: number,
): Promise<ThroughputRow> {
  const request = addSubRequest(size.elements);
  const requests = Math.max(concurrency * 10, Math.round(size.requests * SCALE));
  // Warm-up: JIT, page faults of a grown arena, caches.
  await model.bench(request, Math.max(concurrency * 5, Math.round(requests / 10)), concurrency);
  const run = await model.bench(request, requests, concurrency);
  const latenciesUs = Array.from(run.latenciesNs, (ns) => Number(ns) / 1000);
  return {
    size,
    concurrency,
    requests,
    requestsPerSecond: requests / (run.elapsedNs / 1e9),
    p50Us: percentile(latenciesUs, 0.5),
    p99Us: percentile(latenciesUs, 0.99),
    failures: run.failures,
  };
}

function measureLoadMs(host: Host, repetitions: number): number[] {
  const times: number[] = [];
  for (let i = 0; i < repetitions; i++) {
    const started = performance.now();
    const model = host.loadModel(MODEL_DIR, { instanceCount: 1 });
    times.push(performance.now() - started);
    model.unload();
  }
  return times;
}

function measureMemory(host: Host): { rssMiB: number; pssMiB: number; instances: number }[] {
  const results = [];
  for (const instances of [1, 2]) {
    const model = host.loadModel(MODEL_DIR, { instanceCount: instances });
    for (let i = 0; i < instances; i++) {
      for (let n = 0; n < 100; n++) model.execute(i, [addSubRequest(4)]);
    }
    const memories = findStubPids(model.directory).map(memoryOf);
    model.unload();
    if (memories.length !== instances) {
      throw new Error(`expected ${instances} stubs, found ${memories.length}`);
    }
    results.push({
      instances,
      rssMiB: memories.reduce((sum, m) => sum + m.rssBytes, 0) / instances / MIB,
      pssMiB: memories.reduce((sum, m) => sum + m.pssBytes, 0) / instances / MIB,
    });
  }
  return results;
}

async function main(): Promise<void> {
  const host = Host.open({ options: { "shm-region-prefix-name": "tdn_bench" } });
  try {
    console.log("Deno backend benchmark: add_sub FP32 (models/add_sub), one request per execute");
    console.log(
      `deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs, build ${host.paths.buildDir}, ` +
        `BENCH_SCALE=${SCALE}, ${THROUGHPUT_INSTANCES} instance(s) for throughput\n`,
    );

    const floorRuns = [];
    for (let i = 0; i < 3; i++) floorRuns.push(await host.pingPongFloor(100_000, 20));
    const floorMedianNs = median(floorRuns.map((run) => run.medianNs));
    const floorP99Ns = median(floorRuns.map((run) => run.p99Ns));

    const loadTimes = measureLoadMs(host, 5);
    const memory = measureMemory(host);

    const model = host.loadModel(MODEL_DIR, { instanceCount: THROUGHPUT_INSTANCES });
    const rows: ThroughputRow[] = [];
    for (const size of SIZES) {
      for (const concurrency of CONCURRENCIES) {
        const row = await measureThroughput(model, size, concurrency);
        rows.push(row);
        console.error(
          `  measured ${size.label} c=${concurrency}: ${formatNumber(row.requestsPerSecond)} req/s`,
        );
      }
    }
    // BLS: the same 4-element request answered by bls_add_sub calling
    // add_sub (still loaded) from inside its execute: what one call to
    // another model adds on top of a direct request.
    const blsModel = host.loadModel(exampleModelDir("bls_add_sub"), { instanceCount: 1 });
    const bls = await measureThroughput(blsModel, { ...SIZES[0], requests: 2_000 }, 1);
    blsModel.unload();
    console.error(`  measured BLS 4 elements c=1: ${formatNumber(bls.requestsPerSecond)} req/s`);
    model.unload();

    console.log(renderTable(
      [
        "per-input size",
        "conc.",
        "requests",
        "req/s",
        "p50 us",
        "p99 us",
        "failed",
        "python_backend",
        "target",
      ],
      rows.map((row) => {
        const reference = THROUGHPUT_REFERENCES[`${row.size.label}@${row.concurrency}`];
        return [
          row.size.label,
          String(row.concurrency),
          formatNumber(row.requests),
          formatNumber(row.requestsPerSecond),
          formatNumber(row.p50Us, 1),
          formatNumber(row.p99Us, 1),
          String(row.failures),
          reference?.pythonBackend ?? "-",
          reference?.target ?? "-",
        ];
      }),
    ));

    const fourElements = rows.find((row) => row.size.elements === 4 && row.concurrency === 1);
    const ratio = fourElements === undefined
      ? Number.NaN
      : (fourElements.p50Us * 1000) / floorMedianNs;
    console.log("");
    console.log(renderTable(
      ["measure", "ours", "python_backend", "target"],
      [
        [
          "instance start (load, 1 instance), median of 5",
          `${formatNumber(median(loadTimes), 1)} ms (min ${
            formatNumber(Math.min(...loadTimes), 1)
          })`,
          `${PYTHON_BACKEND_LOAD_MS} ms`,
          `<= ${TARGET_LOAD_MS} ms`,
        ],
        ...memory.map((m) => [
          `memory per instance (${m.instances} instance${m.instances > 1 ? "s" : ""} loaded)`,
          `RSS ${formatNumber(m.rssMiB, 1)} MiB, PSS ${formatNumber(m.pssMiB, 1)} MiB`,
          `${PYTHON_BACKEND_STUB_MIB} MiB RSS`,
          `<= ${TARGET_INSTANCE_MIB} MiB`,
        ]),
        [
          "BLS: bls_add_sub calling add_sub, 4 elements, c=1",
          `${formatNumber(bls.requestsPerSecond)} req/s, p50 ${formatNumber(bls.p50Us, 1)} us ` +
          `(direct: p50 ${formatNumber(fourElements?.p50Us ?? Number.NaN, 1)} us)`,
          "-",
          "-",
        ],
        [
          "C-to-C floor (64-byte round trip, spin 20 us then futex)",
          `p50 ${formatNumber(floorMedianNs)} ns, p99 ${formatNumber(floorP99Ns)} ns`,
          "-",
          "-",
        ],
        [
          "our 4-element end-to-end p50 / C floor",
          `${formatNumber(ratio, 1)}x`,
          "-",
          `IPC round trip <= ${TARGET_FLOOR_RATIO}x`,
        ],
      ],
    ));
    console.log(
      "\nThe last row compares a whole request (host -> backend -> stub -> model Worker -> back, " +
        "copies included) with one bare C round trip; the IPC-only target applies to the round trip alone.",
    );
  } finally {
    host.close();
  }
}

if (import.meta.main) await main();
