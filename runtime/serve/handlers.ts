/**
 * The HTTP handler: Triton's HTTP/REST endpoints (KServe v2 plus Triton's
 * binary data, parameters, sequence, statistics, model configuration, model
 * repository and generate extensions) over a {@linkcode ModelManager}, and
 * the models' custom metrics at `GET /metrics` (Prometheus' text format).
 *
 * @module
 */

import { modelConfigToTritonJson } from "../model_config/mod.ts";
import { readBody } from "./body.ts";
import { HEADER_LENGTH_HEADER, splitBody } from "./binary_body.ts";
import {
  ErrorCode,
  errorResponse,
  httpStatusFromErrorCode,
  invalidArg,
  ServeError,
} from "./errors.ts";
import {
  GENERATE_CONTENT_TYPE,
  GENERATE_STREAM_CONTENT_TYPE,
  generateResponseText,
  type GenerateSource,
  NOT_ONE_RESPONSE,
  parseGenerateRequest,
  sseEvent,
} from "./generate.ts";
import {
  exactRequestFromJson,
  inferRequestFromJson,
  parseInferRequest,
  parseJson,
} from "./infer_request.ts";
import { type RegionSlice, resolveSharedMemory, type SystemSharedMemory } from "./system_shm.ts";
import { LogSettings, TraceSettings } from "./settings.ts";
import { rawRequest } from "./raw_request.ts";
import {
  controlParametersFromJson,
  parseLoadRequest,
  parseUnloadRequest,
  requireExplicitControl,
} from "./repository_control.ts";
import { buildInferResponse } from "./infer_response.ts";
import { modelMetadata, serverMetadata } from "./metadata.ts";
import type { ModelRegistry, ServedVersion } from "./model_manager.ts";
import type { OpenStreams } from "./open_streams.ts";
import { ResponseChannel } from "./response_channel.ts";
import { matchRoute, type Route } from "./router.ts";
import type { InferRequest, InferResult, OutputTensor } from "./types.ts";

/** What the handler needs from the server. */
export interface HandlerContext {
  /** The models (the stand-in's manager, or Triton's core). */
  readonly manager: ModelRegistry;
  /**
   * tritonserver's `--model-control-mode`: only `explicit` lets clients
   * load and unload models (with a config override or model files).
   */
  readonly modelControl: "none" | "poll" | "explicit";
  /** The largest request body accepted, in bytes. */
  readonly maxBodyBytes: number;
  /** True once shutdown began: the server is live but no longer ready. */
  readonly stopping: () => boolean;
  /**
   * The custom metrics in Prometheus' text exposition format, as Triton's
   * metrics endpoint shows them; none when omitted.
   */
  readonly metricsText?: () => string;
  /** How long a request body may stall between reads (default 30 s): then 408. */
  readonly bodyTimeoutMs?: number;
  /** The registered system shared-memory regions (the extension is off when omitted). */
  readonly sharedMemory?: SystemSharedMemory;
  /** The logging extension's settings (defaults when omitted). */
  readonly logSettings?: LogSettings;
  /** The trace settings (defaults when omitted). */
  readonly traceSettings?: TraceSettings;
  /** Where streams are followed, so that shutdown can end them (none when omitted). */
  readonly openStreams?: OpenStreams;
}

/** The content type of Prometheus' text exposition format. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/**
 * Creates the request handler for `Deno.serve`.
 *
 * @example
 * ```ts ignore
 * Deno.serve({ port: 8000 }, createHandler({
 *   manager,
 *   modelControl: "none",
 *   maxBodyBytes: 1 << 26,
 *   stopping: () => false,
 * }));
 * ```
 */
export function createHandler(context: HandlerContext): (request: Request) => Promise<Response> {
  context = {
    ...context,
    logSettings: context.logSettings ?? new LogSettings(),
    traceSettings: context.traceSettings ?? new TraceSettings(),
  };
  return async (request: Request): Promise<Response> => {
    try {
      const route = matchRoute(new URL(request.url).pathname);
      return await dispatch(context, route, request);
    } catch (error) {
      return errorResponse(error);
    }
  };
}

