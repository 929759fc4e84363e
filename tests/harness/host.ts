/**
 * A typed wrapper of the test host (build/libtriton_host.so), which plays
 * Triton's core: it loads libtriton_deno.so the way Triton does, loads models
 * from a repository directory, executes batches of requests on a chosen
 * instance and reports what the backend did (responses, releases,
 * statistics, log, rule violations).
 *
 * @example Run add_sub once
 * ```ts ignore
 * import { Host } from "./host.ts";
 *
 * const host = Host.open();
 * try {
 *   const model = host.loadModel("models/add_sub", { instanceCount: 2 });
 *   const [result] = model.execute(0, [{
 *     inputs: [
 *       { name: "INPUT0", datatype: "FP32", shape: [4], data: new Float32Array([1, 2, 3, 4]) },
 *       { name: "INPUT1", datatype: "FP32", shape: [4], data: new Float32Array([1, 1, 1, 1]) },
 *     ],
 *   }]);
 *   console.log(result.outputs.get("OUTPUT0")?.data); // Float32Array [2, 3, 4, 5]
 *   model.unload();
 * } finally {
 *   host.close();
 * }
 * ```
 *
 * @module
 */

import { create } from "npm:@bufbuild/protobuf@2.17.0";
import {
  type ModelConfig,
  modelConfigToTritonJson,
  ModelInstanceGroup_Kind,
  ModelInstanceGroupSchema,
  parseModelConfigText,
} from "../../runtime/model_config/mod.ts";
import {
  cString,
  ErrorText,
  type HostLibrary,
  openHostLibrary,
  pointerValue,
  readText,
} from "../../ffi/host/bindings.ts";
import { type BuildPaths, buildPaths } from "./paths.ts";
import {
  DATATYPE_CODES,
  decodeOutput,
  encodeInput,
  type InputTensor,
  type OutputTensor,
} from "./tensors.ts";

export type { BuildPaths } from "./paths.ts";
export type { DataTypeName, InputTensor, OutputTensor } from "./tensors.ts";

/** An error reported by the host or the backend through the host. */
export class HostError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "HostError";
  }
}

/** Settings for {@linkcode Host.open}. */
export interface HostOpenOptions {
  /** Path of libtriton_host.so (default `<build>/libtriton_host.so`). */
  hostLibrary?: string;
  /** Path of the backend library (default `<backendDir>/libtriton_deno.so`). */
  backendLibrary?: string;
  /** The backend directory (default `<build>/deno`). */
  backendDir?: string;
  /** Backend name (default "deno"). */
  backendName?: string;
  /** Backend config settings (tritonserver --backend-config=deno,key=value). */
  options?: Record<string, string>;
  /** Leave out the settings Triton adds to every backend's config (default false). */
  omitTritonDefaults?: boolean;
}

/** Settings for {@linkcode Host.loadModel}. */
export interface LoadModelOptions {
  /** Replace the config's instance groups with one CPU group of this many instances. */
  instanceCount?: number;
  /** Edits the parsed configuration before it is handed to the backend. */
  configOverride?: (config: ModelConfig) => void;
  /** Use this text instead of reading `<modelDir>/config.pbtxt`. */
  configText?: string;
  /** Model version (default 1). */
  version?: number;
  /** Model name (default: the config's name, else the directory's name). */
  name?: string;
  /** What TRITONBACKEND_ModelAutoCompleteConfig answers (default false). */
  autoComplete?: boolean;
}

/** One inference request. */
export interface InferRequest {
  /** Request id (default ""). */
  id?: string;
  /** Correlation id: numeric, or a string (string correlation ids). */
  correlationId?: number | bigint | string;
  /** TRITONSERVER_RequestFlag bits. */
  flags?: number;
  /** Request timeout in microseconds (0 = none). */
  timeoutUs?: number | bigint;
  /** Input tensors. */
  inputs: readonly InputTensor[];
  /** Requested outputs; none means every output in the config, as in Triton. */
  requestedOutputs?: readonly string[];
  /** Request parameters. */
  parameters?: Readonly<Record<string, string | number | boolean>>;
  /**
   * Outputs whose buffers the backend is told are in a GPU's memory, by
   * name: the GPU's index (simulated, as for inputs' `gpu`).
   */
  gpuOutputs?: Readonly<Record<string, number>>;
  /**
   * Cancels the request when aborted, as a client's cancellation reaches
   * Triton (the backend sees it through TRITONBACKEND_RequestIsCancelled).
   * Aborted before the call: the request is cancelled before Execute. Only
   * {@linkcode LoadedModel.executeAsync} leaves the event loop free to abort
   * it during Execute.
   */
  signal?: AbortSignal;
}

