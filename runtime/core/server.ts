/**
 * An in-process Triton server, driven through Triton's own server API
 * (`TRITONSERVER_Server*`): the same code drives Triton's
 * `libtritonserver.so` (a `TRITON_HOME` install) or the stand-in core
 * (`build/libtriton_host.so`). Start it with a model repository and a
 * backend directory, control and inspect its models, and infer with
 * {@linkcode TritonServer.call}.
 *
 * The stand-in cannot read `config.pbtxt` (protobuf text format): when the
 * core exports `host_repository_set_config` (the stand-in's stand-in for
 * Triton's own config parser; Triton's core does not export it), each
 * model's `config.pbtxt` is parsed here and handed to the core in Triton's
 * JSON form before the server starts and before each
 * {@linkcode TritonServer.loadModel}.
 *
 * @example Serve one request through Triton's core
 * ```ts ignore
 * import { TritonServer } from "./server.ts";
 *
 * const server = await TritonServer.start({
 *   coreLibrary: "/opt/tritonserver/lib/libtritonserver.so",
 *   clientLibrary: "build/libtriton_deno_client.so",
 *   modelRepository: "/models",
 *   backendDirectory: "/opt/tritonserver/backends",
 * });
 * console.log(server.modelReady("add_sub")); // true
 * await server.stop();
 * ```
 *
 * @module
 */

import {
  type ClientLibrary,
  type CoreLibrary,
  openClientLibrary,
  openCoreLibrary,
} from "../../ffi/client/bindings.ts";
import { cString, ErrorText } from "../../ffi/host/bindings.ts";
import { modelConfigToTritonJson, parseModelConfigText } from "../model_config/mod.ts";
import { CoreError, type CoreErrorCode, ERROR_CODE_NAMES } from "./errors.ts";
import { InferCall, type InferRequest } from "./infer.ts";

/** `TRITONSERVER_ModelControlMode`. */
export type ModelControlMode = "none" | "poll" | "explicit";

const CONTROL_MODES: Readonly<Record<ModelControlMode, number>> = { none: 0, poll: 1, explicit: 2 };

/** `TRITONSERVER_PARAMETER_STRING`. */
const PARAMETER_STRING = 0;

/** How to start a server (the `tritonserver` flags of the same names). */
export interface ServerOptions {
  /** `libtritonserver.so`, or the stand-in's `libtriton_host.so`. */
  coreLibrary: string;
  /** `libtriton_deno_client.so`. */
  clientLibrary: string;
  /** `--model-repository`: an absolute path. */
  modelRepository: string;
  /** `--backend-directory`: holds `<backend>/libtriton_<backend>.so`. */
  backendDirectory: string;
  /** `--repoagent-directory` (Triton's default is its install's). */
  repoAgentDirectory?: string;
  /** `--model-control-mode` (default `none`: every model loads at start). */
  modelControl?: ModelControlMode;
  /** `--load-model` for explicit mode. */
  startupModels?: readonly string[];
  /** `--strict-model-config` (default true here: no auto-completion by Triton). */
  strictModelConfig?: boolean;
  /** `--backend-config=<backend>,<key>=<value>`, by backend. */
  backendConfig?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** `--log-verbose` level (default 0). */
  logVerbose?: number;
  /** `--log-info` (default true). */
  logInfo?: boolean;
  /** `--log-warning` (default true). */
  logWarn?: boolean;
  /** `--log-error` (default true). */
  logError?: boolean;
  /** `--log-file` (default: standard error). */
  logFile?: string;
  /** `--exit-timeout-secs` (default 30). */
  exitTimeoutSeconds?: number;
  /**
   * `--exit-on-error` (default true, as Triton's): a model that fails to
   * load fails the start; with false the server starts, that model
   * UNAVAILABLE with its reason in {@linkcode TritonServer.repositoryIndex}.
   */
  exitOnError?: boolean;
  /** `--model-load-retry-count` (default 0). */
  modelLoadRetryCount?: number;
  /** `--allow-metrics` (default true). */
  metrics?: boolean;
  /** `--strict-readiness` (default true). */
  strictReadiness?: boolean;
}

