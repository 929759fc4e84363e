/**
 * The models of `deno task serve --triton-home`: Triton's own core loads,
 * schedules, batches and counts them; this module answers the HTTP
 * handler's questions (runtime/serve/handlers.ts) from Triton's in-process
 * API (runtime/core/): readiness, configuration, statistics, the repository
 * index, model control, and inference through `TRITONSERVER_ServerInferAsync`.
 * Every error is Triton's own, with its code and wording.
 *
 * @module
 */

import { ErrorCode } from "../api/error.ts";
import {
  type CallParameter,
  type CallResponse,
  CoreError,
  type TritonServer,
} from "../core/mod.ts";
import {
  type ModelConfig,
  modelConfigFromTritonJson,
  modelConfigToTritonJson,
} from "../model_config/mod.ts";
import { ServeError } from "./errors.ts";
import type { IndexEntry, ModelRegistry, ModelState, ServedVersion } from "./model_manager.ts";
import type { LoadRequest, UnloadRequest } from "./repository_control.ts";
import { modelSignature } from "./model_signature.ts";
import type { ModelStatJson } from "./stats.ts";
import type {
  InferRequest,
  InferResult,
  OutputTensor,
  ParameterValue,
  RequestOutcome,
  RequestScheduler,
} from "./types.ts";

/** A Triton error as the handler raises it (same code, same message). */
export function serveErrorOf(error: unknown): ServeError {
  if (error instanceof ServeError) return error;
  if (error instanceof CoreError) return new ServeError(ErrorCode[error.code], error.message);
  return new ServeError(ErrorCode.INTERNAL, error instanceof Error ? error.message : String(error));
}

function callParameter(value: ParameterValue): CallParameter {
  if (typeof value === "bigint") return { int: value };
  if (typeof value === "number" && !Number.isInteger(value)) return { double: value };
  return value;
}

function resultOf(response: CallResponse): InferResult {
  if (response.error !== null) {
    return { ok: false, code: ErrorCode[response.error.code], message: response.error.message };
  }
  const outputs: OutputTensor[] = [...response.outputs.values()].map((output) => ({
    name: output.name,
    datatype: output.datatype as OutputTensor["datatype"],
    shape: output.shape,
    byteSize: output.data.byteLength,
    read: (destination: Uint8Array) => destination.set(output.data),
  }));
  const parameters: Record<string, ParameterValue> = {};
  for (const [key, value] of Object.entries(response.parameters)) parameters[key] = value;
  return { ok: true, outputs, parameters };
}

const NO_TIMINGS = undefined;
const released = () => {};

/** Hands each request to Triton, which queues, batches and runs it. */
class TritonScheduler implements RequestScheduler {
  readonly #server: TritonServer;
  readonly #model: string;
  readonly #version: number;

  constructor(server: TritonServer, model: string, version: number) {
    this.#server = server;
    this.#model = model;
    this.#version = version;
  }

  async submit(request: InferRequest): Promise<RequestOutcome> {
    const parameters: Record<string, CallParameter> = {};
    for (const [key, value] of request.parameters) parameters[key] = callParameter(value);
    let call;
    try {
      call = this.#server.call({
        model: this.#model,
        version: this.#version,
        id: request.id,
        inputs: request.inputs,
        outputs: request.requestedOutputs,
        correlationId: request.correlationId === 0n ? undefined : request.correlationId,
        flags: request.flags,
        timeoutMicros: Number(request.timeoutUs),
        parameters,
      });
      call.start();
    } catch (error) {
      call?.free();
      const failure = serveErrorOf(error);
      return {
        result: { ok: false, code: failure.code, message: failure.message },
        timings: NO_TIMINGS,
        release: released,
      };
    }
    const sink = request.responses;
    if (sink === undefined) {
      try {
        const responses = await call.responses();
        const answer = responses.find((response) => !response.flagsOnly);
        const result: InferResult = answer === undefined
          ? { ok: false, code: ErrorCode.INTERNAL, message: "the model sent no response" }
          : resultOf(answer);
        return { result, timings: NO_TIMINGS, release: released };
      } finally {
        call.free();
      }
    }
    // A decoupled model: its responses go to the sink as Triton sends them.
    sink.onCancel(() => call.cancel());
    (async () => {
      try {
        for (let r = await call.next(); r !== undefined; r = await call.next()) {
          if (!r.flagsOnly) sink.push(resultOf(r));
        }
      } catch (error) {
        sink.push({ ok: false, code: ErrorCode.INTERNAL, message: serveErrorOf(error).message });
      } finally {
        call.free();
        sink.end();
      }
    })();
    return {
      result: { ok: true, outputs: [], parameters: {} },
      timings: NO_TIMINGS,
      release: released,
    };
  }

  close(_reason: string): Promise<void> {
    return Promise.resolve();
  }
}

