/**
 * What a model asks for: the `deno.*` string parameters of its
 * config.pbtxt, e.g.
 *
 * ```
 * parameters { key: "deno.allow_net" value { string_value: "10.0.0.5:443,api.internal:8080" } }
 * ```
 *
 * Every value is validated with zod; an unknown `deno.*` key or a malformed
 * value fails the load with a message naming the key, the value and what
 * is allowed. Parameters without the `deno.` prefix belong to the model and
 * are not looked at. What the model asks for is not yet what it gets: the
 * operator's ceiling decides that (sandbox/policy/effective.ts).
 *
 * @example
 * ```ts
 * import { declaredSandboxOf } from "./model_parameters.ts";
 *
 * const config = JSON.stringify({
 *   parameters: { "deno.allow_read": { string_value: "data,/srv/shared" } },
 * });
 * const declared = declaredSandboxOf(config, "/models/m");
 * console.log(declared.read); // ["/models/m/data", "/srv/shared"]
 * ```
 *
 * @module
 */

import { z } from "npm:zod@3.25.76";
import {
  envNameProblem,
  formatNetEntry,
  modelPatternProblem,
  NET_ENTRY_FORM,
  type NetEntry,
  parseNetEntry,
  pathProblem,
  resolvePath,
  SYS_NAMES,
} from "./rules.ts";

/** The model's configuration asks for something malformed; the message says what and why. */
export class SandboxConfigError extends Error {
  /** @param message Names the key, the value and what is allowed. */
  constructor(message: string) {
    super(message);
    this.name = "SandboxConfigError";
  }
}

/** What a model declares; limits it does not declare are undefined. */
export interface DeclaredSandbox {
  /** Absolute, normalized paths to read (besides the model directory). */
  readonly read: readonly string[];
  /** Absolute, normalized paths to write. */
  readonly write: readonly string[];
  /** Hosts to connect to. */
  readonly net: readonly NetEntry[];
  /** Environment variables to read. */
  readonly env: readonly string[];
  /** System information APIs. */
  readonly sys: readonly string[];
  /** WebGPU. */
  readonly gpu: boolean;
  /** Models (names or globs) it may call, and ask whether they are ready. */
  readonly models: readonly string[];
  /** Models (names or globs) it may load and unload. */
  readonly modelControl: readonly string[];
  /** V8 heap cap, MiB. */
  readonly maxHeapMb?: number;
  /** Memory for ArrayBuffers and Wasm beyond the heap, MiB. */
  readonly maxMemoryMb?: number;
  /** Execute deadline, ms (0: none). */
  readonly executeTimeoutMs?: number;
  /** Longest silence of an open stream after execute returned, ms (0: none). */
  readonly streamIdleTimeoutMs?: number;
  /** Output bytes per batch. */
  readonly maxOutputBytes?: number;
}

/** Inclusive bounds of each numeric limit, shared with the policy file. */
export const LIMIT_BOUNDS = {
  max_heap_mb: { min: 16, max: 1024 * 1024 },
  max_memory_mb: { min: 0, max: 1024 * 1024 },
  execute_timeout_ms: { min: 0, max: 4294967295 },
  stream_idle_timeout_ms: { min: 0, max: 4294967295 },
  max_output_bytes: { min: 0, max: 2 ** 50 },
} as const;

/** The names of the numeric limits. */
export type LimitName = keyof typeof LIMIT_BOUNDS;

/** One list item: its normalized value, or why it is refused. */
type Checked<T> = { ok: true; value: T } | { ok: false; problem: string };

function accept<T>(value: T): Checked<T> {
  return { ok: true, value };
}

function refuse<T>(problem: string): Checked<T> {
  return { ok: false, problem };
}

const LIST_NOTE = "a comma-separated list (empty for none)";

function items(value: string): string[] {
  return value.trim() === "" ? [] : value.split(",").map((item) => item.trim());
}

