/**
 * Starts the HTTP server: loads the Deno backend into the test host, loads
 * the repository's models, serves Triton's HTTP/REST protocol, and shuts
 * down gracefully (stop accepting, finish in-flight requests, unload every
 * model so each stub is finalized, unload the backend). With
 * `--triton-home`, Triton's own core does the loading, scheduling and
 * statistics instead (runtime/serve/triton_models.ts); the HTTP side is
 * the same.
 *
 * @module
 */

import { basename, dirname, resolve } from "node:path";
import { HostBackend, HostModel } from "./host_executor.ts";
import { InProcessCalls } from "./in_process_calls.ts";
import { openHostLibrary, readText } from "../../ffi/host/bindings.ts";
import { createHandler } from "./handlers.ts";
import { LoadLimit } from "./load_limit.ts";
import { ModelManager, type ModelReport, type VersionLoader } from "./model_manager.ts";
import { checkModelControl, type ServeOptions } from "./options.ts";
import { LogSettings, type LogSettingsJson } from "./settings.ts";
import { SystemSharedMemory } from "./system_shm.ts";
import { composeBackendDirectory, tritonHome, TritonServer } from "../core/mod.ts";
import { TritonModels } from "./triton_models.ts";
import { drainWithin, OpenStreams } from "./open_streams.ts";
import { ConnectionFront, defaultMaxConnections, descriptorLimit } from "./connection_front.ts";

/** After open streams are cancelled at shutdown, how long they may take to end. */
const CANCEL_GRACE_MS = 10_000;
import { type RepositoryWatcher, watchRepository } from "./watch.ts";
import { bindGrpc, type GrpcEndpoint } from "./grpc/server.ts";

/** A running server. */
export interface RunningServer {
  /** The address it listens on. */
  readonly hostname: string;
  /** The port it listens on (the chosen one when 0 was asked for). */
  readonly port: number;
  /** What became of each model at startup. */
  readonly models: readonly ModelReport[];
  /**
   * Stops accepting connections, lets in-flight requests finish (for at
   * most `--exit-timeout-secs`, then cancels the open streams), unloads
   * every model and the backend. Resolves with the problems met (empty when
   * all went well).
   */
  shutdown(): Promise<string[]>;
}

/**
 * Where the build put the libraries, from the build directory; the backend
 * directory is `<build>/deno` unless another (an install) is named.
 */
export function buildPaths(build: string, backendDirectory = resolve(build, "deno")): {
  hostLibrary: string;
  backendDirectory: string;
  backendLibrary: string;
} {
  backendDirectory = resolve(backendDirectory);
  return {
    hostLibrary: resolve(build, "libtriton_host.so"),
    backendDirectory,
    backendLibrary: resolve(backendDirectory, "libtriton_deno.so"),
  };
}

/**
 * Starts serving. `log` receives one line per event (startup lines name
 * each model's state, instances and sandbox permissions).
 *
 * @throws {Error} If the backend does not load, or a `--model` is not in
 * the repository.
 */
export async function startServer(
  options: ServeOptions,
  log: (line: string) => void,
): Promise<RunningServer> {
  checkModelControl(options);
  // The logging extension's settings start as the --log-* flags say.
  const logSettings = new LogSettings({
    log_file: options.logFile ?? "",
    log_info: options.logInfo,
    log_warning: options.logWarning,
    log_error: options.logError,
    log_verbose_level: options.logVerbose,
  });
  if (options.tritonHome !== undefined && options.standInServer) {
    throw new Error("--triton-home and --stand-in-server each name the core: choose one");
  }
  if ((options.tritonHome !== undefined || options.standInServer) && options.watch) {
    throw new Error(
      "--watch reloads models in serve's own model manager; with --triton-home or " +
        "--stand-in-server use --model-control-mode poll",
    );
  }
  // The ports first: a port in use fails at once, before any model loads.
  const http = bindHttp(options, log);
  try {
    if (options.allowGrpc) http.grpc = await bindGrpcPort(options, log);
    return options.tritonHome !== undefined
      ? await startTritonServer(options, log, http, tritonCore(options), logSettings)
      : options.standInServer
      ? await startTritonServer(options, log, http, standInCore(options), logSettings)
      : await startHostServer(options, log, http, logSettings);
  } catch (error) {
    http.grpc?.forceShutdown();
    await http.server.shutdown();
    throw error;
  }
}

/** Binds the gRPC port (`--grpc-port`, `--grpc-address`). */
async function bindGrpcPort(options: ServeOptions, log: (line: string) => void) {
  const endpoint = await bindGrpc({
    address: options.grpcAddress ?? options.httpAddress,
    port: options.grpcPort,
    maxMessageBytes: options.maxBodyBytes,
  });
  log(`bound grpc://${endpoint.address}:${endpoint.port}`);
  return endpoint;
}