/** An error as Triton would report it to the client. */
export interface TritonErrorInfo {
  /** TRITONSERVER_Error_Code. */
  code: number;
  /** Triton's name for the code ("Invalid argument", ...). */
  codeString: string;
  /** The message. */
  message: string;
}

/** One response the backend sent for a request. */
export interface SentResponse {
  /** True for TRITONBACKEND_ResponseFactorySendFlags (flags without a response). */
  flagsOnly: boolean;
  /** Send flags (1 = FINAL). */
  flags: number;
  /** The response's error, if any. */
  error: TritonErrorInfo | null;
  /**
   * Response parameters: INT as a number, or a bigint beyond 2^53; DOUBLE as
   * a number (null if not finite); BOOL; STRING.
   */
  parameters: Record<string, unknown>;
  /** Output tensors in the order the backend created them. */
  outputs: OutputTensor[];
}

/** What happened to one request. */
export interface RequestResult {
  /** Request id. */
  id: string;
  /** Name of the instance the request ran on. */
  instance: string | null;
  /** How many times the request was released in its last turn (1 is right). */
  releaseCount: number;
  /** Turns the backend gave back with RESCHEDULE (`executeIterative` runs them again). */
  reschedules: number;
  /** Whether its last release was a RESCHEDULE (the request awaits another execute). */
  rescheduled: boolean;
  /** True if Execute failed and the host answered and released the request, as Triton does. */
  releasedByHost: boolean;
  /** How many times the backend reported statistics for the request (1 is right). */
  statsReports: number;
  /** The success flag of the last statistics report. */
  statsSuccess: boolean;
  /** Whether a response with the FINAL flag was sent. */
  final: boolean;
  /** Whether the request was cancelled (its `signal` aborted). */
  cancelled: boolean;
  /** Nanoseconds from submission to the final response. */
  latencyNs: number | null;
  /** Whether the request was released and finalized before the wait timed out. */
  completed: boolean;
  /** Every response in order. */
  responses: SentResponse[];
  /** The error of the last response (the one a non-decoupled client sees), if any. */
  error: TritonErrorInfo | null;
  /** Outputs of the last response that carried outputs, by name. */
  outputs: Map<string, OutputTensor>;
  /** The error TRITONBACKEND_ModelInstanceExecute returned for the batch, if any. */
  executeError: string | null;
}

/** Statistics the backend reported for one instance. */
export interface InstanceStatistics {
  /** Instance name. */
  name: string;
  /** Instance index. */
  index: number;
  /** Executes the host issued on the instance. */
  execute_calls: number;
  /** Requests reported successful. */
  request_success: number;
  /** Requests reported failed. */
  request_failure: number;
  /** Batch statistics reports. */
  batch_reports: number;
  /** Sum of reported batch sizes. */
  batch_size_total: number;
  /** Batch size of the last report. */
  last_batch_size: number;
  /** Timestamps of the last request report: exec start, compute start/end, exec end. */
  last_request_ns: number[];
  /** Timestamps of the last batch report. */
  last_batch_ns: number[];
}

/** Counts of Triton rules the backend broke, and objects still alive. */
export interface HostViolations {
  /** Violation counters by name (request_released_twice, ...). */
  violations: Record<string, number>;
  /** Live object counts by kind (errors, messages, responses, ...). */
  live: Record<string, number>;
}

/** A model in-process inference can reach ({@linkcode Host.serverModels}). */
export interface ServerModel {
  /** Model name. */
  name: string;
  /** Model version. */
  version: number;
  /** Reachable by name (false once an unload began). */
  ready: boolean;
  /** Loaded by TRITONSERVER_ServerLoadModel rather than by the test. */
  serverOwned: boolean;
  /** In-process requests to it not yet finished. */
  inFlight: number;
}

/** The result of {@linkcode LoadedModel.bench}. */
export interface BenchRun {
  /** Latency of each request, submit to final response, in completion order. */
  latenciesNs: BigUint64Array;
  /** Wall time of the run. */
  elapsedNs: number;
  /** Requests that failed. */
  failures: number;
}

