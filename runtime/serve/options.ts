/**
 * Command-line options of `deno task serve`, validated with zod.
 *
 * ```
 * serve [--model-repository DIR] [--http-port 8000] [--model NAME ...]
 *       [--grpc-port 8001] [--grpc-address ADDR] [--allow-grpc true|false]
 *       [--max-body-bytes N] [--backend-config KEY=VALUE ...]
 *       [--disable-auto-complete-config] [--watch] [--build DIR] [--backend-directory DIR]
 *       [--triton-home PREFIX] [--stand-in-server]
 *       [--model-control-mode none|poll|explicit] [--load-model NAME ...]
 *       [--model-load-thread-count N] [--http-idle-timeout-secs N]
 *       [--http-header-timeout-secs N] [--http-body-timeout-secs N] [--http-max-connections N]
 * ```
 *
 * @module
 */

import { z } from "npm:zod@3.25.76";
import { DEFAULT_MODEL_LOAD_THREAD_COUNT } from "./load_limit.ts";

/** Triton's default limit on an HTTP request body (`--http-max-input-size`): 64 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

const MODEL_NAME = /^[A-Za-z0-9_.-]+$/;

/** A boolean as tritonserver's command line takes it. */
const tritonBoolean = z.enum(["true", "false", "1", "0"], {
  errorMap: () => ({ message: "must be true, false, 1 or 0" }),
}).transform((value) => value === "true" || value === "1");

const optionsSchema = z.object({
  modelRepository: z.string().min(1).default("models"),
  httpPort: z.coerce.number().int().min(0).max(65535).default(8000),
  httpAddress: z.string().min(1).default("127.0.0.1"),
  /** The gRPC port (tritonserver's `--grpc-port`). */
  grpcPort: z.coerce.number().int().min(0).max(65535).default(8001),
  /** The gRPC address (default: the HTTP one). */
  grpcAddress: z.string().min(1).optional(),
  /** Whether to serve gRPC at all (tritonserver's `--allow-grpc`). */
  allowGrpc: tritonBoolean.default("true"),
  models: z.array(
    z.string().regex(MODEL_NAME, "a model name is letters, digits, '_', '.' or '-'"),
  ).default([]),
  maxBodyBytes: z.coerce.number().int().positive().default(DEFAULT_MAX_BODY_BYTES),
  backendConfig: z.record(z.string(), z.string()).default({}),
  build: z.string().min(1).default("build"),
  /** The Deno backend directory (default: `<build>/deno`), e.g. one made by `make install`. */
  backendDirectory: z.string().min(1).optional(),
  /** Models may complete their configuration (Triton's default). */
  autoCompleteConfig: z.boolean().default(true),
  /** Serve through Triton's own core installed at this prefix (lib/libtritonserver.so). */
  tritonHome: z.string().min(1).optional(),
  /**
   * Triton's model control (tritonserver's default: none): none and poll
   * refuse the load/unload API; poll reloads models when their files change;
   * explicit loads `--load-model`'s models at start and lets clients load
   * and unload.
   */
  modelControlMode: z.enum(["none", "poll", "explicit"]).default("none"),
  /**
   * Seconds shutdown waits for in-flight requests before it cancels the
   * open streams (tritonserver's `--exit-timeout-secs`, default 30).
   */
  exitTimeoutSecs: z.coerce.number().int().min(0).max(3600).default(30),
  /** Models loading at once (tritonserver's `--model-load-thread-count`). */
  modelLoadThreadCount: z.coerce.number().int().min(1).default(DEFAULT_MODEL_LOAD_THREAD_COUNT),
  /** Models to load at start in explicit mode ("*": all). */
  loadModels: z.array(
    z.string().regex(
      /^(?:[A-Za-z0-9_.-]+|\*)$/,
      "a model name is letters, digits, '_', '.' or '-'",
    ),
  ).default([]),
  /** Seconds a connection may stay idle with no request in flight before it is closed. */
  httpIdleTimeoutSecs: z.coerce.number().positive().max(86400).default(60),
  /** Seconds from a request's first byte to the end of its headers, at most. */
  httpHeaderTimeoutSecs: z.coerce.number().positive().max(86400).default(30),
  /** Seconds a request body may stall between two reads before 408. */
  httpBodyTimeoutSecs: z.coerce.number().positive().max(86400).default(30),
  /** Client connections at most (default: what the descriptor limit leaves room for). */
  httpMaxConnections: z.coerce.number().int().min(1).optional(),
  /** Reload a model when its files change (stand-in core). */
  watch: z.boolean().default(false),
  /**
   * Serve through the stand-in's own implementation of Triton's server API
   * (its schedulers, statistics and model control), as `--triton-home`
   * serves through Triton's core.
   */
  standInServer: z.boolean().default(false),
  /** tritonserver's `--log-verbose`: verbose lines at this level or below (0: none). */
  logVerbose: z.coerce.number().int().min(0).default(0),
  /** tritonserver's `--log-info`. */
  logInfo: tritonBoolean.default("true"),
  /** tritonserver's `--log-warning`. */
  logWarning: tritonBoolean.default("true"),
  /** tritonserver's `--log-error`. */
  logError: tritonBoolean.default("true"),
  /** tritonserver's `--log-file`: the log goes there too. */
  logFile: z.string().min(1).optional(),
});