/**
 * Stops the endpoints: no new calls, in-flight ones finish within the exit
 * timeout (then open streams are cancelled), and gRPC connections still
 * open after that are closed.
 */
async function stopEndpoints(
  bound: BoundHttp,
  openStreams: OpenStreams,
  options: ServeOptions,
  log: (line: string) => void,
): Promise<void> {
  await drainWithin(Promise.all([bound.server.shutdown(), bound.grpc?.shutdown()]), openStreams, {
    timeoutMs: options.exitTimeoutSecs * 1000,
    graceMs: CANCEL_GRACE_MS,
    log,
  });
  bound.grpc?.forceShutdown();
}

/** The HTTP server, bound before the models load; it answers once `serve` gives it a handler. */
interface BoundHttp {
  readonly server: { shutdown(): Promise<void> };
  readonly address: Deno.NetAddr;
  /** Hands requests to `handler` from now on. */
  serve(handler: Deno.ServeHandler): void;
  /** The gRPC endpoint, unless `--allow-grpc false`. */
  grpc?: GrpcEndpoint;
}

/**
 * Binds the HTTP port. Until the models are loaded, `/v2/health/live`
 * answers 200 and everything else 503 (Triton listens only once loaded;
 * this server binds first so that a port in use fails before the loading).
 *
 * @throws {Error} If the port is taken, saying so.
 */
function bindHttp(options: ServeOptions, log: (line: string) => void): BoundHttp {
  let handler: Deno.ServeHandler | undefined;
  const starting: Deno.ServeHandler = (request) => {
    if (new URL(request.url).pathname === "/v2/health/live") {
      return new Response(null, { status: 200 });
    }
    return Response.json({ error: "the server is starting: models are loading" }, { status: 503 });
  };
  const limit = descriptorLimit();
  const maxConnections = options.httpMaxConnections ?? defaultMaxConnections(limit);
  let front: ConnectionFront;
  try {
    front = new ConnectionFront({
      hostname: options.httpAddress,
      port: options.httpPort,
      limits: {
        idleTimeoutMs: options.httpIdleTimeoutSecs * 1000,
        headerTimeoutMs: options.httpHeaderTimeoutSecs * 1000,
        maxConnections,
      },
      log,
    }, (request, info) => (handler ?? starting)(request, info));
  } catch (error) {
    if (!(error instanceof Deno.errors.AddrInUse)) throw error;
    throw new Error(
      `${options.httpAddress}:${options.httpPort} is in use (${error.message}); nothing was ` +
        "loaded. Stop the other server or choose another --http-port",
    );
  }
  const server = front;
  const address = front.addr;
  log(
    `connections: at most ${maxConnections}${
      limit === undefined ? "" : ` (open-files limit ${limit})`
    }, idle timeout ${options.httpIdleTimeoutSecs} s, header timeout ` +
      `${options.httpHeaderTimeoutSecs} s, body timeout ${options.httpBodyTimeoutSecs} s`,
  );
  log(`bound http://${address.hostname}:${address.port}; loading models`);
  return { server, address, serve: (next) => (handler = next) };
}

