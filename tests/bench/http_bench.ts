/**
 * HTTP benchmark of `deno task serve`: add_sub over Triton's binary tensor
 * protocol at 4 elements and 1 MiB per input, and bls_add_sub (a BLS call to
 * add_sub) at 4 elements, concurrency 1 and 8, with two
 * load generators: a raw keep-alive HTTP/1.1 client over Deno.connect (light,
 * wrk-style: one prebuilt request, responses parsed by Content-Length) and
 * Deno's `fetch` (keep-alive pool). Prints req/s, p50 and p99 per case, plus
 * the HTTP floor (GET /v2/health/live) that both clients reach on this machine.
 *
 * ```
 * deno run -A --unstable-worker-options tests/bench/http_bench.ts [--url http://host:port] [--seconds 3]
 * ```
 * Without --url it starts the server itself on a free port (models/add_sub).
 *
 * @module
 */

import { ROOT, startServeProcess } from "../serve/server_process.ts";

/** One measured case. */
export interface BenchResult {
  /** What ran. */
  readonly label: string;
  /** The load generator. */
  readonly client: "raw" | "fetch";
  /** Concurrent connections (requests in flight). */
  readonly concurrency: number;
  /** Completed requests. */
  readonly requests: number;
  /** Requests that did not return 200. */
  readonly failures: number;
  /** Requests per second. */
  readonly perSecond: number;
  /** Median latency in microseconds. */
  readonly p50Us: number;
  /** 99th percentile latency in microseconds. */
  readonly p99Us: number;
}

/** A prepared request: method, path, headers and body. */
interface PreparedRequest {
  readonly method: "GET" | "POST";
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: Uint8Array<ArrayBuffer>;
}

const encoder = new TextEncoder();

/** A binary add_sub request with `elements` FP32 per input and binary outputs. */
export function addSubRequest(elements: number): PreparedRequest {
  const bytes = elements * 4;
  const header = encoder.encode(JSON.stringify({
    inputs: [
      {
        name: "INPUT0",
        datatype: "FP32",
        shape: [elements],
        parameters: { binary_data_size: bytes },
      },
      {
        name: "INPUT1",
        datatype: "FP32",
        shape: [elements],
        parameters: { binary_data_size: bytes },
      },
    ],
    parameters: { binary_data_output: true },
  }));
  const body = new Uint8Array(header.byteLength + 2 * bytes);
  body.set(header);
  const values = new Float32Array(2 * elements);
  for (let i = 0; i < elements; i++) {
    values[i] = i;
    values[elements + i] = 1;
  }
  body.set(new Uint8Array(values.buffer), header.byteLength);
  return {
    method: "POST",
    path: "/v2/models/add_sub/infer",
    headers: {
      "Content-Type": "application/octet-stream",
      "Inference-Header-Content-Length": String(header.byteLength),
    },
    body,
  };
}

/** Checks one add_sub response: OUTPUT0 = i + 1 for every element. */
export function checkAddSubResponse(
  response: Uint8Array,
  headerLength: number,
  elements: number,
): void {
  const json = JSON.parse(new TextDecoder().decode(response.subarray(0, headerLength)));
  const first = json.outputs[0];
  if (first.name !== "OUTPUT0" || first.parameters.binary_data_size !== elements * 4) {
    throw new Error(`unexpected response header: ${JSON.stringify(json)}`);
  }
  const out = new Float32Array(response.slice(headerLength, headerLength + elements * 4).buffer);
  for (let i = 0; i < elements; i += Math.max(1, elements >> 4)) {
    if (out[i] !== i + 1) throw new Error(`OUTPUT0[${i}] = ${out[i]}, expected ${i + 1}`);
  }
}

/** A keep-alive HTTP/1.1 connection that sends one prebuilt request again and again. */
class RawConnection {
  #conn: Deno.TcpConn;
  #request: Uint8Array;
  #buffer = new Uint8Array(64 * 1024);
  #filled = 0;

  private constructor(conn: Deno.TcpConn, request: Uint8Array) {
    this.#conn = conn;
    this.#request = request;
  }

  static async open(host: string, port: number, prepared: PreparedRequest): Promise<RawConnection> {
    const conn = await Deno.connect({ hostname: host, port });
    conn.setNoDelay(true);
    const head = [
      `${prepared.method} ${prepared.path} HTTP/1.1`,
      `Host: ${host}:${port}`,
      ...Object.entries(prepared.headers).map(([k, v]) => `${k}: ${v}`),
      `Content-Length: ${prepared.body.byteLength}`,
      "",
      "",
    ].join("\r\n");
    const headBytes = encoder.encode(head);
    const request = new Uint8Array(headBytes.byteLength + prepared.body.byteLength);
    request.set(headBytes);
    request.set(prepared.body, headBytes.byteLength);
    return new RawConnection(conn, request);
  }