/** The validated options. */
export type ServeOptions = z.infer<typeof optionsSchema>;

/** Thrown for an unknown flag, a missing value, or a value zod rejects. */
export class OptionsError extends Error {
  /** @param message What is wrong, naming the flag. */
  constructor(message: string) {
    super(message);
    this.name = "OptionsError";
  }
}

/** The usage text printed by `--help` and after an options error. */
export const USAGE = `usage: deno task serve [options]
  --model-repository DIR   the model repository (default: models)
  --http-port N            the HTTP port (default: 8000; 0 picks a free one)
  --http-address ADDR      the address to listen on (default: 127.0.0.1)
  --grpc-port N            the gRPC port (default: 8001; 0 picks a free one)
  --grpc-address ADDR      the address gRPC listens on (default: the HTTP address)
  --allow-grpc BOOL        serve Triton's gRPC protocol too (default: true)
  --model NAME             load only this model (repeatable; default: all)
  --max-body-bytes N       the largest request body accepted, after decompression (default:
                           64 MiB; --http-max-input-size N is the same, as tritonserver names it)
  --backend-config K=V     a setting passed to the Deno backend (repeatable)
  --build DIR              the build directory holding the libraries (default: build)
  --backend-directory DIR  the Deno backend directory to load (default: <build>/deno), such as
                           one made by make install
  --disable-auto-complete-config
                           do not let models complete their configuration (as Triton's flag)
  --watch                  reload a model when its files change (new instances start, the old
                           ones drain); a version that fails to load is reported with its
                           error and the previous one keeps serving
  --triton-home PREFIX     serve through Triton's own core installed at PREFIX (laid out like
                           /opt/tritonserver: lib/libtritonserver.so, backends/); default: the
                           stand-in core built here
  --stand-in-server        serve through the stand-in's own implementation of Triton's server
                           API (built here: its schedulers, statistics and model control, so that
                           calls between models are scheduled and counted as in Triton and
                           --model-control-mode applies) instead of serve's model manager
  --model-control-mode M   none, poll or explicit (default: none, as tritonserver; with any
                           core): none and poll refuse the repository load/unload API; poll
                           reloads a model when its files change; explicit loads only
                           --load-model's models at start and lets clients load, reload (with a
                           config override) and unload
  --load-model NAME        in explicit mode: load it at start (repeatable; '*' loads all)
  --exit-timeout-secs N    at SIGINT/SIGTERM, how long to wait for requests in flight before
                           cancelling open streams (default: 30, as tritonserver)
  --http-idle-timeout-secs N
                           close a connection idle this long with no request in flight
                           (default: 60)
  --http-header-timeout-secs N
                           close a connection whose request headers take longer (default: 30)
  --http-body-timeout-secs N
                           answer 408 when a request body stalls this long (default: 30)
  --http-max-connections N client connections at most; at the cap a new one evicts the one idle
                           the longest (default: what the open-files limit leaves room for)
  --model-load-thread-count N
                           models loading at once (default: 4, as tritonserver's; with
                           --triton-home, Triton's own setting applies)
  --log-verbose N          Triton's log: verbose lines up to level N (default: 0, none)
  --log-info B             Triton's log: info lines (default: true); likewise --log-warning B
                           and --log-error B. The log (the backend's denials, deadlines,
                           restarts and the models' console and logger lines) goes to standard
                           error in Triton's format, as tritonserver's does
  --log-file PATH          Triton's log: also append it to PATH`;

const FLAGS: Record<
  string,
  Exclude<keyof RawOptions, "autoCompleteConfig" | "watch" | "standInServer">