function dispatch(context: HandlerContext, route: Route, request: Request): Promise<Response> {
  const { manager } = context;
  switch (route.kind) {
    case "server_metadata":
      requireMethod(request, "GET");
      return Promise.resolve(json(serverMetadata()));
    case "health": {
      requireMethod(request, "GET");
      if (route.which === "live") return Promise.resolve(new Response(null, { status: 200 }));
      return (async () => {
        const ok = !context.stopping() && await manager.allReady();
        return new Response(null, { status: ok ? 200 : 400 });
      })();
    }
    case "all_stats":
      requireMethod(request, "GET");
      return Promise.resolve(
        json({ model_stats: manager.allServed().map((served) => served.stats.toJson()) }),
      );
    case "metrics":
      requireMethod(request, "GET");
      return Promise.resolve(
        new Response(context.metricsText?.() ?? "", {
          headers: { "content-type": METRICS_CONTENT_TYPE },
        }),
      );
    case "model":
      return handleModel(context, route, request);
    case "repository_index":
      return handleIndex(context, route.repository, request);
    case "repository_control":
      return handleControl(context, route, request);
    case "logging":
      return handleLogging(context, request);
    case "trace_setting":
      return handleTraceSetting(context, route.model, request);
    case "shared_memory":
      return handleSharedMemory(context, route, request);
    case "not_found":
      return Promise.resolve(
        errorResponse(new ServeError(ErrorCode.NOT_FOUND, "Not Found", 404)),
      );
  }
}

async function handleModel(
  context: HandlerContext,
  route: Extract<Route, { kind: "model" }>,
  request: Request,
): Promise<Response> {
  const { manager } = context;
  switch (route.action) {
    case "metadata": {
      requireMethod(request, "GET");
      const served = manager.servedVersion(route.model, route.version);
      const versions = route.version === undefined
        ? manager.readyVersions(route.model)
        : [route.version];
      return json(modelMetadata(served.signature, versions));
    }
    case "ready": {
      requireMethod(request, "GET");
      if (await manager.isReady(route.model, route.version)) {
        return new Response(null, { status: 200 });
      }
      return errorResponse(invalidArg("Model version not ready"));
    }
    case "config": {
      requireMethod(request, "GET");
      const served = manager.servedVersion(route.model, route.version);
      return new Response(modelConfigToTritonJson(served.config), {
        headers: { "content-type": "application/json" },
      });
    }
    case "stats": {
      requireMethod(request, "GET");
      const served = route.version === undefined
        ? manager.readyVersions(route.model).map((v) => manager.servedVersion(route.model, v))
        : [manager.servedVersion(route.model, route.version)];
      if (served.length === 0) manager.servedVersion(route.model); // Throws the right error.
      return json({ model_stats: served.map((version) => version.stats.toJson()) });
    }
    case "infer":
      return await handleInfer(context, route.model, route.version, request);
    case "generate":
    case "generate_stream":
      return await handleGenerate(
        context,
        route.model,
        route.version,
        request,
        route.action === "generate_stream",
      );
  }
}