const decoder = new TextDecoder();

/**
 * The stand-in core's configuration hook (ffi/host/host_api.h): Triton's
 * JSON form of a model's configuration, or why it could not be read.
 */
const CONFIG_HOOK_SYMBOLS = {
  host_repository_set_config: {
    parameters: ["buffer", "buffer", "buffer", "buffer"],
    result: "i32",
  },
} as const;

type ConfigHook = Deno.DynamicLibrary<typeof CONFIG_HOOK_SYMBOLS>;

/** The hook if the core exports it (the stand-in does, Triton's core does not). */
function openConfigHook(coreLibrary: string): ConfigHook | undefined {
  try {
    return Deno.dlopen(coreLibrary, CONFIG_HOOK_SYMBOLS);
  } catch {
    return undefined;
  }
}

/**
 * Hands one model's configuration to the stand-in: its `config.pbtxt`
 * parsed (the parse error as the model's load error); nothing for a
 * directory without one, which the stand-in then reports unconfigured.
 */
function registerModelConfig(hook: ConfigHook, repository: string, name: string): void {
  let text: string;
  try {
    text = Deno.readTextFileSync(`${repository}/${name}/config.pbtxt`);
  } catch {
    hook.symbols.host_repository_set_config(cString(repository), cString(name), null, null);
    return;
  }
  let json: string | null = null;
  let problem: string | null = null;
  try {
    json = modelConfigToTritonJson(
      parseModelConfigText(text, `${repository}/${name}/config.pbtxt`),
    );
  } catch (error) {
    problem = `failed to read the configuration of model '${name}': ${
      error instanceof Error ? error.message : String(error)
    }`;
  }
  const status = hook.symbols.host_repository_set_config(
    cString(repository),
    cString(name),
    json === null ? null : cString(json),
    problem === null ? null : cString(problem),
  );
  if (status !== 0) {
    throw new CoreError("INTERNAL", `the stand-in core refused the configuration of '${name}'`);
  }
}

/**
 * Every model directory of a repository, registered with the stand-in (a
 * repository that cannot be read is left to the core to report).
 */
function registerRepository(hook: ConfigHook, repository: string): void {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(repository)];
  } catch {
    return;
  }
  for (const entry of entries) {
    if (entry.isDirectory && !entry.name.startsWith(".")) {
      registerModelConfig(hook, repository, entry.name);
    }
  }
}

/**
 * How long after a load completes an unload (or the server's stop) waits in
 * Triton's core, ms. Triton's backend thread wakes the loading thread as it
 * finishes an instance's last start-up step and takes the instance back
 * into its own list only afterwards; an unload that comes first stops that
 * thread while the list is empty and the core crashes
 * (`StopBackendThread`, core 73aad7c, with any backend). The thread needs
 * microseconds; this leaves it thousands of times that.
 */
export const UNLOAD_AFTER_LOAD_MS = 25;

/** A running in-process server. */
export class TritonServer {
  /** The core's API. */
  readonly core: CoreLibrary;
  /** The client library. */
  readonly client: ClientLibrary;
  /** `TRITONSERVER_Server*`. */
  readonly handle: Deno.PointerObject;
  /** `tdc_client*`. */
  readonly clientHandle: Deno.PointerObject;
  readonly #repository: string;
  readonly #configHook: ConfigHook | undefined;
  #stopped = false;
  /** When the last load (of any model) returned, `performance.now()`. */
  #loadEnded = performance.now();

  private constructor(
    core: CoreLibrary,
    client: ClientLibrary,
    handle: Deno.PointerObject,
    clientHandle: Deno.PointerObject,
    repository: string,
    configHook: ConfigHook | undefined,
  ) {
    this.core = core;
    this.client = client;
    this.handle = handle;
    this.clientHandle = clientHandle;
    this.#repository = repository;
    this.#configHook = configHook;
  }

