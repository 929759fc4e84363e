/**
 * The methods of Triton's gRPC inference service over a
 * {@linkcode ModelRegistry}, the same one the HTTP front end serves (the
 * stand-in's model manager or Triton's core): health, metadata,
 * configuration, statistics, the model repository, inference
 * (`ModelInfer`) and streaming inference (`ModelStreamInfer`, the way to
 * call decoupled models), with the same request validation and the same
 * schedulers as HTTP. Errors are gRPC statuses mapped from Triton's error
 * codes, except on a stream, where, as in Triton, a failed request is a
 * response with `error_message` and the stream goes on.
 *
 * @module
 */

import { create, fromJson, type JsonValue } from "npm:@bufbuild/protobuf@2.17.0";
import { ErrorCode, invalidArg, ServeError } from "../errors.ts";
import { submitToChannel } from "../handlers.ts";
import { modelMetadata, serverMetadata } from "../metadata.ts";
import type { ModelRegistry, ServedVersion } from "../model_manager.ts";
import type { OpenStreams } from "../open_streams.ts";
import {
  controlParametersFromGrpc,
  parseLoadRequest,
  parseUnloadRequest,
  requireExplicitControl as requireModeExplicit,
} from "../repository_control.ts";
import { ResponseChannel } from "../response_channel.ts";
import type { InferResult } from "../types.ts";
import {
  CudaSharedMemoryStatusResponseSchema,
  ModelConfigResponseSchema,
  type ModelInferRequest,
  type ModelInferResponse,
  ModelMetadataResponseSchema,
  ModelReadyResponseSchema,
  ModelStatisticsResponseSchema,
  type ModelStreamInferResponse,
  ModelStreamInferResponseSchema,
  RepositoryIndexResponseSchema,
  type RepositoryModelLoadRequest,
  RepositoryModelLoadResponseSchema,
  RepositoryModelUnloadResponseSchema,
  ServerLiveResponseSchema,
  ServerMetadataResponseSchema,
  ServerReadyResponseSchema,
  SystemSharedMemoryStatusResponseSchema,
} from "./grpc_service_pb.ts";
import { HealthCheckResponse_ServingStatus, HealthCheckResponseSchema } from "./health_pb.ts";
import { emptyResponse, inferRequestFromGrpc, inferResponseToGrpc } from "./infer.ts";
import { grpc, unary } from "./service.ts";
import { callError } from "./status.ts";

/** What the gRPC methods need from the server. */
export interface GrpcContext {
  /** The models (the stand-in's manager, or Triton's core). */
  readonly manager: ModelRegistry;
  /** True once shutdown began: the server is live but no longer ready. */
  readonly stopping: () => boolean;
  /** Where streams are followed, so that shutdown can end them (none when omitted). */
  readonly openStreams?: OpenStreams;
  /**
   * tritonserver's `--model-control-mode`: outside explicit mode the
   * repository's load and unload are refused, as over HTTP (omitted: the
   * core decides).
   */
  readonly modelControl?: "none" | "poll" | "explicit";
}

/** Triton's refusal of load and unload outside explicit model control (UNAVAILABLE). */
function requireExplicitControl(context: GrpcContext): void {
  if (context.modelControl !== undefined) requireModeExplicit(context.modelControl);
}

/** The parameter marking a stream's response as the request's last. */
export const FINAL_RESPONSE_PARAMETER = "triton_final_response";

/**
 * A model version string as Triton reads it: empty for the latest, else a
 * non-negative integer.
 *
 * @throws {ServeError} `INVALID_ARG` for anything else.
 */
export function parseVersion(text: string): number | undefined {
  if (text === "") return undefined;
  if (/^[0-9]+$/.test(text)) {
    const version = Number(text);
    if (Number.isSafeInteger(version)) return version;
  }
  throw invalidArg(
    `failed to get model version from specified version string '${text}' (details: not an ` +
      "integer), version should be an integral value > 0",
  );
}

function rejectRepositoryName(repository: string): void {
  if (repository !== "") {
    throw new ServeError(
      ErrorCode.UNSUPPORTED,
      "'repository_name' specification is not supported",
    );
  }
}