/** A comma list whose items each pass `check` (which returns the problem, if any). */
function listOf<T>(
  what: string,
  check: (item: string) => Checked<T>,
) {
  return z.string().transform((value, context) => {
    const result: T[] = [];
    for (const item of items(value)) {
      const checked = check(item);
      if (!checked.ok) {
        context.addIssue({
          code: z.ZodIssueCode.custom,
          message: `${
            JSON.stringify(item)
          } is ${checked.problem}; expected ${LIST_NOTE} of ${what}`,
        });
        return z.NEVER;
      }
      result.push(checked.value);
    }
    return result;
  });
}

function decimal(name: LimitName, note: string) {
  const { min, max } = LIMIT_BOUNDS[name];
  return z.string().transform((value, context) => {
    const number = Number(value);
    if (!/^(0|[1-9][0-9]*)$/.test(value) || number < min || number > max) {
      context.addIssue({
        code: z.ZodIssueCode.custom,
        message: `expected a decimal integer from ${min} to ${max}${note}`,
      });
      return z.NEVER;
    }
    return number;
  });
}

function pathList(modelDirectory: string, what: string) {
  return listOf<string>(what, (item) => {
    const problem = pathProblem(item);
    return problem === undefined ? accept(resolvePath(modelDirectory, item)) : refuse(problem);
  });
}

function modelPatternList() {
  return listOf<string>("model names or globs (* ? [ ])", (item) => {
    const problem = modelPatternProblem(item);
    return problem === undefined ? accept(item) : refuse(problem);
  });
}

/** The schema of the `deno.*` parameters (values already unwrapped from `string_value`). */
function parametersSchema(modelDirectory: string) {
  return z.object({
    "deno.allow_read": pathList(
      modelDirectory,
      "paths (relative ones resolve against the model directory)",
    ).optional(),
    "deno.allow_write": pathList(
      modelDirectory,
      "paths (relative ones resolve against the model directory)",
    ).optional(),
    "deno.allow_net": listOf<NetEntry>(NET_ENTRY_FORM, (item) => {
      const entry = parseNetEntry(item);
      return entry === undefined ? refuse("not a network address") : accept(entry);
    }).optional(),
    "deno.allow_env": listOf<string>("environment variable names", (item) => {
      const problem = envNameProblem(item);
      return problem === undefined ? accept(item) : refuse(problem);
    }).optional(),
    "deno.allow_sys": listOf<string>(
      `system information names (${SYS_NAMES.join(", ")})`,
      (item) =>
        SYS_NAMES.includes(item)
          ? accept(item)
          : refuse("not a system information name a model may be granted"),
    ).optional(),
    "deno.allow_models": modelPatternList().optional(),
    "deno.allow_model_control": modelPatternList().optional(),
    "deno.allow_gpu": z.enum(["true", "false"], {
      errorMap: () => ({ message: 'expected "true" or "false"' }),
    }).optional(),
    "deno.max_heap_mb": decimal("max_heap_mb", " (MiB of V8 heap)").optional(),
    "deno.max_memory_mb": decimal(
      "max_memory_mb",
      " (MiB for ArrayBuffers and Wasm memory beyond the heap)",
    ).optional(),
    "deno.execute_timeout_ms": decimal(
      "execute_timeout_ms",
      " (milliseconds; 0 means no deadline)",
    ).optional(),
    "deno.stream_idle_timeout_ms": decimal(
      "stream_idle_timeout_ms",
      " (milliseconds a decoupled request may go without a response once execute returned; " +
        "0 means no limit)",
    ).optional(),
    "deno.max_output_bytes": decimal("max_output_bytes", " (bytes of output per batch)")
      .optional(),
    // Scheduling, not a permission (sandbox/policy/scheduling.ts reads it).
    "deno.max_batches_in_flight": z.string().regex(/^([1-9]|[1-5][0-9]|6[0-4])$/, {
      message: "expected a decimal integer from 1 to 64 (batches a decoupled model runs at once)",
    }).optional(),
  }).strict();
}