  /**
   * Creates the server: Triton loads every model of the repository (mode
   * `none`/`poll`) or the startup models (`explicit`) before this resolves.
   *
   * @throws {CoreError} If the server cannot start (Triton's message).
   */
  static async start(options: ServerOptions): Promise<TritonServer> {
    const client = openClientLibrary(options.clientLibrary);
    const globalError = new ErrorText();
    if (
      client.symbols.tdc_core_make_global(
        cString(options.coreLibrary),
        globalError.buffer,
        globalError.capacity,
      ) !== 0
    ) {
      client.close();
      throw CoreError.fromText(globalError.text());
    }
    const core = openCoreLibrary(options.coreLibrary);
    const configHook = openConfigHook(options.coreLibrary);
    const out = new BigUint64Array(1);
    const fail = (error: Deno.PointerValue) => {
      if (error !== null) throw takeError(core, error);
    };
    try {
      if (configHook !== undefined) registerRepository(configHook, options.modelRepository);
      fail(core.symbols.TRITONSERVER_ServerOptionsNew(out));
      const opts = Deno.UnsafePointer.create(out[0]);
      if (opts === null) throw new CoreError("INTERNAL", "no server options");
      try {
        const s = core.symbols;
        fail(s.TRITONSERVER_ServerOptionsSetServerId(opts, cString("triton")));
        fail(
          s.TRITONSERVER_ServerOptionsSetModelRepositoryPath(
            opts,
            cString(options.modelRepository),
          ),
        );
        fail(
          s.TRITONSERVER_ServerOptionsSetBackendDirectory(opts, cString(options.backendDirectory)),
        );
        if (options.repoAgentDirectory !== undefined) {
          fail(
            s.TRITONSERVER_ServerOptionsSetRepoAgentDirectory(
              opts,
              cString(options.repoAgentDirectory),
            ),
          );
        }
        fail(s.TRITONSERVER_ServerOptionsSetModelControlMode(
          opts,
          CONTROL_MODES[options.modelControl ?? "none"],
        ));
        for (const model of options.startupModels ?? []) {
          fail(s.TRITONSERVER_ServerOptionsSetStartupModel(opts, cString(model)));
        }
        fail(
          s.TRITONSERVER_ServerOptionsSetStrictModelConfig(opts, options.strictModelConfig ?? true),
        );
        fail(s.TRITONSERVER_ServerOptionsSetStrictReadiness(opts, options.strictReadiness ?? true));
        fail(s.TRITONSERVER_ServerOptionsSetExitTimeout(opts, options.exitTimeoutSeconds ?? 30));
        fail(s.TRITONSERVER_ServerOptionsSetExitOnError(opts, options.exitOnError ?? true));
        // Always set: Triton's options object leaves it uninitialized
        // (tritonserver's own command line always sets it), and a garbage
        // count retries a failing load without end.
        fail(s.TRITONSERVER_ServerOptionsSetModelLoadRetryCount(
          opts,
          options.modelLoadRetryCount ?? 0,
        ));
        fail(s.TRITONSERVER_ServerOptionsSetLogInfo(opts, options.logInfo ?? true));
        fail(s.TRITONSERVER_ServerOptionsSetLogWarn(opts, options.logWarn ?? true));
        fail(s.TRITONSERVER_ServerOptionsSetLogError(opts, options.logError ?? true));
        fail(s.TRITONSERVER_ServerOptionsSetLogVerbose(opts, options.logVerbose ?? 0));
        if (options.logFile !== undefined) {
          fail(s.TRITONSERVER_ServerOptionsSetLogFile(opts, cString(options.logFile)));
        }
        fail(s.TRITONSERVER_ServerOptionsSetMetrics(opts, options.metrics ?? true));
        for (const [backend, settings] of Object.entries(options.backendConfig ?? {})) {
          for (const [key, value] of Object.entries(settings)) {
            fail(s.TRITONSERVER_ServerOptionsSetBackendConfig(
              opts,
              cString(backend),
              cString(key),
              cString(value),
            ));
          }
        }
        const serverOut = new BigUint64Array(1);
        fail(await s.TRITONSERVER_ServerNew(serverOut, opts));
        const handle = Deno.UnsafePointer.create(serverOut[0]);
        if (handle === null) throw new CoreError("INTERNAL", "the core made no server");
        const errorText = new ErrorText();
        const clientHandle = client.symbols.tdc_client_new(
          cString(options.coreLibrary),
          handle,
          errorText.buffer,
          errorText.capacity,
        );
        if (clientHandle === null) {
          await s.TRITONSERVER_ServerDelete(handle);
          throw CoreError.fromText(errorText.text());
        }
        return new TritonServer(
          core,
          client,
          handle,
          clientHandle,
          options.modelRepository,
          configHook,
        );
      } finally {
        deleteOptions(core, opts);
      }
    } catch (error) {
      configHook?.close();
      client.close();
      core.close();
      throw error;
    }
  }