/**
 * The open `ModelStreamInfer` calls, so that shutdown can end them: a
 * client may keep a stream open without a request in flight, and the
 * server's graceful shutdown waits for every call to end.
 */
export class StreamCalls {
  readonly #closers = new Set<() => void>();
  #closing = false;

  /** Follows a stream until it ends; `close` ends it once its requests are answered. */
  track(close: () => void): () => void {
    if (this.#closing) queueMicrotask(close);
    this.#closers.add(close);
    return () => this.#closers.delete(close);
  }

  /** Whether {@linkcode StreamCalls.closeAll} was called. */
  get closing(): boolean {
    return this.#closing;
  }

  /** How many are open. */
  get size(): number {
    return this.#closers.size;
  }

  /** Ends every stream once the requests it is running are answered (new ones are refused). */
  closeAll(): void {
    this.#closing = true;
    for (const close of [...this.#closers]) close();
  }
}

/**
 * The service implementation for `@grpc/grpc-js`, keyed by method name.
 * `context()` is asked on every call, so that the server can answer before
 * the models are loaded and switch to the real context afterwards.
 */
export function grpcImplementation(
  context: () => GrpcContext | undefined,
  streams: StreamCalls = new StreamCalls(),
): grpc.UntypedServiceImplementation {
  const ready = (): GrpcContext => {
    const current = context();
    if (current === undefined) {
      throw new ServeError(ErrorCode.UNAVAILABLE, "the server is starting: models are loading");
    }
    return current;
  };
  return {
    ServerLive: unary(() => Promise.resolve(create(ServerLiveResponseSchema, { live: true }))),
    ServerReady: unary(async () => {
      const current = context();
      const isReady = current !== undefined && !current.stopping() &&
        await current.manager.allReady();
      return create(ServerReadyResponseSchema, { ready: isReady });
    }),
    ModelReady: unary(async (request: { name: string; version: string }) => {
      const { manager } = ready();
      const version = parseVersion(request.version);
      return create(ModelReadyResponseSchema, {
        ready: await manager.isReady(request.name, version),
      });
    }),
    ServerMetadata: unary(() => {
      const metadata = serverMetadata();
      return Promise.resolve(create(ServerMetadataResponseSchema, metadata));
    }),
    ModelMetadata: unary((request: { name: string; version: string }) => {
      const { manager } = ready();
      const version = parseVersion(request.version);
      const served = manager.servedVersion(request.name, version);
      const versions = version === undefined ? manager.readyVersions(request.name) : [version];
      const metadata = modelMetadata(served.signature, versions);
      const tensor = (t: { name: string; datatype: string; shape: number[] }) => ({
        name: t.name,
        datatype: t.datatype,
        shape: t.shape.map(BigInt),
      });
      return Promise.resolve(create(ModelMetadataResponseSchema, {
        name: metadata.name,
        versions: metadata.versions,
        platform: metadata.platform,
        inputs: metadata.inputs.map(tensor),
        outputs: metadata.outputs.map(tensor),
      }));
    }),
    ModelConfig: unary((request: { name: string; version: string }) => {
      const { manager } = ready();
      const served = manager.servedVersion(request.name, parseVersion(request.version));
      return Promise.resolve(create(ModelConfigResponseSchema, { config: served.config }));
    }),
    ModelStatistics: unary((request: { name: string; version: string }) => {
      const { manager } = ready();
      const version = parseVersion(request.version);
      let served: ServedVersion[];
      if (request.name === "") {
        served = manager.allServed();
      } else if (version === undefined) {
        served = manager.readyVersions(request.name).map((v) =>
          manager.servedVersion(request.name, v)
        );
        if (served.length === 0) manager.servedVersion(request.name); // Throws the right error.
      } else {
        served = [manager.servedVersion(request.name, version)];
      }
      const json = { model_stats: served.map((entry) => entry.stats.toJson()) };
      return Promise.resolve(
        fromJson(ModelStatisticsResponseSchema, json as unknown as JsonValue, {
          ignoreUnknownFields: true,
        }),
      );
    }),
    RepositoryIndex: unary((request: { repositoryName: string; ready: boolean }) => {
      const { manager } = ready();
      rejectRepositoryName(request.repositoryName);
      const models = manager.index(request.ready).map((entry) => ({
        name: entry.name,
        version: entry.version ?? "",
        state: entry.state ?? "",
        reason: entry.reason ?? "",
      }));
      return Promise.resolve(create(RepositoryIndexResponseSchema, { models }));
    }),
    RepositoryModelLoad: unary(async (request: RepositoryModelLoadRequest) => {
      const context = ready();
      const { manager } = context;
      rejectRepositoryName(request.repositoryName);
      requireExplicitControl(context);
      const parameters = controlParametersFromGrpc(request.parameters);
      await manager.load(
        request.modelName,
        parseLoadRequest(request.modelName, parameters, "grpc"),
      );
      return create(RepositoryModelLoadResponseSchema);
    }),
    RepositoryModelUnload: unary(async (request: RepositoryModelLoadRequest) => {
      const context = ready();
      const { manager } = context;
      rejectRepositoryName(request.repositoryName);
      requireExplicitControl(context);
      const parameters = controlParametersFromGrpc(request.parameters);
      await manager.unload(request.modelName, parseUnloadRequest(parameters, "grpc"));
      return create(RepositoryModelUnloadResponseSchema);
    }),
    // No shared-memory region can be registered here: the status lists none.
    SystemSharedMemoryStatus: unary(() =>
      Promise.resolve(create(SystemSharedMemoryStatusResponseSchema))
    ),
    CudaSharedMemoryStatus: unary(() =>
      Promise.resolve(create(CudaSharedMemoryStatusResponseSchema))
    ),
    SystemSharedMemoryRegister: unary(() => Promise.reject(sharedMemoryUnsupported("system"))),
    CudaSharedMemoryRegister: unary(() => Promise.reject(sharedMemoryUnsupported("CUDA"))),
    ModelInfer: unary((request: ModelInferRequest) => modelInfer(ready(), request)),
    ModelStreamInfer: (
      call: grpc.ServerDuplexStream<ModelInferRequest, ModelStreamInferResponse>,
    ) => modelStreamInfer(context, call, streams),
  };
}

/**
 * gRPC's health checking service (`grpc.health.v1.Health/Check`), as
 * Triton's gRPC endpoint serves it: SERVING while the server is ready, else
 * NOT_SERVING, whatever service is named.
 */
export function healthImplementation(
  context: () => GrpcContext | undefined,
): grpc.UntypedServiceImplementation {
  return {
    Check: unary(async () => {
      const current = context();
      const ready = current !== undefined && !current.stopping() &&
        await current.manager.allReady();
      return create(HealthCheckResponseSchema, {
        status: ready
          ? HealthCheckResponse_ServingStatus.SERVING
          : HealthCheckResponse_ServingStatus.NOT_SERVING,
      });
    }),
  };
}

function sharedMemoryUnsupported(kind: string): ServeError {
  return new ServeError(
    ErrorCode.UNSUPPORTED,
    `${kind} shared memory is not supported by this server's gRPC endpoint`,
  );
}

/** `ModelInfer`: one request, one response (decoupled models are refused, as Triton does). */
async function modelInfer(
  context: GrpcContext,
  message: ModelInferRequest,
): Promise<ModelInferResponse> {
  const served = context.manager.servedVersion(
    message.modelName,
    parseVersion(message.modelVersion),
  );
  if (served.signature.decoupled) {
    throw new ServeError(
      ErrorCode.UNSUPPORTED,
      "ModelInfer RPC doesn't support models with decoupled transaction policy",
    );
  }
  const { request } = inferRequestFromGrpc(served.signature, message);
  const outcome = await served.scheduler.submit(request);
  try {
    const result = outcome.result;
    if (!result.ok) throw new ServeError(result.code, result.message);
    return inferResponseToGrpc({
      id: request.id,
      model: message.modelName,
      version: served.version,
      parameters: result.parameters,
      outputs: result.outputs,
    });
  } finally {
    outcome.release();
  }
}

/**
 * `ModelStreamInfer`: each request runs as soon as it arrives; its responses
 * (one, or a decoupled model's any number) are written as they come,
 * requests interleaving. Each response carries `triton_final_response`; a
 * request that fails (before or while running) is a response with its
 * `error_message`. The call ends once the client closed its side and every
 * request's responses were written; a client that goes away cancels the
 * requests still running.
 */
function modelStreamInfer(
  context: () => GrpcContext | undefined,
  call: grpc.ServerDuplexStream<ModelInferRequest, ModelStreamInferResponse>,
  streams: StreamCalls,
): void {
  const running = new Set<Promise<void>>();
  const channels = new Set<ResponseChannel>();
  let cancelled = false;
  let clientDone = false;
  let ended = false;
  const write = (response: ModelStreamInferResponse) => {
    if (!cancelled && !ended) call.write(response);
  };
  const finishIfDone = () => {
    if ((clientDone || streams.closing) && running.size === 0 && !cancelled && !ended) {
      ended = true;
      untrack();
      call.end();
    }
  };
  const untrack = streams.track(finishIfDone);
  call.on("data", (message: ModelInferRequest) => {
    if (streams.closing) {
      write(create(ModelStreamInferResponseSchema, {
        errorMessage: "the server is shutting down",
        inferResponse: { id: message.id, modelName: message.modelName },
      }));
      return;
    }
    const task = streamOne(context(), message, write, channels);
    running.add(task);
    task.finally(() => {
      running.delete(task);
      finishIfDone();
    });
  });
  call.on("end", () => {
    clientDone = true;
    finishIfDone();
  });
  const abandon = () => {
    cancelled = true;
    untrack();
    for (const channel of channels) channel.cancel();
  };
  call.on("cancelled", abandon);
  call.on("error", abandon);
}

/** Runs one request of a stream and writes its responses. Never rejects. */
async function streamOne(
  context: GrpcContext | undefined,
  message: ModelInferRequest,
  write: (response: ModelStreamInferResponse) => void,
  channels: Set<ResponseChannel>,
): Promise<void> {
  const failure = (error: unknown) =>
    create(ModelStreamInferResponseSchema, {
      errorMessage: callError(error).details,
      inferResponse: { id: message.id, modelName: message.modelName },
    });
  let served: ServedVersion;
  let parsed;
  try {
    if (context === undefined) {
      throw new ServeError(ErrorCode.UNAVAILABLE, "the server is starting: models are loading");
    }
    served = context.manager.servedVersion(message.modelName, parseVersion(message.modelVersion));
    parsed = inferRequestFromGrpc(served.signature, message);
  } catch (error) {
    write(failure(error));
    return;
  }
  const channel = new ResponseChannel();
  channels.add(channel);
  context.openStreams?.track(channel);
  try {
    submitToChannel(served, parsed.request, channel);
    const source = { id: parsed.request.id, model: message.modelName, version: served.version };
    const send = (result: InferResult, final: boolean) => {
      if (!result.ok) {
        write(failure(new ServeError(result.code, result.message)));
        return;
      }
      write(create(ModelStreamInferResponseSchema, {
        inferResponse: inferResponseToGrpc(
          { ...source, parameters: result.parameters, outputs: result.outputs },
          { [FINAL_RESPONSE_PARAMETER]: final },
        ),
      }));
    };
    // A response is known to be the last when the channel ended with it
    // (the model sent it with the final flag); a final flag that comes alone
    // becomes an empty response only when the client asked for one.
    let finalSent = false;
    let current = await channel.next();
    while (current !== undefined) {
      let following: InferResult | undefined | null = null;
      if (channel.ended) following = await channel.next();
      const final = following === undefined;
      send(current, final);
      finalSent ||= final;
      current = following === null ? await channel.next() : following;
    }
    if (!finalSent && parsed.emptyFinalResponse) {
      write(create(ModelStreamInferResponseSchema, {
        inferResponse: emptyResponse(source.id, source.model, source.version, {
          [FINAL_RESPONSE_PARAMETER]: true,
        }),
      }));
    }
  } catch (error) {
    write(failure(error));
  } finally {
    channels.delete(channel);
  }
}