/** The keys a model may set. */
export const PARAMETER_KEYS: readonly string[] = Object.freeze([
  "deno.allow_read",
  "deno.allow_write",
  "deno.allow_net",
  "deno.allow_env",
  "deno.allow_sys",
  "deno.allow_gpu",
  "deno.allow_models",
  "deno.allow_model_control",
  "deno.max_heap_mb",
  "deno.max_memory_mb",
  "deno.execute_timeout_ms",
  "deno.stream_idle_timeout_ms",
  "deno.max_output_bytes",
  "deno.max_batches_in_flight",
]);

const ParameterValue = z.object({ string_value: z.string() }).passthrough();
const ConfigParameters = z.object({
  parameters: z.record(z.string(), z.unknown()).optional(),
}).passthrough();

/** Pulls the `deno.*` keys out of the configuration JSON, values unwrapped. */
function denoParameters(configJson: string): Record<string, string> {
  let json: unknown;
  try {
    json = JSON.parse(configJson);
  } catch (error) {
    throw new SandboxConfigError(
      `the model configuration is not JSON: ${error instanceof Error ? error.message : error}`,
    );
  }
  const config = ConfigParameters.safeParse(json);
  if (!config.success) {
    throw new SandboxConfigError("the model configuration's parameters are not an object");
  }
  const found: Record<string, string> = {};
  for (const [key, raw] of Object.entries(config.data.parameters ?? {})) {
    if (!key.startsWith("deno.")) continue;
    if (!PARAMETER_KEYS.includes(key)) {
      throw new SandboxConfigError(
        `unknown parameter ${JSON.stringify(key)} in config.pbtxt; the deno backend knows ` +
          `${PARAMETER_KEYS.join(", ")} (ffi and subprocesses can never be granted)`,
      );
    }
    const value = ParameterValue.safeParse(raw);
    if (!value.success) {
      throw new SandboxConfigError(
        `parameter ${JSON.stringify(key)} must have a string_value`,
      );
    }
    found[key] = value.data.string_value;
  }
  return found;
}

function unique<T>(values: readonly T[], keyOf: (value: T) => string): T[] {
  const seen = new Set<string>();
  return values.filter((value) => {
    const key = keyOf(value);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Reads and validates the `deno.*` parameters of a model configuration.
 *
 * @param configJson Triton's model configuration JSON (`parameters` maps a
 * key to `{ "string_value": ... }`).
 * @param modelDirectory The model's directory: relative paths resolve against it.
 * @returns What the model declares, normalized and de-duplicated.
 * @throws {SandboxConfigError} Naming the key, the value and what is allowed.
 */
export function declaredSandboxOf(configJson: string, modelDirectory: string): DeclaredSandbox {
  const raw = denoParameters(configJson);
  const parsed = parametersSchema(modelDirectory).safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue.path[0] ?? "?");
    throw new SandboxConfigError(
      `parameter ${JSON.stringify(key)} has the invalid value ${
        JSON.stringify(raw[key] ?? "")
      }: ${issue.message}`,
    );
  }
  const values = parsed.data;
  return {
    read: unique(values["deno.allow_read"] ?? [], String),
    write: unique(values["deno.allow_write"] ?? [], String),
    net: unique(values["deno.allow_net"] ?? [], formatNetEntry),
    env: unique(values["deno.allow_env"] ?? [], String),
    sys: unique(values["deno.allow_sys"] ?? [], String),
    gpu: values["deno.allow_gpu"] === "true",
    models: unique(values["deno.allow_models"] ?? [], String),
    modelControl: unique(values["deno.allow_model_control"] ?? [], String),
    maxHeapMb: values["deno.max_heap_mb"],
    maxMemoryMb: values["deno.max_memory_mb"],
    executeTimeoutMs: values["deno.execute_timeout_ms"],
    streamIdleTimeoutMs: values["deno.stream_idle_timeout_ms"],
    maxOutputBytes: values["deno.max_output_bytes"],
  };
}