  /** `TRITONSERVER_ServerIsLive`. */
  live(): boolean {
    return this.#flag((out) => this.core.symbols.TRITONSERVER_ServerIsLive(this.handle, out));
  }

  /** `TRITONSERVER_ServerIsReady`: every model that should be is loaded. */
  ready(): boolean {
    return this.#flag((out) => this.core.symbols.TRITONSERVER_ServerIsReady(this.handle, out));
  }

  /** `TRITONSERVER_ServerModelIsReady` (version -1: the server's choice). */
  modelReady(name: string, version = -1): boolean {
    return this.#flag((out) =>
      this.core.symbols.TRITONSERVER_ServerModelIsReady(
        this.handle,
        cString(name),
        BigInt(version),
        out,
      )
    );
  }

  /**
   * `TRITONSERVER_ServerLoadModel` (explicit mode; loads or reloads), or with
   * `config`, a JSON model configuration that replaces the repository's, and
   * `files`, model files that replace the model's directory
   * (`TRITONSERVER_ServerLoadModelWithParameters` with a string parameter
   * `config` and a bytes parameter `file:<path>` per file).
   *
   * @throws {CoreError} With Triton's reason.
   */
  async loadModel(
    name: string,
    options: { config?: string; files?: readonly { path: string; bytes: Uint8Array }[] } = {},
  ): Promise<void> {
    try {
      await this.#load(name, options);
    } finally {
      this.#loadEnded = performance.now();
    }
  }

  async #load(
    name: string,
    options: { config?: string; files?: readonly { path: string; bytes: Uint8Array }[] },
  ): Promise<void> {
    const s = this.core.symbols;
    // Triton reads the repository again on every load; the stand-in is
    // handed what config.pbtxt says now.
    if (this.#configHook !== undefined) {
      registerModelConfig(this.#configHook, this.#repository, name);
    }
    const files = options.files ?? [];
    if (options.config === undefined && files.length === 0) {
      const error = await s.TRITONSERVER_ServerLoadModel(this.handle, cString(name));
      if (error !== null) throw takeError(this.core, error);
      return;
    }
    const parameters: Deno.PointerObject[] = [];
    // The core keeps pointers to these bytes until the load returns: each
    // file's bytes in an ArrayBuffer of its own, referenced until then.
    const keep: Uint8Array[] = [];
    try {
      if (options.config !== undefined) {
        const parameter = s.TRITONSERVER_ParameterNew(
          cString("config"),
          PARAMETER_STRING,
          cString(options.config),
        );
        if (parameter === null) throw new CoreError("INTERNAL", "cannot make the config parameter");
        parameters.push(parameter);
      }
      for (const file of files) {
        const bytes = new Uint8Array(new ArrayBuffer(Math.max(1, file.bytes.byteLength)));
        bytes.set(file.bytes);
        keep.push(bytes);
        const parameter = s.TRITONSERVER_ParameterBytesNew(
          cString(`file:${file.path}`),
          bytes,
          BigInt(file.bytes.byteLength),
        );
        if (parameter === null) {
          throw new CoreError("INTERNAL", `cannot make the parameter of file '${file.path}'`);
        }
        parameters.push(parameter);
      }
      const list = new BigUint64Array(
        parameters.map((parameter) => BigInt(Deno.UnsafePointer.value(parameter))),
      );
      const error = await s.TRITONSERVER_ServerLoadModelWithParameters(
        this.handle,
        cString(name),
        list,
        BigInt(parameters.length),
      );
      if (error !== null) throw takeError(this.core, error);
    } finally {
      for (const parameter of parameters) s.TRITONSERVER_ParameterDelete(parameter);
      keep.length = 0;
    }
  }

  /**
   * `TRITONSERVER_ServerUnloadModel`, or with `dependents`
   * `TRITONSERVER_ServerUnloadModelAndDependents` (the models loaded only
   * as this one's dependencies go too): returns once the unload has started.
   * In Triton's core it begins no sooner than {@linkcode UNLOAD_AFTER_LOAD_MS}
   * after the last load returned.
   *
   * @throws {CoreError} With Triton's reason.
   */
  async unloadModel(name: string, options: { dependents?: boolean } = {}): Promise<void> {
    await this.#settleAfterLoad();
    const s = this.core.symbols;
    const error = options.dependents === true
      ? await s.TRITONSERVER_ServerUnloadModelAndDependents(this.handle, cString(name))
      : await s.TRITONSERVER_ServerUnloadModel(this.handle, cString(name));
    if (error !== null) throw takeError(this.core, error);
  }

  /** The model's configuration as Triton's JSON (`TRITONSERVER_ServerModelConfig`). */
  modelConfig(name: string, version = -1): Record<string, unknown> {
    return this.#message((out) =>
      this.core.symbols.TRITONSERVER_ServerModelConfig(
        this.handle,
        cString(name),
        BigInt(version),
        1,
        out,
      )
    );
  }

  /** `TRITONSERVER_ServerModelMetadata`. */
  modelMetadata(name: string, version = -1): Record<string, unknown> {
    return this.#message((out) =>
      this.core.symbols.TRITONSERVER_ServerModelMetadata(
        this.handle,
        cString(name),
        BigInt(version),
        out,
      )
    );
  }

  /** `TRITONSERVER_ServerModelStatistics` (name "" for every model). */
  modelStatistics(name: string, version = -1): Record<string, unknown> {
    return this.#message((out) =>
      this.core.symbols.TRITONSERVER_ServerModelStatistics(
        this.handle,
        cString(name),
        BigInt(version),
        out,
      )
    );
  }

  /** `TRITONSERVER_ServerModelIndex`: the repository's models and their states. */
  repositoryIndex(readyOnly = false): unknown[] {
    const index: unknown = this.#message((out) =>
      this.core.symbols.TRITONSERVER_ServerModelIndex(this.handle, readyOnly ? 1 : 0, out)
    );
    return Array.isArray(index) ? index : [];
  }

  /** The metrics in Prometheus' text format (`TRITONSERVER_ServerMetrics`). */
  metricsText(): string {
    const out = new BigUint64Array(1);
    const s = this.core.symbols;
    const error = s.TRITONSERVER_ServerMetrics(this.handle, out);
    if (error !== null) throw takeError(this.core, error);
    const metrics = Deno.UnsafePointer.create(out[0]);
    try {
      const base = new BigUint64Array(1);
      const size = new BigUint64Array(1);
      const failed = s.TRITONSERVER_MetricsFormatted(metrics, 0, base, size);
      if (failed !== null) throw takeError(this.core, failed);
      return readBytes(base[0], size[0]);
    } finally {
      s.TRITONSERVER_MetricsDelete(metrics);
    }
  }

  /**
   * Builds an inference request for `request.model` (start it with
   * {@linkcode InferCall.start}).
   *
   * @throws {CoreError} If Triton refuses the request as built.
   */
  call(request: InferRequest): InferCall {
    return InferCall.create(this.client, this.clientHandle, request);
  }

  /**
   * Stops the server (unloading every model, bounded by the exit timeout)
   * and frees it.
   *
   * @throws {CoreError} If models were still busy when the exit timeout
   * expired (an open sequence waits for its idle timeout, a model does not
   * finish). The server is then left allocated: Triton's threads still use
   * it, and freeing it under them crashes the process.
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.#settleAfterLoad();
    const s = this.core.symbols;
    const stopped = await s.TRITONSERVER_ServerStop(this.handle);
    if (stopped !== null) throw takeError(this.core, stopped);
    this.client.symbols.tdc_client_delete(this.clientHandle);
    const deleted = await s.TRITONSERVER_ServerDelete(this.handle);
    const error = deleted === null ? undefined : takeError(this.core, deleted);
    this.#configHook?.close();
    this.client.close();
    this.core.close();
    if (error !== undefined) throw error;
  }

  /**
   * In Triton's core, waits until {@linkcode UNLOAD_AFTER_LOAD_MS} have
   * passed since the last load returned (the stand-in has no such race).
   */
  async #settleAfterLoad(): Promise<void> {
    if (this.#configHook !== undefined) return;
    const wait = this.#loadEnded + UNLOAD_AFTER_LOAD_MS - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, Math.ceil(wait)));
  }

  #flag(call: (out: Uint8Array<ArrayBuffer>) => Deno.PointerValue): boolean {
    const out = new Uint8Array(1);
    const error = call(out);
    if (error !== null) throw takeError(this.core, error);
    return out[0] !== 0;
  }

  #message(call: (out: BigUint64Array<ArrayBuffer>) => Deno.PointerValue): Record<string, unknown> {
    const out = new BigUint64Array(1);
    const error = call(out);
    if (error !== null) throw takeError(this.core, error);
    const message = Deno.UnsafePointer.create(out[0]);
    try {
      const base = new BigUint64Array(1);
      const size = new BigUint64Array(1);
      const failed = this.core.symbols.TRITONSERVER_MessageSerializeToJson(message, base, size);
      if (failed !== null) throw takeError(this.core, failed);
      return JSON.parse(readBytes(base[0], size[0])) as Record<string, unknown>;
    } finally {
      this.core.symbols.TRITONSERVER_MessageDelete(message);
    }
  }
}

function deleteOptions(core: CoreLibrary, options: Deno.PointerObject): void {
  const error = core.symbols.TRITONSERVER_ServerOptionsDelete(options);
  if (error !== null) takeError(core, error);
}

/** Reads `size` bytes at address `base` as UTF-8. */
function readBytes(base: bigint, size: bigint): string {
  const pointer = Deno.UnsafePointer.create(base);
  if (pointer === null || size === 0n) return "";
  return decoder.decode(new Deno.UnsafePointerView(pointer).getArrayBuffer(Number(size)));
}

/** Turns a `TRITONSERVER_Error*` into a {@linkcode CoreError} and deletes it. */
export function takeError(core: CoreLibrary, error: Deno.PointerObject): CoreError {
  const code: CoreErrorCode = ERROR_CODE_NAMES[core.symbols.TRITONSERVER_ErrorCode(error)] ??
    "UNKNOWN";
  const messagePointer = core.symbols.TRITONSERVER_ErrorMessage(error);
  const message = messagePointer === null ? "" : Deno.UnsafePointerView.getCString(messagePointer);
  core.symbols.TRITONSERVER_ErrorDelete(error);
  return new CoreError(code, message);
}