interface IndexJson {
  name: string;
  version?: string;
  state?: string;
  reason?: string;
}

/** The handler's view of the models Triton's core serves. */
export class TritonModels implements ModelRegistry {
  readonly #server: TritonServer;
  /** Configurations read from Triton, by "name/version"; dropped on load and unload. */
  readonly #configs = new Map<string, ModelConfig>();

  /** @param server The running core. */
  constructor(server: TritonServer) {
    this.#server = server;
  }

  #index(readyOnly: boolean): IndexJson[] {
    return this.#server.repositoryIndex(readyOnly) as IndexJson[];
  }

  servedVersion(name: string, version?: number): ServedVersion {
    let ready: boolean;
    try {
      ready = this.#server.modelReady(name, version ?? -1);
    } catch (error) {
      throw serveErrorOf(error);
    }
    if (!ready) {
      throw new ServeError(
        ErrorCode.UNAVAILABLE,
        `Request for unknown model: '${name}'${
          version === undefined ? "" : ` version ${version}`
        } is not at ready state`,
      );
    }
    const resolved = version ?? Math.max(...this.readyVersions(name), 1);
    const config = this.#config(name, resolved);
    const server = this.#server;
    return {
      version: resolved,
      signature: modelSignature(config),
      config,
      scheduler: new TritonScheduler(server, name, resolved),
      stats: {
        toJson: () =>
          (server.modelStatistics(name, resolved) as { model_stats: ModelStatJson[] })
            .model_stats[0],
      },
      executor: {
        instanceCount: config.instanceGroup.reduce((sum, group) => sum + group.count, 0),
        configJson: () => modelConfigToTritonJson(config),
        unload: () => server.unloadModel(name),
      },
    };
  }

  #config(name: string, version: number): ModelConfig {
    const key = `${name}/${version}`;
    let config = this.#configs.get(key);
    if (config === undefined) {
      config = modelConfigFromTritonJson(JSON.stringify(this.#server.modelConfig(name, version)));
      this.#configs.set(key, config);
    }
    return config;
  }

  readyVersions(name: string): number[] {
    return this.#index(true)
      .filter((entry) => entry.name === name && entry.version !== undefined)
      .map((entry) => Number(entry.version))
      .sort((a, b) => a - b);
  }

  isReady(name: string, version?: number): boolean {
    try {
      return this.#server.modelReady(name, version ?? -1);
    } catch {
      return false;
    }
  }

  allReady(): boolean {
    return this.#server.ready();
  }

  allServed(): ServedVersion[] {
    return this.#index(true).flatMap((entry) => {
      try {
        return [this.servedVersion(entry.name, Number(entry.version))];
      } catch {
        return [];
      }
    });
  }

  index(readyOnly: boolean): IndexEntry[] {
    return this.#index(readyOnly).map((entry) => ({
      name: entry.name,
      version: entry.version,
      state: entry.state as ModelState | undefined,
      reason: entry.reason,
    }));
  }

  async load(name: string, request: Partial<LoadRequest> = {}): Promise<void> {
    this.#forget(name);
    const config = request.config;
    try {
      await this.#server.loadModel(name, {
        config: config === undefined ? undefined : modelConfigToTritonJson(config),
        files: request.files,
      });
    } catch (error) {
      throw serveErrorOf(error);
    } finally {
      this.#forget(name);
    }
  }

  async unload(name: string, request: Partial<UnloadRequest> = {}): Promise<void> {
    this.#forget(name);
    try {
      await this.#server.unloadModel(name, { dependents: request.unloadDependents === true });
    } catch (error) {
      throw serveErrorOf(error);
    }
  }

  #forget(name: string): void {
    for (const key of [...this.#configs.keys()]) {
      if (key.startsWith(`${name}/`)) this.#configs.delete(key);
    }
  }
}