async function startHostServer(
  options: ServeOptions,
  log: (line: string) => void,
  http: BoundHttp,
  logSettings: LogSettings,
): Promise<RunningServer> {
  const paths = buildPaths(options.build, options.backendDirectory);
  const library = openHostLibrary(paths.hostLibrary);
  // Triton's log on standard error, as tritonserver writes it: the
  // backend's denials, deadlines and restarts, and the models' lines.
  const setupLog = (settings: LogSettingsJson) =>
    library.symbols.host_log_setup(
      settings.log_info ? 1 : 0,
      settings.log_warning ? 1 : 0,
      settings.log_error ? 1 : 0,
      settings.log_verbose_level,
      1,
      settings.log_file === "" ? null : new TextEncoder().encode(`${settings.log_file}\0`),
    );
  setupLog(logSettings.toJson());
  // POST /v2/logging changes this log as it goes.
  logSettings.onChange(setupLog);
  let backend: HostBackend;
  try {
    backend = HostBackend.load(library, paths.backendLibrary, paths.backendDirectory, {
      // What tritonserver adds to every backend's configuration.
      "backend-directory": dirname(paths.backendDirectory),
      "min-compute-capability": "6.000000",
      "default-max-batch-size": "4",
      ...options.backendConfig,
    });
  } catch (error) {
    library.close();
    throw error;
  }
  // As tritonserver: a few models load at once, not the whole repository.
  const loads = new LoadLimit(options.modelLoadThreadCount);
  const loader: VersionLoader = (spec, version, configJson, instanceCount) =>
    loads.run(() =>
      HostModel.load(
        backend,
        spec.name,
        version,
        spec.directory,
        configJson,
        instanceCount,
        options.autoCompleteConfig,
      )
    );
  const repository = resolve(options.modelRepository);
  const manager = new ModelManager(repository, loader, { log });
  // A call from one model to another (BLS) goes through the called model's
  // scheduler, as a client's request does (from the first load on: a model
  // may call another as it initializes).
  const calls = new InProcessCalls(library, manager);
  calls.start();
  let reports: ModelReport[];
  try {
    // As tritonserver: explicit mode loads only --load-model's models
    // ("*": all of them); the other modes load the repository (or --model's).
    reports = options.modelControlMode !== "explicit"
      ? await manager.loadAll(options.models)
      : options.loadModels.length === 0
      ? []
      : await manager.loadAll(options.loadModels.includes("*") ? [] : options.loadModels);
  } catch (error) {
    await manager.unloadAll();
    await calls.stop();
    await backend.unload().catch(() => {});
    library.close();
    throw error;
  }
  log(
    `model repository ${repository}: ${reports.length} model(s) loaded; model control ` +
      options.modelControlMode,
  );
  for (const report of reports) log(describeModel(report));

  let stopping = false;
  const openStreams = new OpenStreams();
  const sharedMemory = new SystemSharedMemory();
  http.serve(createHandler({
    manager,
    sharedMemory,
    logSettings,
    modelControl: options.modelControlMode,
    maxBodyBytes: options.maxBodyBytes,
    bodyTimeoutMs: options.httpBodyTimeoutSecs * 1000,
    stopping: () => stopping,
    openStreams,
    // The host's registry is what Triton's metrics port would serve.
    metricsText: () => readText((out, cap) => library.symbols.host_metrics_text(out, cap)),
  }));
  http.grpc?.serve({
    manager,
    stopping: () => stopping,
    openStreams,
    modelControl: options.modelControlMode,
  });
  const address = http.address;
  let watcher: RepositoryWatcher | undefined;
  // Poll mode: models reload when their files change (tritonserver polls
  // the repository; this server watches it).
  if (options.watch || options.modelControlMode === "poll") {
    watcher = watchRepository(repository, manager, log, { only: options.models });
    log(`watching ${repository}: a model reloads when its files change`);
  }
  if (http.grpc) log(`listening on grpc://${http.grpc.address}:${http.grpc.port}`);
  log(`listening on http://${address.hostname}:${address.port}`);

  let shutdown: Promise<string[]> | undefined;
  return {
    hostname: address.hostname,
    port: address.port,
    models: reports,
    shutdown: () => {
      shutdown ??= (async () => {
        stopping = true;
        watcher?.close();
        log("shutting down: no new connections, finishing in-flight requests");
        await stopEndpoints(http, openStreams, options, log);
        sharedMemory.unregister();
        const problems = await manager.unloadAll();
        await calls.stop();
        await backend.unload().catch((error) => problems.push(String(error?.message ?? error)));
        library.close();
        log(problems.length === 0 ? "stopped" : `stopped with problems: ${problems.join("; ")}`);
        return problems;
      })();
      return shutdown;
    },
  };
}

/**
 * Serves through Triton's own core (`--triton-home`): Triton loads the
 * repository (as its `--model-control-mode` says), schedules and batches;
 * the handler is the same.
 */
/** A core that implements Triton's server API, and where its backends are. */
interface ServerCore {
  /** What the startup log calls it. */
  readonly label: string;
  /** The library exporting TRITONSERVER_*. */
  readonly coreLibrary: string;
  /** The backend directory the core is given. */
  readonly backendDirectory: string;
  /** Whether the backend directory was made for this run (removed at the end). */
  readonly temporary: boolean;
}

/** Triton's own core at `--triton-home`, with a backend directory composed for it. */
function tritonCore(options: ServeOptions): ServerCore {
  const home = tritonHome(resolve(options.tritonHome!));
  if (home === undefined) throw new Error("--triton-home needs a prefix");
  const paths = buildPaths(options.build, options.backendDirectory);
  return {
    label: `Triton core ${home.prefix}`,
    coreLibrary: home.coreLibrary,
    backendDirectory: composeBackendDirectory(home, paths.backendDirectory),
    temporary: true,
  };
}

/**
 * The stand-in's own implementation of Triton's server API
 * (`--stand-in-server`): the stand-in library as the core, the Deno backend
 * found beside it as Triton would find it (`<dir>/deno/libtriton_deno.so`).
 */