  /** Sends the request and reads one response; returns status, body and header fields. */
  async roundTrip(): Promise<{ status: number; body: Uint8Array; headerLength: number }> {
    let written = 0;
    while (written < this.#request.byteLength) {
      written += await this.#conn.write(this.#request.subarray(written));
    }
    let headerEnd = -1;
    for (;;) {
      headerEnd = findHeaderEnd(this.#buffer, this.#filled);
      if (headerEnd >= 0) break;
      await this.#fill();
    }
    const head = new TextDecoder().decode(this.#buffer.subarray(0, headerEnd));
    const status = Number(head.slice(9, 12));
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? "0");
    const inferLength = Number(
      /\r\ninference-header-content-length: *(\d+)/i.exec(head)?.[1] ?? "0",
    );
    const start = headerEnd + 4;
    while (this.#filled < start + length) await this.#fill(start + length);
    const body = this.#buffer.subarray(start, start + length);
    const result = { status, body: body, headerLength: inferLength };
    // Move any bytes past this response to the front (there should be none).
    const rest = this.#filled - (start + length);
    this.#buffer.copyWithin(0, start + length, this.#filled);
    this.#filled = rest;
    return result;
  }

  async #fill(need = 0): Promise<void> {
    if (need > this.#buffer.byteLength || this.#filled === this.#buffer.byteLength) {
      const bigger = new Uint8Array(Math.max(need, this.#buffer.byteLength * 2));
      bigger.set(this.#buffer.subarray(0, this.#filled));
      this.#buffer = bigger;
    }
    const read = await this.#conn.read(this.#buffer.subarray(this.#filled));
    if (read === null) throw new Error("the server closed the connection");
    this.#filled += read;
  }

  close(): void {
    this.#conn.close();
  }
}

function findHeaderEnd(buffer: Uint8Array, filled: number): number {
  for (let i = 3; i < filled; i++) {
    if (buffer[i] === 10 && buffer[i - 1] === 13 && buffer[i - 2] === 10 && buffer[i - 3] === 13) {
      return i - 3;
    }
  }
  return -1;
}

function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))];
}

/**
 * Runs `concurrency` loops issuing `prepared` for `seconds` (after a short
 * warm-up), bounded also by `maxRequests`.
 */
export async function runCase(options: {
  label: string;
  client: "raw" | "fetch";
  url: URL;
  prepared: PreparedRequest;
  concurrency: number;
  seconds: number;
  maxRequests: number;
  check?: (body: Uint8Array, headerLength: number) => void;
}): Promise<BenchResult> {
  const { url, prepared, concurrency } = options;
  const latencies: number[] = [];
  let failures = 0;
  let checked = false;
  const warmupMs = 300;
  const host = url.hostname;
  const port = Number(url.port);
  const one = async (
    send: () => Promise<{ status: number; body: Uint8Array; headerLength: number }>,
    record: boolean,
  ) => {
    const start = performance.now();
    const response = await send();
    const elapsed = performance.now() - start;
    if (response.status !== 200) failures += record ? 1 : 0;
    else if (!checked && options.check) {
      options.check(response.body, response.headerLength);
      checked = true;
    }
    if (record) latencies.push(elapsed);
  };
  const worker = async (deadline: number, warmupEnd: number) => {
    let send: () => Promise<{ status: number; body: Uint8Array; headerLength: number }>;
    let close = () => {};
    if (options.client === "raw") {
      const conn = await RawConnection.open(host, port, prepared);
      send = () => conn.roundTrip();
      close = () => conn.close();
    } else {
      const target = new URL(prepared.path, url).href;
      send = async () => {
        const response = await fetch(target, {
          method: prepared.method,
          headers: prepared.headers,
          body: prepared.method === "POST" ? prepared.body : undefined,
        });
        const body = new Uint8Array(await response.arrayBuffer());
        return {
          status: response.status,
          body,
          headerLength: Number(response.headers.get("inference-header-content-length") ?? 0),
        };
      };
    }
    try {
      while (performance.now() < warmupEnd) await one(send, false);
      while (performance.now() < deadline && latencies.length < options.maxRequests) {
        await one(send, true);
      }
    } finally {
      close();
    }
  };
  const begin = performance.now();
  const warmupEnd = begin + warmupMs;
  const deadline = warmupEnd + options.seconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, () => worker(deadline, warmupEnd)));
  const measured = (performance.now() - warmupEnd) / 1000;
  const sorted = Float64Array.from(latencies).sort();
  return {
    label: options.label,
    client: options.client,
    concurrency,
    requests: latencies.length,
    failures,
    perSecond: latencies.length / measured,
    p50Us: percentile(sorted, 0.5) * 1000,
    p99Us: percentile(sorted, 0.99) * 1000,
  };
}

/**
 * Opens `count` stream_text streams that send a word a second for 100 s,
 * and waits until each has sent its first word. Aborting the signal ends
 * them.
 */
