/**
 * Triton's logging extension (`/v2/logging`) and trace settings
 * (`/v2/trace/setting`, `/v2/models/{m}/trace/setting`): the settings a
 * client reads and updates, validated as Triton validates them.
 *
 * What they do here: on the stand-in core, `log_info`, `log_warning`,
 * `log_error` and `log_verbose_level` set Triton's log as it goes (the
 * lines serve writes in Triton's format: the backend's and the models');
 * with `--triton-home` (whose core takes its log settings only at start)
 * and for `log_format`, they are kept and reported. The `[serve]` lines
 * are not Triton's log and stay. Traces are not written by this server: trace settings are kept
 * and reported per model and globally, so that clients that set them work,
 * and `trace_file` cannot be set over the network (as in Triton).
 *
 * @module
 */

import { invalidArg, ServeError } from "./errors.ts";
import { ErrorCode } from "../api/error.ts";

/** The log settings, as `GET /v2/logging` answers them. */
export interface LogSettingsJson {
  log_file: string;
  log_info: boolean;
  log_warning: boolean;
  log_error: boolean;
  log_verbose_level: number;
  log_format: "default" | "ISO8601";
}

/** The server's log settings. */
export class LogSettings {
  #settings: LogSettingsJson;
  #observers: ((settings: LogSettingsJson) => void)[] = [];

  /** @param initial The settings at start (tritonserver's `--log-*` flags); the rest default. */
  constructor(initial: Partial<LogSettingsJson> = {}) {
    this.#settings = {
      log_file: "",
      log_info: true,
      log_warning: true,
      log_error: true,
      log_verbose_level: 0,
      log_format: "default",
      ...initial,
    };
  }

  /** Calls `observer` with the new settings after each update. */
  onChange(observer: (settings: LogSettingsJson) => void): void {
    this.#observers.push(observer);
  }

  /** The settings. */
  toJson(): LogSettingsJson {
    return { ...this.#settings };
  }

  /**
   * Applies a client's update (all or nothing).
   *
   * @throws {ServeError} `INVALID_ARG` naming the setting and what it takes.
   */
  update(body: Record<string, unknown>): void {
    const next = { ...this.#settings };
    for (const [key, value] of Object.entries(body)) {
      switch (key) {
        case "log_file":
          if (typeof value !== "string") throw invalidArg("log_file must be a string");
          if (value !== next.log_file) {
            throw new ServeError(
              ErrorCode.UNSUPPORTED,
              "log file location can not be updated through network protocol",
            );
          }
          break;
        case "log_info":
        case "log_warning":
        case "log_error":
          if (typeof value !== "boolean") throw invalidArg(`${key} must be a boolean`);
          next[key] = value;
          break;
        case "log_verbose_level":
          if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
            throw invalidArg("log_verbose_level must be an unsigned integer");
          }
          next.log_verbose_level = value;
          break;
        case "log_format":
          if (value !== "default" && value !== "ISO8601") {
            throw invalidArg(`invalid argument for log_format, got: ${JSON.stringify(value)}`);
          }
          next.log_format = value;
          break;
        default:
          throw invalidArg(`Logging setting '${key}' is not supported`);
      }
    }
    this.#settings = next;
    for (const observer of this.#observers) observer(this.toJson());
  }
}

/** Trace settings as Triton answers them: each value a string, `trace_level` a list. */
export type TraceSettingsJson = Record<string, string | string[]>;

const TRACE_LEVELS = new Set(["OFF", "TIMESTAMPS", "TENSORS"]);

const DEFAULT_TRACE: TraceSettingsJson = {
  trace_level: ["OFF"],
  trace_rate: "1000",
  trace_count: "-1",
  log_frequency: "0",
  trace_file: "",
  trace_mode: "triton",
};

/** The global trace settings and each model's own (a model without its own follows the global). */
export class TraceSettings {
  #global: TraceSettingsJson = structuredClone(DEFAULT_TRACE);
  readonly #models = new Map<string, TraceSettingsJson>();

  /** The settings for `model`, or the global ones. */
  toJson(model?: string): TraceSettingsJson {
    const own = model === undefined ? undefined : this.#models.get(model);
    return structuredClone(own ?? this.#global);
  }

  /**
   * Applies a client's update for `model` (or globally); a `null` value
   * goes back to the global (or default) value.
   *
   * @throws {ServeError} `INVALID_ARG` naming the setting.
   */
  update(body: Record<string, unknown>, model?: string): void {
    const base = model === undefined ? this.#global : this.#models.get(model) ?? this.#global;
    const next = structuredClone(base);
    const fallback = model === undefined ? DEFAULT_TRACE : this.#global;
    for (const [key, value] of Object.entries(body)) {
      if (!(key in DEFAULT_TRACE)) throw invalidArg(`Unknown trace setting '${key}'`);
      if (value === null) {
        next[key] = structuredClone(fallback[key]);
        continue;
      }
      switch (key) {
        case "trace_level": {
          const levels = Array.isArray(value) ? value : [value];
          if (levels.length === 0 || levels.some((level) => !TRACE_LEVELS.has(String(level)))) {
            throw invalidArg("trace_level must be a list of OFF, TIMESTAMPS and TENSORS");
          }
          next.trace_level = levels.map(String);
          break;
        }
        case "trace_rate":
        case "log_frequency":
          if (typeof value !== "string" || !/^[0-9]+$/.test(value)) {
            throw invalidArg(`${key} must be an unsigned integer in a string`);
          }
          next[key] = value;
          break;
        case "trace_count":
          if (typeof value !== "string" || !/^(-1|[0-9]+)$/.test(value)) {
            throw invalidArg("trace_count must be -1 or an unsigned integer in a string");
          }
          next[key] = value;
          break;
        case "trace_file":
          throw invalidArg("trace file location can not be updated through network protocol");
        case "trace_mode":
          if (value !== "triton") throw invalidArg("trace_mode can only be 'triton' here");
          break;
      }
    }
    if (model === undefined) this.#global = next;
    else this.#models.set(model, next);
  }
}