function standInCore(options: ServeOptions): ServerCore {
  const paths = buildPaths(options.build, options.backendDirectory);
  if (basename(paths.backendDirectory) !== "deno") {
    throw new Error(
      `--stand-in-server finds the backend as <dir>/deno: '${paths.backendDirectory}' is not ` +
        "named deno",
    );
  }
  return {
    label: `stand-in server ${paths.hostLibrary}`,
    coreLibrary: paths.hostLibrary,
    backendDirectory: dirname(paths.backendDirectory),
    temporary: false,
  };
}

async function startTritonServer(
  options: ServeOptions,
  log: (line: string) => void,
  bound: BoundHttp,
  core: ServerCore,
  logSettings: LogSettings,
): Promise<RunningServer> {
  const removeBackendDirectory = () => {
    if (core.temporary) Deno.removeSync(core.backendDirectory, { recursive: true });
  };
  if (options.models.length > 0) {
    removeBackendDirectory();
    throw new Error(
      "--model selects models on the stand-in core; with --triton-home or --stand-in-server use " +
        "--model-control-mode explicit --load-model NAME, as with tritonserver",
    );
  }
  const backendDirectory = core.backendDirectory;
  const repository = resolve(options.modelRepository);
  let server: TritonServer;
  try {
    server = await TritonServer.start({
      coreLibrary: core.coreLibrary,
      clientLibrary: resolve(options.build, "libtriton_deno_client.so"),
      modelRepository: repository,
      backendDirectory,
      modelControl: options.modelControlMode,
      startupModels: options.loadModels,
      strictModelConfig: !options.autoCompleteConfig,
      backendConfig: { deno: options.backendConfig },
      // Triton's log goes to standard error, in its own format.
      logInfo: options.logInfo,
      logWarn: options.logWarning,
      logError: options.logError,
      logVerbose: options.logVerbose,
      logFile: options.logFile,
      exitTimeoutSeconds: options.exitTimeoutSecs,
    });
  } catch (error) {
    removeBackendDirectory();
    throw error;
  }
  const models = new TritonModels(server);
  const index = models.index(false);
  log(`${core.label}; model repository ${repository}: ${index.length} model(s)`);
  for (const entry of index) {
    log(
      `model ${entry.name}: ${entry.state ?? "not loaded"}${
        entry.version === undefined ? "" : `, version ${entry.version}`
      }${entry.reason ? `: ${entry.reason}` : ""}`,
    );
  }
  let stopping = false;
  const openStreams = new OpenStreams();
  const sharedMemory = new SystemSharedMemory();
  bound.serve(createHandler({
    manager: models,
    sharedMemory,
    logSettings,
    modelControl: options.modelControlMode,
    maxBodyBytes: options.maxBodyBytes,
    bodyTimeoutMs: options.httpBodyTimeoutSecs * 1000,
    stopping: () => stopping,
    openStreams,
    metricsText: () => server.metricsText(),
  }));
  bound.grpc?.serve({
    manager: models,
    stopping: () => stopping,
    openStreams,
    modelControl: options.modelControlMode,
  });
  const address = bound.address;
  if (bound.grpc) log(`listening on grpc://${bound.grpc.address}:${bound.grpc.port}`);
  log(`listening on http://${address.hostname}:${address.port}`);
  let shutdown: Promise<string[]> | undefined;
  return {
    hostname: address.hostname,
    port: address.port,
    models: [],
    shutdown: () => {
      shutdown ??= (async () => {
        stopping = true;
        log("shutting down: no new connections, finishing in-flight requests");
        await stopEndpoints(bound, openStreams, options, log);
        sharedMemory.unregister();
        const problems: string[] = [];
        await server.stop().catch((error) => problems.push(String(error?.message ?? error)));
        removeBackendDirectory();
        log(problems.length === 0 ? "stopped" : `stopped with problems: ${problems.join("; ")}`);
        return problems;
      })();
      return shutdown;
    },
  };
}

/** The startup line for one model. */
export function describeModel(report: ModelReport): string {
  if (report.state !== "READY") {
    return `model ${report.name}: ${report.state}: ${report.reason}`;
  }
  if (report.ensembleSteps !== undefined) {
    return `model ${report.name}: READY, version ${report.versions.join(",")}, ` +
      `ensemble of ${report.ensembleSteps} step(s)`;
  }
  const sandbox = report.sandbox;
  const list = (values: readonly string[] | undefined) =>
    values === undefined || values.length === 0 ? "none" : values.join(",");
  return `model ${report.name}: READY, version ${report.versions.join(",")}, ` +
    `${report.instances} instance(s), sandbox read=${list(sandbox?.read)} ` +
    `write=${list(sandbox?.write)} net=${list(sandbox?.net)} env=${list(sandbox?.env)}`;
}