async function openStreams(url: URL, count: number, signal: AbortSignal): Promise<void> {
  const text = Array.from({ length: 100 }, (_, i) => `w${i}`).join(" ");
  await Promise.all(Array.from({ length: count }, async (_, i) => {
    const response = await fetch(new URL("/v2/models/stream_text/generate_stream", url), {
      method: "POST",
      body: JSON.stringify({
        TEXT: text,
        parameters: { delay_ms: Number(Deno.env.get("BENCH_DELAY") ?? 1000) },
      }),
      signal,
    });
    if (response.status !== 200 || response.body === null) {
      throw new Error(`stream ${i}: ${response.status} ${await response.text()}`);
    }
    // Read on in the background until aborted.
    (async () => {
      for await (const _ of response.body!) { /* discard */ }
    })().catch(() => {});
  }));
}

function formatRow(result: BenchResult): string {
  const pad = (text: string, width: number) => text.padStart(width);
  return [
    result.label.padEnd(22),
    result.client.padEnd(6),
    pad(String(result.concurrency), 3),
    pad(result.perSecond.toFixed(0), 9),
    pad(result.p50Us.toFixed(0), 9),
    pad(result.p99Us.toFixed(0), 9),
    pad(String(result.requests), 8),
    pad(String(result.failures), 5),
  ].join(" ");
}

async function main(args: string[]): Promise<void> {
  const flag = (name: string) => {
    const index = args.indexOf(name);
    return index >= 0 ? args[index + 1] : undefined;
  };
  const seconds = Number(flag("--seconds") ?? "3");
  const maxRequests = Number(flag("--max-requests") ?? "200000");
  let url: URL;
  let stop: (() => Promise<unknown>) | undefined;
  if (flag("--url") !== undefined) {
    url = new URL(flag("--url")!);
  } else {
    const server = await startServeProcess({
      repository: `${ROOT}models`,
      args: [
        "--model",
        "add_sub",
        "--model",
        "stream_text",
        "--model",
        "bls_add_sub",
        "--max-body-bytes",
        String(64 << 20),
      ],
    });
    url = new URL(server.url);
    stop = () => server.stop("SIGTERM");
  }
  const cores = navigator.hardwareConcurrency;
  console.log(`HTTP benchmark against ${url.origin} (client and server share ${cores} cores)`);
  console.log(`${seconds} s per case after a 0.3 s warm-up; latencies in microseconds\n`);
  console.log(
    "case                   client   c       req/s       p50       p99 requests  fail",
  );
  const cases: { label: string; prepared: PreparedRequest; elements?: number }[] = [
    {
      label: "GET /v2/health/live",
      prepared: { method: "GET", path: "/v2/health/live", headers: {}, body: new Uint8Array() },
    },
    { label: "add_sub 4 x FP32", prepared: addSubRequest(4), elements: 4 },
    { label: "add_sub 1 MiB / input", prepared: addSubRequest(262144), elements: 262144 },
    // The same request answered by bls_add_sub, which calls add_sub (BLS).
    {
      label: "bls_add_sub 4 x FP32",
      prepared: { ...addSubRequest(4), path: "/v2/models/bls_add_sub/infer" },
      elements: 4,
    },
  ];
  const results: BenchResult[] = [];
  try {
    for (const { label, prepared, elements } of args.includes("--streams-only") ? [] : cases) {
      for (const client of ["raw", "fetch"] as const) {
        for (const concurrency of [1, 8]) {
          const result = await runCase({
            label,
            client,
            url,
            prepared,
            concurrency,
            seconds,
            maxRequests,
            check: elements === undefined
              ? undefined
              : (body, headerLength) => checkAddSubResponse(body, headerLength, elements),
          });
          results.push(result);
          console.log(formatRow(result));
        }
      }
    }
    // Open streams must cost nothing while they wait: add_sub's latency
    // with 50 stream_text streams open (each sending a word a second).
    for (const open of [0, 50]) {
      const aborts = new AbortController();
      await openStreams(url, open, aborts.signal);
      try {
        const result = await runCase({
          label: `add_sub, ${open} streams`,
          client: "raw",
          url,
          prepared: addSubRequest(4),
          concurrency: 1,
          seconds,
          maxRequests,
          check: (body, headerLength) => checkAddSubResponse(body, headerLength, 4),
        });
        results.push(result);
        console.log(formatRow(result));
      } finally {
        aborts.abort();
      }
    }
  } finally {
    await stop?.();
  }
  const jsonPath = flag("--json");
  if (jsonPath !== undefined) Deno.writeTextFileSync(jsonPath, JSON.stringify(results, null, 2));
  console.log(
    "\nperf_analyzer: the perf-analyzer 2.60.0 wheel is not installable here " +
      "(the package index offers only 0.1.0), so no perf_analyzer figures are shown.",
  );
}

if (import.meta.main) await main(Deno.args);