interface RawResult {
  id: string;
  executed: boolean;
  instance: string | null;
  release_count: number;
  release_flags: number;
  reschedules: number;
  released_by_host: boolean;
  cancelled: boolean;
  stats_reports: number;
  stats_success: boolean;
  final: boolean;
  live_responses: number;
  live_factories: number;
  latency_ns: number | null;
  responses: {
    flags_only: boolean;
    flags: number;
    error: { code: number; code_string: string; message: string } | null;
    parameters: Record<string, unknown>;
    outputs: { name: string; datatype: string; shape: number[]; byte_size: number }[];
  }[];
}

const PARAMETER_STRING = 0;
const PARAMETER_INT = 1;
const PARAMETER_BOOL = 2;
const PARAMETER_DOUBLE = 3;

/** `TRITONSERVER_REQUEST_RELEASE_RESCHEDULE`. */
const RELEASE_RESCHEDULE = 2;

/** How long to wait for a request's release and final response after Execute returns. */
const DEFAULT_WAIT_MS = 30_000;

/** The test host with one backend loaded. */
export class Host {
  /** The resolved library and directory paths. */
  readonly paths: BuildPaths;
  readonly #lib: HostLibrary;
  #backend: Deno.PointerValue;
  readonly #models = new Set<LoadedModel>();

  private constructor(lib: HostLibrary, backend: Deno.PointerValue, paths: BuildPaths) {
    this.#lib = lib;
    this.#backend = backend;
    this.paths = paths;
  }

  /**
   * Loads the host library and the backend (dlopen, TRITONBACKEND_Initialize).
   * @throws {HostError} If the backend fails to load or initialize.
   */
  static open(options: HostOpenOptions = {}): Host {
    const defaults = buildPaths();
    const backendDir = options.backendDir ?? defaults.backendDir;
    const paths: BuildPaths = {
      buildDir: defaults.buildDir,
      hostLibrary: options.hostLibrary ?? defaults.hostLibrary,
      clientLibrary: defaults.clientLibrary,
      backendDir,
      backendLibrary: options.backendLibrary ?? `${backendDir}/libtriton_deno.so`,
    };
    const lib = openHostLibrary(paths.hostLibrary);
    const cmdline: Record<string, string> = options.omitTritonDefaults ? {} : {
      // What tritonserver adds to every backend's configuration.
      "backend-directory": backendDir.replace(/\/[^/]*\/?$/, ""),
      "min-compute-capability": "6.000000",
      "default-max-batch-size": "4",
    };
    Object.assign(cmdline, options.options ?? {});
    const error = new ErrorText();
    const backend = lib.symbols.host_backend_load(
      cString(options.backendName ?? "deno"),
      cString(paths.backendLibrary),
      cString(backendDir),
      cString(JSON.stringify(cmdline)),
      error.buffer,
      error.capacity,
    );
    if (backend === null) {
      lib.close();
      throw new HostError(`backend load failed: ${error.text()}`);
    }
    return new Host(lib, backend, paths);
  }

  /** The raw library, for tests of the host itself. */
  get library(): HostLibrary {
    return this.#lib;
  }