> = {
  "--model-repository": "modelRepository",
  "--http-port": "httpPort",
  "--http-address": "httpAddress",
  "--grpc-port": "grpcPort",
  "--grpc-address": "grpcAddress",
  "--allow-grpc": "allowGrpc",
  "--model": "models",
  "--max-body-bytes": "maxBodyBytes",
  "--http-max-input-size": "maxBodyBytes",
  "--backend-config": "backendConfig",
  "--build": "build",
  "--backend-directory": "backendDirectory",
  "--triton-home": "tritonHome",
  "--model-control-mode": "modelControlMode",
  "--load-model": "loadModels",
  "--exit-timeout-secs": "exitTimeoutSecs",
  "--model-load-thread-count": "modelLoadThreadCount",
  "--http-idle-timeout-secs": "httpIdleTimeoutSecs",
  "--http-header-timeout-secs": "httpHeaderTimeoutSecs",
  "--http-body-timeout-secs": "httpBodyTimeoutSecs",
  "--http-max-connections": "httpMaxConnections",
  "--log-verbose": "logVerbose",
  "--log-info": "logInfo",
  "--log-warning": "logWarning",
  "--log-error": "logError",
  "--log-file": "logFile",
};

interface RawOptions {
  modelRepository?: string;
  httpPort?: string;
  httpAddress?: string;
  grpcPort?: string;
  grpcAddress?: string;
  allowGrpc?: string;
  models: string[];
  maxBodyBytes?: string;
  backendConfig: Record<string, string>;
  build?: string;
  backendDirectory?: string;
  tritonHome?: string;
  modelControlMode?: string;
  loadModels: string[];
  modelLoadThreadCount?: string;
  autoCompleteConfig?: boolean;
  exitTimeoutSecs?: string;
  httpIdleTimeoutSecs?: string;
  httpHeaderTimeoutSecs?: string;
  httpBodyTimeoutSecs?: string;
  httpMaxConnections?: string;
  watch?: boolean;
  standInServer?: boolean;
  logVerbose?: string;
  logInfo?: string;
  logWarning?: string;
  logError?: string;
  logFile?: string;
}

/**
 * Parses the command line. Flags take their value as the next argument or
 * after `=`; `--model` and `--backend-config` may repeat.
 *
 * @throws {OptionsError} Naming the first problem.
 *
 * @example
 * ```ts
 * import { parseOptions } from "./options.ts";
 *
 * const options = parseOptions(["--http-port", "8080", "--model=add_sub"]);
 * console.log(options.httpPort, options.models); // 8080 ["add_sub"]
 * ```
 */
export function parseOptions(args: readonly string[]): ServeOptions {
  const raw: RawOptions = { models: [], loadModels: [], backendConfig: {} };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--disable-auto-complete-config") {
      raw.autoCompleteConfig = false;
      continue;
    }
    if (arg === "--watch") {
      raw.watch = true;
      continue;
    }
    if (arg === "--stand-in-server") {
      raw.standInServer = true;
      continue;
    }
    const equals = arg.indexOf("=");
    const flag = equals > 0 ? arg.slice(0, equals) : arg;
    const key = FLAGS[flag];
    if (key === undefined) throw new OptionsError(`unknown option '${arg}'`);
    let value: string;
    if (equals > 0) {
      value = arg.slice(equals + 1);
    } else {
      if (i + 1 >= args.length) throw new OptionsError(`option '${flag}' needs a value`);
      value = args[++i];
    }
    if (key === "models") {
      raw.models.push(value);
    } else if (key === "loadModels") {
      raw.loadModels.push(value);
    } else if (key === "backendConfig") {
      const split = value.indexOf("=");
      if (split <= 0) throw new OptionsError(`option '${flag}' takes KEY=VALUE, got '${value}'`);
      raw.backendConfig[value.slice(0, split)] = value.slice(split + 1);
    } else {
      raw[key] = value;
    }
  }
  const parsed = optionsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const flag = Object.entries(FLAGS).find(([, name]) => name === issue.path[0])?.[0] ??
      String(issue.path[0]);
    throw new OptionsError(`option '${flag}': ${issue.message}`);
  }
  return parsed.data;
}

/**
 * Checks the model-control options as tritonserver does: `--load-model`
 * only in explicit mode; in explicit mode models are chosen with
 * `--load-model`, not `--model`.
 *
 * @throws {Error} Naming the conflict.
 */
export function checkModelControl(options: ServeOptions): void {
  if (options.loadModels.length > 0 && options.modelControlMode !== "explicit") {
    throw new Error("--load-model needs --model-control-mode explicit (as with tritonserver)");
  }
  if (options.models.length > 0 && options.modelControlMode === "explicit") {
    throw new Error(
      "--model selects the models of the none and poll modes; in explicit mode name the " +
        "models to load at start with --load-model (or --load-model '*' for all)",
    );
  }
  if (options.watch && options.modelControlMode === "explicit") {
    throw new Error("--watch reloads models by itself; it does not go with explicit model control");
  }
}