async function handleInfer(
  context: HandlerContext,
  model: string,
  version: number | undefined,
  request: Request,
): Promise<Response> {
  requireMethod(request, "POST");
  const served = context.manager.servedVersion(model, version);
  if (served.signature.decoupled) {
    // Triton's HTTP /infer refuses decoupled models (its CheckTransactionPolicy);
    // their responses are served by /generate and /generate_stream.
    throw new ServeError(
      ErrorCode.UNSUPPORTED,
      "HTTP end point doesn't support models with decoupled transaction policy",
    );
  }
  const body = await readBody(request, context.maxBodyBytes, context.bodyTimeoutMs);
  const split = splitBody(body, request.headers.get(HEADER_LENGTH_HEADER));
  let parsed;
  let sharedOutputs: ReadonlyMap<string, RegionSlice> = new Map();
  if (request.headers.get(HEADER_LENGTH_HEADER)?.trim() === "0") {
    // Triton's raw binary request: the body is the only input's bytes.
    const raw = rawRequest(served.signature, split.binary);
    parsed = inferRequestFromJson(served.signature, raw.json, raw.binary);
  } else if (context.sharedMemory !== undefined && mentionsSharedMemory(split.header)) {
    const json = parseJson(headerText(split.header), true);
    const resolved = await resolveSharedMemory(json, split.binary, context.sharedMemory);
    parsed = exactRequestFromJson(served.signature, resolved.json, resolved.binary);
    sharedOutputs = resolved.outputs;
  } else {
    parsed = parseInferRequest(served.signature, split);
  }
  const outcome = await served.scheduler.submit(parsed.request);
  try {
    const result = outcome.result;
    if (!result.ok) throw new ServeError(result.code, result.message);
    if (sharedOutputs.size > 0) {
      await writeSharedOutputs(context.sharedMemory!, sharedOutputs, result.outputs);
      parsed = {
        ...parsed,
        format: { ...parsed.format, sharedMemory: new Set(sharedOutputs.keys()) },
      };
    }
    return buildInferResponse({
      id: parsed.request.id,
      model,
      version: served.version,
      parameters: result.parameters,
      outputs: result.outputs,
    }, parsed.format);
  } finally {
    outcome.release();
  }
}

/**
 * `/generate` and `/generate_stream`. Errors before inference are JSON
 * errors with their status; after that the status is the first response's
 * (200, or its error's), as Triton sets it when the first response arrives.
 */
async function handleGenerate(
  context: HandlerContext,
  model: string,
  version: number | undefined,
  request: Request,
  streaming: boolean,
): Promise<Response> {
  requireMethod(request, "POST");
  const served = context.manager.servedVersion(model, version);
  const encoding = (request.headers.get("content-encoding") ?? "identity").trim().toLowerCase();
  if (encoding !== "identity" && encoding !== "") {
    throw invalidArg("Unsupported content-encoding, only 'identity' is supported.");
  }
  const body = await readBody(request, context.maxBodyBytes, context.bodyTimeoutMs);
  const parsed = parseGenerateRequest(served.signature, body);
  const source: GenerateSource = { id: parsed.id, model, version: served.version };
  const channel = new ResponseChannel();
  context.openStreams?.track(channel);
  // A streaming client that goes away cancels the body stream, which cancels
  // the request (not request.signal: Deno aborts it on success too).
  submitToChannel(served, parsed, channel);

  const first = await channel.next();
  const status = first === undefined || first.ok ? 200 : httpStatusFromErrorCode(first.code);
  if (!streaming) {
    // Triton answers /generate once the request is complete: other than
    // exactly one response is its INTERNAL error (500), not a 200 with an
    // error in the body.
    const results = first === undefined ? [] : [first];
    for await (const result of channel) results.push(result);
    if (results.length !== 1) {
      return errorResponse(new ServeError(ErrorCode.INTERNAL, NOT_ONE_RESPONSE));
    }
    return new Response(generateResponseText(source, results[0]), {
      status,
      headers: { "content-type": GENERATE_CONTENT_TYPE },
    });
  }
  const events = new ReadableStream<Uint8Array>({
    start(controller) {
      if (first !== undefined) controller.enqueue(sseEvent(generateResponseText(source, first)));
    },
    async pull(controller) {
      const next = await channel.next();
      if (next === undefined) controller.close();
      else controller.enqueue(sseEvent(generateResponseText(source, next)));
    },
    cancel() {
      channel.cancel();
    },
  });
  return new Response(first === undefined ? null : events, {
    status,
    headers: { "content-type": GENERATE_STREAM_CONTENT_TYPE },
  });
}

/**
 * Submits `request` so that its responses arrive in `channel`: a decoupled
 * model's executor fills the channel itself; any other model's single
 * result is put there once it has run. A request refused before it ran (a
 * full queue, a sequence error, ...) puts its error there.
 */
