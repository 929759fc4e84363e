/**
 * What a model gets: its declared permissions and limits checked against
 * the operator's ceiling. A declaration above the ceiling fails the load,
 * naming the permission and the ceiling; limits the model does not declare
 * are the backend's defaults, lowered to the ceiling where it is lower.
 *
 * The result also carries the numbers the parent applies to the stub
 * process below Deno (sandbox/policy/layers.ts explains them).
 *
 * @example
 * ```ts
 * import { effectiveSandbox } from "./effective.ts";
 * import { declaredSandboxOf } from "./model_parameters.ts";
 * import { BUILT_IN_CEILING } from "./policy_file.ts";
 *
 * const sandbox = effectiveSandbox({
 *   modelDirectory: "/models/m",
 *   declared: declaredSandboxOf("{}", "/models/m"),
 *   ceiling: BUILT_IN_CEILING,
 *   defaults: { heapMb: 1024, memoryMb: 4096, executeTimeoutMs: 60000, streamIdleTimeoutMs: 60000,
 *     maxOutputBytes: 2 ** 30 },
 * });
 * console.log(sandbox.read); // ["/models/m"]
 * ```
 *
 * @module
 */

import { dataLimitMb, STUB_OPEN_FILES } from "./layers.ts";
import type { DeclaredSandbox, LimitName } from "./model_parameters.ts";
import type { Ceiling } from "./policy_file.ts";
import { formatNetEntry, isWithin, modelPatternCovered, netCovers } from "./rules.ts";

/** A declaration exceeds the operator's ceiling. */
export class CeilingError extends Error {
  /** @param message Names the permission, the value and the ceiling. */
  constructor(message: string) {
    super(message);
    this.name = "CeilingError";
  }
}

/** The backend's defaults for limits a model does not declare. */
export interface BackendDefaults {
  /** stub-heap-mb. */
  readonly heapMb: number;
  /** stub-memory-mb. */
  readonly memoryMb: number;
  /** execute-timeout-ms (0: none). */
  readonly executeTimeoutMs: number;
  /** stream-idle-timeout-ms (0: none). */
  readonly streamIdleTimeoutMs: number;
  /** The most output a batch can have (the shared-memory window). */
  readonly maxOutputBytes: number;
}

/** What the model gets, and what the parent enforces. */
export interface EffectiveSandbox {
  /** Readable paths: the model directory first. */
  readonly read: readonly string[];
  /** Writable paths. */
  readonly write: readonly string[];
  /** `host` or `host:port` entries. */
  readonly net: readonly string[];
  /** Environment variable names. */
  readonly env: readonly string[];
  /** System information names. */
  readonly sys: readonly string[];
  /** WebGPU. */
  readonly gpu: boolean;
  /** Models it may call and ask about (names or globs); none: no calls. */
  readonly models: readonly string[];
  /** Models it may load and unload (names or globs). */
  readonly modelControl: readonly string[];
  /** V8 heap cap (MiB). */
  readonly heapMb: number;
  /** ArrayBuffer and Wasm budget beyond the heap (MiB). */
  readonly memoryMb: number;
  /** RLIMIT_DATA of the stub process (MiB). */
  readonly dataLimitMb: number;
  /** RLIMIT_NOFILE of the stub process. */
  readonly openFiles: number;
  /** Execute deadline (ms, 0: none). */
  readonly executeTimeoutMs: number;
  /** Longest silence of an open stream once execute returned (ms, 0: none). */
  readonly streamIdleTimeoutMs: number;
  /** Output bytes per batch. */
  readonly maxOutputBytes: number;
}

/** What {@linkcode effectiveSandbox} needs. */
export interface SandboxInputs {
  /** The model's directory (normalized, absolute). */
  readonly modelDirectory: string;
  /** From the model's config. */
  readonly declared: DeclaredSandbox;
  /** From the policy. */
  readonly ceiling: Ceiling;
  /** From the backend configuration. */
  readonly defaults: BackendDefaults;
}

function listed(values: readonly string[]): string {
  return values.length === 0 ? "none" : values.join(", ");
}

function denied(key: string, value: string, allowed: string, ceiling: Ceiling): CeilingError {
  return new CeilingError(
    `parameter "${key}" asks for ${value}, which the operator's ceiling does not allow ` +
      `(${allowed}; ${ceiling.origin})`,
  );
}

const LIMIT_KEYS: Record<LimitName, keyof BackendDefaults> = {
  max_heap_mb: "heapMb",
  max_memory_mb: "memoryMb",
  execute_timeout_ms: "executeTimeoutMs",
  stream_idle_timeout_ms: "streamIdleTimeoutMs",
  max_output_bytes: "maxOutputBytes",
};

