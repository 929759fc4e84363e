/**
 * gRPC beside HTTP: add_sub at 4 elements and 1 MiB per input, concurrency
 * 1 and 8, through `deno task serve`'s gRPC endpoint (`ModelInfer` with raw
 * input contents, from `@grpc/grpc-js`'s client, one channel shared by the
 * callers, as tritonclient shares one) and through its HTTP endpoint (binary
 * tensors, the light raw HTTP/1.1 client of tests/bench/http_bench.ts, one
 * keep-alive connection per caller). Both run in the same server, one after
 * the other. Prints req/s, p50 and p99 per case (microseconds).
 *
 * ```
 * deno run -A --unstable-worker-options tests/bench/grpc_bench.ts [--seconds 3] [--triton-home PREFIX]
 * ```
 * With `--triton-home`, the server runs the models in Triton's own core.
 *
 * @module
 */

import { create } from "npm:@bufbuild/protobuf@2.17.0";
import { ROOT, startServeProcess } from "../serve/server_process.ts";
import { addSubRequest, type BenchResult, checkAddSubResponse, runCase } from "./http_bench.ts";
import {
  GRPCInferenceService,
  type ModelInferRequest,
  ModelInferRequestSchema,
  type ModelInferResponse,
} from "../../runtime/serve/grpc/grpc_service_pb.ts";
import { grpc, serviceDefinition } from "../../runtime/serve/grpc/service.ts";

/** A ModelInfer request for add_sub with `elements` FP32 per input. */
function addSubGrpc(elements: number): ModelInferRequest {
  const a = new Float32Array(elements);
  const b = new Float32Array(elements).fill(1);
  for (let i = 0; i < elements; i++) a[i] = i;
  return create(ModelInferRequestSchema, {
    modelName: "add_sub",
    inputs: [
      { name: "INPUT0", datatype: "FP32", shape: [BigInt(elements)] },
      { name: "INPUT1", datatype: "FP32", shape: [BigInt(elements)] },
    ],
    rawInputContents: [new Uint8Array(a.buffer), new Uint8Array(b.buffer)],
  });
}

function checkGrpc(response: ModelInferResponse, elements: number): void {
  const index = response.outputs.findIndex((output) => output.name === "OUTPUT0");
  const raw = response.rawOutputContents[index];
  const out = new Float32Array(Uint8Array.from(raw).buffer);
  if (out.length !== elements) throw new Error(`OUTPUT0 has ${out.length} elements`);
  for (let i = 0; i < elements; i += Math.max(1, elements >> 4)) {
    if (out[i] !== i + 1) throw new Error(`OUTPUT0[${i}] = ${out[i]}, expected ${i + 1}`);
  }
}

type Call = (request: ModelInferRequest) => Promise<ModelInferResponse>;

function grpcClient(target: string): { infer: Call; close(): void } {
  const Client = grpc.makeGenericClientConstructor(serviceDefinition(GRPCInferenceService), "");
  const client = new Client(target, grpc.credentials.createInsecure(), {
    "grpc.max_receive_message_length": -1,
    "grpc.max_send_message_length": -1,
  });
  const method = (client as unknown as Record<string, unknown>).ModelInfer as (
    this: grpc.Client,
    request: ModelInferRequest,
    callback: (error: grpc.ServiceError | null, response: ModelInferResponse) => void,
  ) => void;
  return {
    infer: (request) =>
      new Promise((resolve, reject) =>
        method.call(
          client,
          request,
          (error, response) => (error ? reject(error) : resolve(response)),
        )
      ),
    close: () => client.close(),
  };
}

function percentile(sorted: Float64Array, fraction: number): number {
  return sorted.length === 0
    ? NaN
    : sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))];
}

async function grpcCase(options: {
  label: string;
  infer: Call;
  request: ModelInferRequest;
  elements: number;
  concurrency: number;
  seconds: number;
}): Promise<BenchResult> {
  const latencies: number[] = [];
  let failures = 0;
  checkGrpc(await options.infer(options.request), options.elements);
  const warmupEnd = performance.now() + 300;
  const deadline = warmupEnd + options.seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const start = performance.now();
      try {
        await options.infer(options.request);
      } catch {
        failures++;
      }
      if (start >= warmupEnd) latencies.push(performance.now() - start);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const sorted = Float64Array.from(latencies).sort();
  return {
    label: options.label,
    client: "raw",
    concurrency: options.concurrency,
    requests: latencies.length,
    failures,
    perSecond: latencies.length / options.seconds,
    p50Us: percentile(sorted, 0.5) * 1000,
    p99Us: percentile(sorted, 0.99) * 1000,
  };
}

function row(protocol: string, result: BenchResult): string {
  return [
    result.label.padEnd(22),
    protocol.padEnd(5),
    String(result.concurrency).padStart(3),
    result.perSecond.toFixed(0).padStart(9),
    result.p50Us.toFixed(0).padStart(9),
    result.p99Us.toFixed(0).padStart(9),
    String(result.requests).padStart(8),
    String(result.failures).padStart(5),
  ].join(" ");
}

async function main(args: string[]): Promise<void> {
  const flag = (name: string) => {
    const index = args.indexOf(name);
    return index >= 0 ? args[index + 1] : undefined;
  };
  const seconds = Number(flag("--seconds") ?? "3");
  const home = flag("--triton-home");
  const server = await startServeProcess({
    repository: `${ROOT}models`,
    args: home === undefined ? ["--model", "add_sub", "--max-body-bytes", String(64 << 20)] : [
      "--triton-home",
      home,
      "--model-control-mode",
      "explicit",
      "--load-model",
      "add_sub",
      "--max-body-bytes",
      String(64 << 20),
    ],
  });
  const client = grpcClient(`127.0.0.1:${server.grpcPort}`);
  const core = home === undefined ? "the stand-in core" : `Triton's core at ${home}`;
  console.log(
    `gRPC and HTTP benchmark of deno task serve on ${core} (client and server share ` +
      `${navigator.hardwareConcurrency} cores)`,
  );
  console.log(`${seconds} s per case after a 0.3 s warm-up; latencies in microseconds\n`);
  console.log("case                   proto   c     req/s       p50       p99 requests  fail");
  try {
    for (const elements of [4, 262144]) {
      const label = elements === 4 ? "add_sub 4 x FP32" : "add_sub 1 MiB / input";
      for (const concurrency of [1, 8]) {
        const http = await runCase({
          label,
          client: "raw",
          url: new URL(server.url),
          prepared: addSubRequest(elements),
          concurrency,
          seconds,
          maxRequests: 200_000,
          check: (body, headerLength) => checkAddSubResponse(body, headerLength, elements),
        });
        console.log(row("http", http));
        const viaGrpc = await grpcCase({
          label,
          infer: client.infer,
          request: addSubGrpc(elements),
          elements,
          concurrency,
          seconds,
        });
        console.log(row("grpc", viaGrpc));
      }
    }
  } finally {
    client.close();
    await server.stop("SIGTERM");
  }
}

if (import.meta.main) await main(Deno.args);