export function submitToChannel(
  served: ServedVersion,
  request: InferRequest,
  channel: ResponseChannel,
): void {
  const decoupled = served.signature.decoupled;
  const submitted = served.scheduler.submit(
    decoupled ? { ...request, responses: channel } : request,
  );
  submitted.then((outcome) => {
    // A decoupled request that ran is the executor's to end: responses may
    // still be coming after its execute returned.
    if (decoupled && outcome.result.ok) return;
    try {
      channel.push(readOut(outcome.result));
    } finally {
      outcome.release();
      channel.end();
    }
  }, (error) => {
    channel.push({ ok: false, code: ErrorCode.INTERNAL, message: String(error?.message ?? error) });
    channel.end();
  });
}

/** A result whose outputs no longer depend on the executor's buffers. */
function readOut(result: InferResult): InferResult {
  if (!result.ok) return result;
  const outputs = result.outputs.map((output) => {
    const bytes = new Uint8Array(output.byteSize);
    output.read(bytes);
    return { ...output, read: (destination: Uint8Array) => destination.set(bytes) };
  });
  return { ...result, outputs };
}

async function handleIndex(
  context: HandlerContext,
  repository: string | undefined,
  request: Request,
): Promise<Response> {
  requireMethod(request, "POST");
  rejectRepositoryName(repository);
  const body = await readJsonObject(request, context.maxBodyBytes, context.bodyTimeoutMs);
  let ready = false;
  if (body.ready !== undefined) {
    if (typeof body.ready !== "boolean") throw invalidArg("Unable to parse 'ready'");
    ready = body.ready;
  }
  return json(context.manager.index(ready));
}

async function handleControl(
  context: HandlerContext,
  route: Extract<Route, { kind: "repository_control" }>,
  request: Request,
): Promise<Response> {
  requireMethod(request, "POST");
  rejectRepositoryName(route.repository);
  requireExplicitControl(context.modelControl);
  const body = await readJsonObject(request, context.maxBodyBytes, context.bodyTimeoutMs);
  const parameters = controlParametersFromJson(body.parameters);
  if (route.action === "load") {
    await context.manager.load(route.model, parseLoadRequest(route.model, parameters, "http"));
  } else {
    await context.manager.unload(route.model, parseUnloadRequest(parameters, "http"));
  }
  return new Response(null, { status: 200, headers: { "content-type": "application/json" } });
}

async function handleLogging(context: HandlerContext, request: Request): Promise<Response> {
  const settings = context.logSettings!;
  if (request.method === "POST") {
    settings.update(await readJsonObject(request, context.maxBodyBytes, context.bodyTimeoutMs));
  } else {
    requireMethod(request, "GET");
  }
  return json(settings.toJson());
}

async function handleTraceSetting(
  context: HandlerContext,
  model: string | undefined,
  request: Request,
): Promise<Response> {
  const settings = context.traceSettings!;
  if (model !== undefined) context.manager.servedVersion(model); // NOT_FOUND for an unknown model.
  if (request.method === "POST") {
    settings.update(
      await readJsonObject(request, context.maxBodyBytes, context.bodyTimeoutMs),
      model,
    );
  } else {
    requireMethod(request, "GET");
  }
  return json(settings.toJson(model));
}