/** 0 means "no deadline" for the timeouts: larger than any number. */
function exceeds(name: LimitName, value: number, ceiling: number): boolean {
  if (name === "execute_timeout_ms" || name === "stream_idle_timeout_ms") {
    if (ceiling === 0) return false;
    return value === 0 || value > ceiling;
  }
  return value > ceiling;
}

function limitOf(
  name: LimitName,
  declared: number | undefined,
  inputs: SandboxInputs,
): number {
  const fallback = inputs.defaults[LIMIT_KEYS[name]];
  const ceiling = inputs.ceiling.limits[name] ?? fallback;
  if (declared !== undefined) {
    if (exceeds(name, declared, ceiling)) {
      throw new CeilingError(
        `parameter "deno.${name}" is ${declared}, above the ceiling ${ceiling}${
          inputs.ceiling.limits[name] === undefined ? " (the backend's default)" : ""
        } (${inputs.ceiling.origin})`,
      );
    }
    return declared;
  }
  return exceeds(name, fallback, ceiling) ? ceiling : fallback;
}

/**
 * Checks the declaration against the ceiling and fills in the defaults.
 *
 * @param inputs The declaration, the ceiling and the defaults.
 * @returns The effective sandbox.
 * @throws {CeilingError} On the first declaration above the ceiling.
 */
export function effectiveSandbox(inputs: SandboxInputs): EffectiveSandbox {
  const { declared, ceiling, modelDirectory } = inputs;
  for (const path of declared.read) {
    if (!isWithin(modelDirectory, path) && !ceiling.read.some((root) => isWithin(root, path))) {
      throw denied(
        "deno.allow_read",
        path,
        `readable: the model directory ${modelDirectory} and ${listed(ceiling.read)}`,
        ceiling,
      );
    }
  }
  for (const path of declared.write) {
    if (!ceiling.write.some((root) => isWithin(root, path))) {
      throw denied("deno.allow_write", path, `writable: ${listed(ceiling.write)}`, ceiling);
    }
  }
  for (const entry of declared.net) {
    if (!ceiling.net.some((allowed) => netCovers(allowed, entry))) {
      throw denied(
        "deno.allow_net",
        formatNetEntry(entry),
        `reachable: ${listed(ceiling.net.map(formatNetEntry))}`,
        ceiling,
      );
    }
  }
  for (const name of declared.env) {
    if (!ceiling.env.includes(name)) {
      throw denied("deno.allow_env", name, `variables: ${listed(ceiling.env)}`, ceiling);
    }
  }
  for (const name of declared.sys) {
    if (!ceiling.sys.includes(name)) {
      throw denied("deno.allow_sys", name, `system information: ${listed(ceiling.sys)}`, ceiling);
    }
  }
  if (declared.gpu && !ceiling.gpu) {
    throw denied("deno.allow_gpu", "WebGPU", "WebGPU is not allowed", ceiling);
  }
  for (const pattern of declared.models) {
    if (!modelPatternCovered(ceiling.models, pattern)) {
      throw denied("deno.allow_models", pattern, `models: ${listed(ceiling.models)}`, ceiling);
    }
  }
  for (const pattern of declared.modelControl) {
    if (!modelPatternCovered(ceiling.modelControl, pattern)) {
      throw denied(
        "deno.allow_model_control",
        pattern,
        `models to load and unload: ${listed(ceiling.modelControl)}`,
        ceiling,
      );
    }
  }
  const heapMb = limitOf("max_heap_mb", declared.maxHeapMb, inputs);
  const memoryMb = limitOf("max_memory_mb", declared.maxMemoryMb, inputs);
  const read = [modelDirectory, ...declared.read.filter((path) => path !== modelDirectory)];
  return {
    read,
    write: [...declared.write],
    net: declared.net.map(formatNetEntry),
    env: [...declared.env],
    sys: [...declared.sys],
    gpu: declared.gpu,
    models: [...declared.models],
    modelControl: [...declared.modelControl],
    heapMb,
    memoryMb,
    dataLimitMb: dataLimitMb(heapMb, memoryMb),
    openFiles: STUB_OPEN_FILES,
    executeTimeoutMs: limitOf("execute_timeout_ms", declared.executeTimeoutMs, inputs),
    streamIdleTimeoutMs: limitOf("stream_idle_timeout_ms", declared.streamIdleTimeoutMs, inputs),
    maxOutputBytes: limitOf("max_output_bytes", declared.maxOutputBytes, inputs),
  };
}