  /**
   * Loads a model from a repository directory (`<modelDir>/config.pbtxt`,
   * `<modelDir>/<version>/model.ts`): ModelInitialize, then InstanceInitialize
   * per instance.
   * @throws {HostError} With the backend's error message if loading fails.
   */
  loadModel(modelDir: string, options: LoadModelOptions = {}): LoadedModel {
    const prepared = prepareModel(modelDir, options);
    const error = new ErrorText();
    const handle = this.#lib.symbols.host_model_load(
      this.#backend,
      cString(prepared.name),
      BigInt(prepared.version),
      cString(prepared.directory),
      cString(modelConfigToTritonJson(prepared.config)),
      prepared.instanceCount,
      options.autoComplete ? 1 : 0,
      error.buffer,
      error.capacity,
    );
    if (handle === null) throw new HostError(error.text());
    const model = new LoadedModel(
      this.#lib,
      handle,
      prepared.name,
      prepared.directory,
      prepared.config,
      () => {
        this.#models.delete(model);
      },
    );
    this.#models.add(model);
    return model;
  }

  /**
   * Makes a model loadable by name through TRITONSERVER_ServerLoadModel (the
   * host's stand-in for a model repository), prepared as {@linkcode loadModel}
   * prepares it. Models the server loads are the server's to unload.
   * @returns The model's name.
   */
  registerLoadable(modelDir: string, options: LoadModelOptions = {}): string {
    const prepared = prepareModel(modelDir, options);
    const status = this.#lib.symbols.host_register_loadable(
      this.#backend,
      cString(prepared.name),
      BigInt(prepared.version),
      cString(prepared.directory),
      cString(modelConfigToTritonJson(prepared.config)),
      prepared.instanceCount,
    );
    if (status !== 0) throw new HostError(`cannot register model '${prepared.name}'`);
    return prepared.name;
  }

  /** Explicit model control on or off (Triton's default, and the host's, is off). */
  setModelControl(explicit: boolean): void {
    this.#lib.symbols.host_set_model_control(explicit ? 1 : 0);
  }

  /** The models in-process inference can reach, or could until an unload began. */
  serverModels(): ServerModel[] {
    const raw: {
      name: string;
      version: number;
      ready: boolean;
      server_owned: boolean;
      in_flight: number;
    }[] = JSON.parse(readText((out, cap) => this.#lib.symbols.host_server_models_json(out, cap)));
    return raw.map((entry) => ({
      name: entry.name,
      version: entry.version,
      ready: entry.ready,
      serverOwned: entry.server_owned,
      inFlight: entry.in_flight,
    }));
  }

  /** Waits until no in-process request is in flight and no background unload runs. */
  async waitIdle(timeoutMs = DEFAULT_WAIT_MS): Promise<boolean> {
    return (await this.#lib.symbols.host_wait_idle_nonblocking(timeoutMs)) === 1;
  }

  /** The custom metrics in Prometheus' text format, as Triton's /metrics shows them. */
  metricsText(): string {
    return readText((out, cap) => this.#lib.symbols.host_metrics_text(out, cap));
  }

  /** Forgets metric family names no handle or series uses any more. */
  resetMetrics(): void {
    this.#lib.symbols.host_metrics_reset();
  }

  /** The host's log: one line per TRITONSERVER_LogMessage (and host violations). */
  log(): string {
    return readText((out, cap) => this.#lib.symbols.host_log_read(out, cap));
  }

  /** Empties the log. */
  clearLog(): void {
    this.#lib.symbols.host_log_clear();
  }

  /** Violation counters and live object counts since the last reset. */
  violations(): HostViolations {
    return JSON.parse(readText((out, cap) => this.#lib.symbols.host_violations_json(out, cap)));
  }

  /** Zeroes the violation counters (live counts are not reset). */
  resetViolations(): void {
    this.#lib.symbols.host_violations_reset();
  }

  /** Sets the TRITONBACKEND API version the host reports to later backend loads. */
  setApiVersion(major: number, minor: number): void {
    this.#lib.symbols.host_set_api_version(major, minor);
  }

  /**
   * Measures the C-to-C shared-memory round trip of a 64-byte message with the
   * wire format's spin-then-futex protocol.
   */
  async pingPongFloor(
    iterations: number,
    spinUs = 20,
  ): Promise<{ medianNs: number; p99Ns: number }> {
    const median = new BigUint64Array(1);
    const p99 = new BigUint64Array(1);
    const error = new ErrorText();
    const status = await this.#lib.symbols.host_pingpong_floor(
      iterations,
      spinUs,
      median,
      p99,
      error.buffer,
      error.capacity,
    );
    if (status !== 0) throw new HostError(`ping-pong failed: ${error.text()}`);
    return { medianNs: Number(median[0]), p99Ns: Number(p99[0]) };
  }

  /**
   * Unloads every model still loaded, then the backend (TRITONBACKEND_Finalize),
   * and closes the library.
   * @returns The violation and live-object counts after the backend finalized.
   * @throws {HostError} If a model or the backend failed to finalize.
   */
  close(): HostViolations {
    const problems: string[] = [];
    for (const model of [...this.#models]) {
      try {
        model.unload();
      } catch (error) {
        problems.push(error instanceof Error ? error.message : String(error));
      }
    }
    if (this.#backend !== null) {
      const error = new ErrorText();
      const status = this.#lib.symbols.host_backend_unload(
        this.#backend,
        error.buffer,
        error.capacity,
      );
      this.#backend = null;
      if (status !== 0) problems.push(`backend unload: ${error.text()}`);
    }
    const violations = this.violations();
    this.#lib.close();
    if (problems.length > 0) throw new HostError(problems.join("; "));
    return violations;
  }
}

/** A loaded model. */
export class LoadedModel {
  /** Model name. */
  readonly name: string;
  /** The model's directory (absolute). */
  readonly directory: string;
  /** The configuration handed to the backend. */
  readonly config: ModelConfig;
  readonly #lib: HostLibrary;
  #handle: Deno.PointerValue;
  readonly #onUnload: () => void;

  /** @internal Use {@linkcode Host.loadModel}. */
  constructor(
    lib: HostLibrary,
    handle: Deno.PointerValue,
    name: string,
    directory: string,
    config: ModelConfig,
    onUnload: () => void,
  ) {
    this.#lib = lib;
    this.#handle = handle;
    this.name = name;
    this.directory = directory;
    this.config = config;
    this.#onUnload = onUnload;
  }

  /** Number of instances. */
  get instanceCount(): number {
    return this.#lib.symbols.host_model_instance_count(this.#live());
  }

  /** The model's current configuration JSON (after any ModelSetConfig by the backend). */
  configJson(): string {
    const handle = this.#live();
    return readText((out, cap) => this.#lib.symbols.host_model_config_json(handle, out, cap));
  }

  /**
   * Executes one batch on an instance, synchronously, then waits for every
   * request's release and final response (up to `waitMs`).
   */
  execute(
    instanceIndex: number,
    requests: readonly InferRequest[],
    options: { waitMs?: number } = {},
  ): RequestResult[] {
    const instance = this.#instance(instanceIndex);
    const handles = this.#buildAll(requests);
    const unwatch = this.#watchCancellations(requests, handles);
    try {
      const error = new ErrorText();
      const status = this.#lib.symbols.host_execute(
        instance,
        handleArray(handles),
        handles.length,
        error.buffer,
        error.capacity,
      );
      if (status < 0) throw new HostError(`execute refused: ${error.text()}`);
      const executeError = status === 1 ? error.text() : null;
      return handles.map((handle) => {
        const completed =
          this.#lib.symbols.host_request_wait(handle, options.waitMs ?? DEFAULT_WAIT_MS) === 1;
        return this.#readResult(handle, completed, executeError);
      });
    } finally {
      unwatch();
      for (const handle of handles) this.#lib.symbols.host_request_free(handle);
    }
  }

  /**
   * Like {@linkcode execute}, but Execute runs on another thread so this one
   * stays free (to kill the stub mid-request, or to cancel a request through
   * its `signal`, for example).
   *
   * @example Cancel a request 100 ms into its execution
   * ```ts ignore
   * const controller = new AbortController();
   * const pending = model.executeAsync(0, [{ ...request, signal: controller.signal }]);
   * setTimeout(() => controller.abort(), 100);
   * const [result] = await pending;
   * console.log(result.cancelled); // true
   * ```
   */
  async executeAsync(
    instanceIndex: number,
    requests: readonly InferRequest[],
    options: { waitMs?: number } = {},
  ): Promise<RequestResult[]> {
    const instance = this.#instance(instanceIndex);
    const handles = this.#buildAll(requests);
    const unwatch = this.#watchCancellations(requests, handles);
    try {
      const error = new ErrorText();
      const status = await this.#lib.symbols.host_execute_nonblocking(
        instance,
        handleArray(handles),
        handles.length,
        error.buffer,
        error.capacity,
      );
      if (status < 0) throw new HostError(`execute refused: ${error.text()}`);
      const executeError = status === 1 ? error.text() : null;
      const results: RequestResult[] = [];
      for (const handle of handles) {
        const completed = (await this.#lib.symbols.host_request_wait_nonblocking(
          handle,
          options.waitMs ?? DEFAULT_WAIT_MS,
        )) === 1;
        results.push(this.#readResult(handle, completed, executeError));
      }
      return results;
    } finally {
      unwatch();
      for (const handle of handles) this.#lib.symbols.host_request_free(handle);
    }
  }

  /**
   * Like {@linkcode executeAsync}, but as Triton's iterative sequence batching
   * does: the requests the backend releases with RESCHEDULE are executed
   * again, together, on the same instance, until none is (at most
   * `maxTurns` executes).
   */
  async executeIterative(
    instanceIndex: number,
    requests: readonly InferRequest[],
    options: { waitMs?: number; maxTurns?: number } = {},
  ): Promise<RequestResult[]> {
    const instance = this.#instance(instanceIndex);
    const handles = this.#buildAll(requests);
    const unwatch = this.#watchCancellations(requests, handles);
    const waitMs = options.waitMs ?? DEFAULT_WAIT_MS;
    try {
      let turn = handles;
      let executeError: string | null = null;
      const completed = new Map<Deno.PointerValue, boolean>();
      for (let executes = 0; turn.length > 0; executes++) {
        if (executes >= (options.maxTurns ?? 64)) {
          throw new HostError(`requests were still rescheduled after ${executes} executes`);
        }
        const error = new ErrorText();
        const status = await this.#lib.symbols.host_execute_nonblocking(
          instance,
          handleArray(turn),
          turn.length,
          error.buffer,
          error.capacity,
        );
        if (status < 0) throw new HostError(`execute refused: ${error.text()}`);
        if (status === 1) executeError = error.text();
        const next: Deno.PointerValue[] = [];
        for (const handle of turn) {
          const done =
            (await this.#lib.symbols.host_request_wait_nonblocking(handle, waitMs)) === 1;
          completed.set(handle, done);
          if (done && this.#readResult(handle, done, null).rescheduled) next.push(handle);
        }
        turn = next;
      }
      return handles.map((handle) =>
        this.#readResult(handle, completed.get(handle) ?? false, executeError)
      );
    } finally {
      unwatch();
      for (const handle of handles) this.#lib.symbols.host_request_free(handle);
    }
  }

  /**
   * Asks the backend whether an instance is ready (Triton's model readiness:
   * TRITONBACKEND_ModelInstanceReady), off this thread.
   *
   * @returns `true`, or the reason it is not ready.
   */
  async ready(instanceIndex: number): Promise<true | string> {
    const instance = this.#instance(instanceIndex);
    const error = new ErrorText();
    const status = await this.#lib.symbols.host_instance_ready_nonblocking(
      instance,
      error.buffer,
      error.capacity,
    );
    if (status < 0) throw new HostError(`readiness refused: ${error.text()}`);
    return status === 1 ? true : error.text();
  }

  /** The statistics the backend reported for an instance. */
  statistics(instanceIndex: number): InstanceStatistics {
    const instance = this.#instance(instanceIndex);
    return JSON.parse(
      readText((out, cap) => this.#lib.symbols.host_instance_stats_json(instance, out, cap)),
    );
  }

  /**
   * Closed-loop load: `total` copies of `request` from `concurrency` client
   * threads, one request per execute, each on the lowest-numbered free instance.
   */
  async bench(request: InferRequest, total: number, concurrency: number): Promise<BenchRun> {
    const template = this.#build(request);
    try {
      const latencies = new BigUint64Array(total);
      const elapsed = new BigUint64Array(1);
      const error = new ErrorText();
      const failures = Number(
        await this.#lib.symbols.host_bench_run(
          this.#live(),
          template,
          total,
          concurrency,
          latencies,
          elapsed,
          error.buffer,
          error.capacity,
        ),
      );
      if (failures < 0) throw new HostError(`bench failed: ${error.text()}`);
      return { latenciesNs: latencies, elapsedNs: Number(elapsed[0]), failures };
    } finally {
      this.#lib.symbols.host_request_free(template);
    }
  }

  /**
   * Finalizes the instances and the model.
   * @throws {HostError} With the first finalize error (the model is unloaded anyway).
   */
  unload(): void {
    if (this.#handle === null) return;
    const error = new ErrorText();
    const status = this.#lib.symbols.host_model_unload(this.#handle, error.buffer, error.capacity);
    this.#handle = null;
    this.#onUnload();
    if (status !== 0) throw new HostError(`model unload: ${error.text()}`);
  }

  #live(): Deno.PointerValue {
    if (this.#handle === null) throw new HostError(`model '${this.name}' is unloaded`);
    return this.#handle;
  }

  #instance(index: number): Deno.PointerValue {
    const instance = this.#lib.symbols.host_model_instance(this.#live(), index);
    if (instance === null) {
      throw new HostError(`model '${this.name}' has no instance ${index}`);
    }
    return instance;
  }

  /**
   * Cancels each request whose signal aborts while its handle lives: at once
   * if it already has. Returns the function that stops watching, to call
   * before the handles are freed.
   */
  #watchCancellations(
    requests: readonly InferRequest[],
    handles: readonly Deno.PointerValue[],
  ): () => void {
    const listeners: { signal: AbortSignal; listener: () => void }[] = [];
    requests.forEach((request, index) => {
      const signal = request.signal;
      if (signal === undefined) return;
      const listener = () => this.#lib.symbols.host_request_cancel(handles[index]);
      if (signal.aborted) {
        listener();
        return;
      }
      signal.addEventListener("abort", listener, { once: true });
      listeners.push({ signal, listener });
    });
    return () => {
      for (const { signal, listener } of listeners) signal.removeEventListener("abort", listener);
    };
  }

  #buildAll(requests: readonly InferRequest[]): Deno.PointerValue[] {
    const handles: Deno.PointerValue[] = [];
    try {
      for (const request of requests) handles.push(this.#build(request));
    } catch (error) {
      for (const handle of handles) this.#lib.symbols.host_request_free(handle);
      throw error;
    }
    return handles;
  }

  #build(request: InferRequest): Deno.PointerValue {
    const symbols = this.#lib.symbols;
    const correlation = request.correlationId ?? 0;
    const handle = symbols.host_request_new(
      cString(request.id ?? ""),
      typeof correlation === "string" ? 0n : BigInt(correlation),
      typeof correlation === "string" ? cString(correlation) : null,
      request.flags ?? 0,
      BigInt(request.timeoutUs ?? 0),
    );
    try {
      for (const input of request.inputs) {
        const bytes = encodeInput(input);
        const error = new ErrorText();
        const status = symbols.host_request_add_input(
          handle,
          cString(input.name),
          DATATYPE_CODES[input.datatype],
          new BigInt64Array(input.shape.map((dim) => BigInt(dim))),
          input.shape.length,
          bytes,
          BigInt(bytes.byteLength),
          input.bufferCount ?? 1,
          error.buffer,
          error.capacity,
        );
        if (status !== 0) throw new HostError(`request '${request.id ?? ""}': ${error.text()}`);
        if (input.gpu !== undefined) {
          symbols.host_request_place_in_gpu(handle, cString(input.name), BigInt(input.gpu));
        }
      }
      for (const [name, device] of Object.entries(request.gpuOutputs ?? {})) {
        symbols.host_request_place_in_gpu(handle, cString(name), BigInt(device));
      }
      // As Triton does, no requested outputs means every output of the config.
      const requested = request.requestedOutputs?.length
        ? request.requestedOutputs
        : this.config.output.map((output) => output.name);
      for (const name of requested) {
        symbols.host_request_add_requested_output(handle, cString(name));
      }
      for (const [key, value] of Object.entries(request.parameters ?? {})) {
        addParameter(this.#lib, handle, key, value);
      }
    } catch (error) {
      symbols.host_request_free(handle);
      throw error;
    }
    return handle;
  }

  #readResult(
    handle: Deno.PointerValue,
    completed: boolean,
    executeError: string | null,
  ): RequestResult {
    const raw: RawResult = parseExactJson(
      readText((out, cap) => this.#lib.symbols.host_request_result_json(handle, out, cap)),
    ) as RawResult;
    const responses: SentResponse[] = raw.responses.map((response, responseIndex) => ({
      flagsOnly: response.flags_only,
      flags: response.flags,
      error: response.error === null ? null : {
        code: response.error.code,
        codeString: response.error.code_string,
        message: response.error.message,
      },
      parameters: response.parameters,
      outputs: response.outputs.map((output, outputIndex) => {
        const bytes = new Uint8Array(output.byte_size);
        const copied = Number(this.#lib.symbols.host_request_output_data(
          handle,
          responseIndex,
          outputIndex,
          bytes,
          BigInt(bytes.byteLength),
        ));
        if (copied !== output.byte_size) {
          throw new HostError(
            `output '${output.name}': read ${copied} of ${output.byte_size} bytes`,
          );
        }
        return decodeOutput(output.name, output.datatype, output.shape, bytes);
      }),
    }));
    const answered = responses.filter((response) => !response.flagsOnly);
    const last = answered.at(-1);
    const withOutputs = [...answered].reverse().find((response) => response.outputs.length > 0);
    return {
      id: raw.id,
      instance: raw.instance,
      releaseCount: raw.release_count,
      reschedules: raw.reschedules,
      rescheduled: raw.release_count > 0 && (raw.release_flags & RELEASE_RESCHEDULE) !== 0,
      releasedByHost: raw.released_by_host,
      statsReports: raw.stats_reports,
      statsSuccess: raw.stats_success,
      final: raw.final,
      cancelled: raw.cancelled,
      latencyNs: raw.latency_ns,
      completed,
      responses,
      error: last?.error ?? null,
      outputs: new Map((withOutputs?.outputs ?? []).map((output) => [output.name, output])),
      executeError,
    };
  }
}

/**
 * JSON.parse, except that an integer beyond 2^53 (a response parameter INT
 * near the int64 limits) is read as an exact bigint rather than rounded.
 */
function parseExactJson(text: string): unknown {
  return JSON.parse(text, (_key, value: unknown, context?: { source?: string }) => {
    const source = context?.source;
    if (
      typeof value === "number" && !Number.isSafeInteger(value) && source !== undefined &&
      /^-?\d+$/.test(source)
    ) {
      return BigInt(source);
    }
    return value;
  });
}

function addParameter(
  lib: HostLibrary,
  handle: Deno.PointerValue,
  key: string,
  value: string | number | boolean,
): void {
  const symbols = lib.symbols;
  let status: number;
  if (typeof value === "string") {
    status = symbols.host_request_add_parameter(
      handle,
      cString(key),
      PARAMETER_STRING,
      cString(value),
      0n,
      0,
    );
  } else if (typeof value === "boolean") {
    status = symbols.host_request_add_parameter(
      handle,
      cString(key),
      PARAMETER_BOOL,
      null,
      value ? 1n : 0n,
      0,
    );
  } else if (Number.isInteger(value)) {
    status = symbols.host_request_add_parameter(
      handle,
      cString(key),
      PARAMETER_INT,
      null,
      BigInt(value),
      0,
    );
  } else {
    status = symbols.host_request_add_parameter(
      handle,
      cString(key),
      PARAMETER_DOUBLE,
      null,
      0n,
      value,
    );
  }
  if (status !== 0) throw new HostError(`cannot add parameter '${key}'`);
}

function handleArray(handles: readonly Deno.PointerValue[]): BigUint64Array<ArrayBuffer> {
  return new BigUint64Array(handles.map(pointerValue));
}

/** A model's directory, name, version and configuration, as a load hands them over. */
interface PreparedModel {
  directory: string;
  name: string;
  version: number;
  config: ModelConfig;
  instanceCount: number;
}

function prepareModel(modelDir: string, options: LoadModelOptions): PreparedModel {
  const directory = absolutePath(modelDir);
  const configText = options.configText ?? Deno.readTextFileSync(`${directory}/config.pbtxt`);
  const config = parseModelConfigText(configText, `${directory}/config.pbtxt`);
  options.configOverride?.(config);
  const name = options.name ?? (config.name || directory.replace(/\/+$/, "").split("/").pop()!);
  config.name = name;
  const instanceCount = normalizeInstanceGroups(config, options.instanceCount);
  return { directory, name, version: options.version ?? 1, config, instanceCount };
}

function absolutePath(path: string): string {
  return path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
}

/**
 * Triton's instance-group normalization for a CPU-only server: one group of
 * one instance if none is given, kind AUTO becomes CPU, count 0 becomes 1,
 * unnamed groups are named "<model>_<index>". Returns the instance count.
 */
function normalizeInstanceGroups(config: ModelConfig, instanceCount?: number): number {
  if (instanceCount !== undefined) {
    if (!Number.isInteger(instanceCount) || instanceCount < 1) {
      throw new RangeError(`instanceCount must be a positive integer, got ${instanceCount}`);
    }
    config.instanceGroup = [
      create(ModelInstanceGroupSchema, { count: instanceCount, kind: ModelInstanceGroup_Kind.CPU }),
    ];
  }
  if (config.instanceGroup.length === 0) {
    config.instanceGroup = [
      create(ModelInstanceGroupSchema, { count: 1, kind: ModelInstanceGroup_Kind.CPU }),
    ];
  }
  let total = 0;
  config.instanceGroup.forEach((group, index) => {
    if (group.name === "") group.name = `${config.name}_${index}`;
    if (group.kind === ModelInstanceGroup_Kind.AUTO) group.kind = ModelInstanceGroup_Kind.CPU;
    if (group.count === 0) group.count = 1;
    total += group.count;
  });
  return total;
}