async function handleSharedMemory(
  context: HandlerContext,
  route: Extract<Route, { kind: "shared_memory" }>,
  request: Request,
): Promise<Response> {
  const { action, region } = route;
  requireMethod(request, action === "status" ? "GET" : "POST");
  if (route.memory === "cuda") {
    // No GPU here: no CUDA region exists, and none can be registered.
    if (action === "status") {
      if (region !== undefined) {
        throw new ServeError(
          ErrorCode.NOT_FOUND,
          `Unable to find cuda shared memory region: '${region}'`,
        );
      }
      return json([]);
    }
    if (action === "unregister") return json(null, true);
    throw new ServeError(
      ErrorCode.UNSUPPORTED,
      "CUDA shared memory is not supported by this server (it runs on CPU only)",
    );
  }
  const memory = context.sharedMemory;
  if (memory === undefined) {
    throw new ServeError(ErrorCode.UNSUPPORTED, "system shared memory is not enabled");
  }
  if (action === "status") return json(memory.status(region));
  if (action === "unregister") {
    memory.unregister(region);
    return json(null, true);
  }
  if (region === undefined) {
    return errorResponse(new ServeError(ErrorCode.NOT_FOUND, "Not Found", 404));
  }
  const body = await readJsonObject(request, context.maxBodyBytes, context.bodyTimeoutMs);
  if (typeof body.key !== "string") throw invalidArg("Unable to parse 'key'");
  const offset = body.offset ?? 0;
  if (typeof offset !== "number" || !Number.isSafeInteger(offset) || offset < 0) {
    throw invalidArg("Unable to parse 'offset'");
  }
  if (
    typeof body.byte_size !== "number" || !Number.isSafeInteger(body.byte_size) ||
    body.byte_size < 0
  ) {
    throw invalidArg("Unable to parse 'byte_size'");
  }
  await memory.register(region, body.key, offset, body.byte_size);
  return json(null, true);
}

function rejectRepositoryName(repository: string | undefined): void {
  if (repository !== undefined) {
    throw new ServeError(
      ErrorCode.UNSUPPORTED,
      "'repository_name' specification is not supported",
    );
  }
}

/** An optional JSON object body; empty means `{}`. */
async function readJsonObject(
  request: Request,
  limit: number,
  timeoutMs?: number,
): Promise<Record<string, unknown>> {
  const body = await readBody(request, limit, timeoutMs);
  if (body.byteLength === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(body));
  } catch (error) {
    throw invalidArg(`failed to parse the request JSON buffer: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalidArg("failed to parse the request JSON buffer: not an object");
  }
  return value as Record<string, unknown>;
}

function requireMethod(request: Request, method: "GET" | "POST"): void {
  if (request.method !== method) {
    throw new ServeError(ErrorCode.UNSUPPORTED, "Method Not Allowed", 405);
  }
}

/** A JSON answer; `empty`: 200 with no body, as Triton answers a successful control call. */
function json(value: unknown, empty = false): Response {
  return new Response(empty ? null : JSON.stringify(value), {
    headers: { "content-type": "application/json" },
  });
}

const SHARED_MEMORY_MARK = new TextEncoder().encode("shared_memory_region");

/** Whether the JSON header names a shared-memory region at all (the fast path skips them). */
function mentionsSharedMemory(header: Uint8Array): boolean {
  const mark = SHARED_MEMORY_MARK;
  outer: for (let i = 0; i + mark.length <= header.length; i++) {
    for (let j = 0; j < mark.length; j++) {
      if (header[i + j] !== mark[j]) continue outer;
    }
    return true;
  }
  return false;
}

function headerText(header: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(header);
  } catch {
    throw invalidArg("failed to parse the request JSON buffer: the text is not valid UTF-8");
  }
}

/**
 * Writes each shared-memory output into its region.
 *
 * @throws {ServeError} 400 when an output is larger than its slice, in Triton's words.
 */
async function writeSharedOutputs(
  memory: SystemSharedMemory,
  slices: ReadonlyMap<string, RegionSlice>,
  outputs: readonly OutputTensor[],
): Promise<void> {
  for (const output of outputs) {
    const slice = slices.get(output.name);
    if (slice === undefined) continue;
    if (output.byteSize > slice.byteSize) {
      throw invalidArg(
        `shared memory size specified with the request for output '${output.name}' ` +
          `(${slice.byteSize} bytes) should be at least ${output.byteSize} bytes to hold the ` +
          "results",
      );
    }
    const bytes = new Uint8Array(output.byteSize);
    output.read(bytes);
    await memory.write(slice, bytes);
  }
}
