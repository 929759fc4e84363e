/**
 * Type-checks a model before it loads, so a type error reaches the user as
 * `file:line:column` in the load error instead of surfacing as a wrong
 * result at run time.
 *
 * Runs `deno check` in a child process with the runtime's import map, no
 * config file discovery, no remote or uncached modules, and an environment
 * of only `DENO_DIR` (also its `HOME`), `NO_COLOR` and
 * `DENO_NO_UPDATE_CHECK`. JavaScript models are not checked.
 *
 * A check costs one to three CPU-seconds (TypeScript's libraries alone take
 * about one), so it is done once per set of sources: a passing check leaves
 * a verdict named by the sources' contents (./check_verdicts.ts) that every
 * later load, instance, restart and model with the same sources finds
 * without starting a process; concurrent checks of the same sources wait
 * for the first. The runtime's API module is always the check's first root,
 * so Deno's incremental state (kept per first root in `DENO_DIR`) carries
 * over from model to model and a new model costs little more than the
 * libraries. Before `deno check`, TypeScript's native compiler may look
 * (`native`, ./native_check.ts): a pass from it ends the check in about a
 * tenth of the time; anything else goes to `deno check`, whose diagnostics
 * are the ones reported. While a check runs (or waits), `onProgress` is called every
 * second: the stub turns it into PROGRESS records, so that its parent's
 * start timeout measures silence, not slowness.
 *
 * @example
 * ```ts ignore
 * import { typeCheckModel } from "./type_check.ts";
 *
 * await typeCheckModel({
 *   denoPath: "/opt/tritonserver/backends/deno/deno",
 *   denoDir: "/opt/tritonserver/backends/deno/deno_dir",
 *   importMap: "/opt/tritonserver/backends/deno/runtime/import_map.json",
 *   modelFile: "/models/add_sub/1/model.ts",
 * });
 * ```
 *
 * @module
 */

import { hasVerdict, lockVerdict, verdictKey, writeVerdict } from "./check_verdicts.ts";
import { type NativeCheckOptions, nativeCheckPasses } from "./native_check.ts";

/** The model does not type-check; `message` holds Deno's diagnostics. */
export class TypeCheckError extends Error {
  /** @param message The diagnostics, ANSI-free, with file:line:column. */
  constructor(message: string) {
    super(message);
    this.name = "TypeCheckError";
  }
}

/** Options of {@linkcode typeCheckModel}. */
export interface TypeCheckOptions {
  /** The Deno binary. */
  denoPath: string;
  /** The backend's dependency cache (`DENO_DIR`). */
  denoDir: string;
  /** The runtime's import map (maps `@triton/deno`). */
  importMap: string;
  /** The model module. */
  modelFile: string;
  /**
   * Verdicts kept by content (./check_verdicts.ts); without it every call
   * runs `deno check`.
   */
  verdicts?: {
    /** The verdict directory, written by the trusted side only. */
    cacheDir: string;
    /** The backend directory (its `runtime/` holds the API). */
    runtimeDir: string;
    /** The model's directory. */
    modelDirectory: string;
  };
  /**
   * The check's first root (the runtime's `runtime/api/mod.ts`), so that
   * Deno's incremental state is shared by every model's check.
   */
  firstRoot?: string;
  /**
   * Try TypeScript's native compiler first (./native_check.ts): a pass
   * takes about 0.2 s and ends the check; anything else runs `deno check`.
   * Only for models that use the runtime's import map (the native check
   * resolves `@triton/deno` and the API's packages, not a model's own).
   */
  native?: Omit<NativeCheckOptions, "modelFile">;
  /** Called about every second while a check runs or waits for another. */
  onProgress?: () => void;
  /** How often `onProgress` is called, in ms (default 1000). */
  progressIntervalMs?: number;
  /**
   * The version of `denoPath` (part of a verdict's name); default this
   * process's own, which is right for the stub (it runs that binary).
   */
  denoVersion?: string;
}

/** What {@linkcode typeCheckModel} did. */
export type TypeCheckOutcome =
  /** JavaScript: nothing to check. */
  | "skipped"
  /** The same sources passed before. */
  | "cached"
  /** `deno check` ran and passed; its verdict is kept for the next load. */
  | "checked"
  /** `deno check` ran and passed, but no verdict could be kept (the next load checks again). */
  | "checked-unkept";

/** How often `onProgress` is called while a check runs, by default. */
const PROGRESS_INTERVAL_MS = 1000;

/** File extensions that are type-checked (JavaScript models are not). */
const CHECKED_EXTENSIONS = [".ts", ".mts", ".tsx"];

// CSI sequences (colors, cursor moves) and OSC hyperlinks.
// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g;

/**
 * Removes ANSI escape sequences.
 *
 * @param text Terminal output.
 * @returns Plain text.
 */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}

/**
 * Type-checks `options.modelFile` unless it is JavaScript or the same
 * sources passed before.
 *
 * @returns What was done.
 * @throws {TypeCheckError} With the diagnostics if the model does not check.
 */
export async function typeCheckModel(options: TypeCheckOptions): Promise<TypeCheckOutcome> {
  if (!CHECKED_EXTENSIONS.some((extension) => options.modelFile.endsWith(extension))) {
    return "skipped";
  }
  const verdicts = options.verdicts;
  const key = verdicts === undefined ? undefined : await keyOf(options, verdicts);
  if (verdicts === undefined || key === undefined) {
    await whileReporting(runCheck(options), options);
    return "checked-unkept";
  }
  if (await hasVerdict(verdicts.cacheDir, key)) return "cached";
  const release = await whileReporting(
    lockVerdict(verdicts.cacheDir, key).catch(() => undefined),
    options,
  );
  try {
    // Another process may have checked the same sources while we waited.
    if (release !== undefined && await hasVerdict(verdicts.cacheDir, key)) return "cached";
    await whileReporting(runCheck(options), options);
    // A verdict saves later loads a check; one that cannot be written
    // (a read-only backend directory) costs only that.
    const kept = await writeVerdict(verdicts.cacheDir, key, options.modelFile).then(
      () => true,
      () => false,
    );
    return kept ? "checked" : "checked-unkept";
  } finally {
    release?.();
  }
}

/** The verdict's name, or `undefined` when there is none to keep (unreadable, too large). */
async function keyOf(
  options: TypeCheckOptions,
  verdicts: NonNullable<TypeCheckOptions["verdicts"]>,
): Promise<string | undefined> {
  try {
    const importMapText = options.importMap.startsWith("data:")
      ? options.importMap
      : await Deno.readTextFile(options.importMap);
    return await verdictKey({
      denoVersion: options.denoVersion ?? Deno.version.deno,
      importMapText,
      runtimeDir: verdicts.runtimeDir,
      modelDirectory: verdicts.modelDirectory,
      modelFile: options.modelFile,
    });
  } catch {
    return undefined;
  }
}

/** Awaits `work`, calling `options.onProgress` every interval meanwhile. */
async function whileReporting<T>(work: Promise<T>, options: TypeCheckOptions): Promise<T> {
  const onProgress = options.onProgress;
  if (onProgress === undefined) return await work;
  const timer = setInterval(onProgress, options.progressIntervalMs ?? PROGRESS_INTERVAL_MS);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

/**
 * The native compiler's check, and `deno check` unless that passed; throws
 * {@linkcode TypeCheckError} with `deno check`'s diagnostics.
 */
async function runCheck(options: TypeCheckOptions): Promise<void> {
  const native = options.native;
  if (
    native !== undefined && await nativeCheckPasses({ ...native, modelFile: options.modelFile })
  ) {
    return;
  }
  await runDenoCheck(options);
}

/** Runs `deno check`; throws {@linkcode TypeCheckError} with the diagnostics. */
async function runDenoCheck(options: TypeCheckOptions): Promise<void> {
  const roots = options.firstRoot === undefined || options.firstRoot === options.modelFile
    ? [options.modelFile]
    : [options.firstRoot, options.modelFile];
  const command = new Deno.Command(options.denoPath, {
    args: [
      "check",
      "--no-config",
      "--no-lock",
      `--import-map=${options.importMap}`,
      "--quiet",
      "--no-remote",
      // Never fetch: a model's npm: import must come from the install-time cache.
      "--cached-only",
      ...roots,
    ],
    clearEnv: true,
    // HOME: Deno reads $HOME/.npmrc, which could move where cached packages are looked up;
    // the backend's cache directory is the backend's own home (see ffi/src/stub_command.c).
    env: {
      DENO_DIR: options.denoDir,
      HOME: options.denoDir,
      NO_COLOR: "1",
      DENO_NO_UPDATE_CHECK: "1",
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  const { code, stdout, stderr } = await command.output();
  if (code === 0) return;
  const decoder = new TextDecoder();
  const diagnostics = stripAnsi(decoder.decode(stderr) + decoder.decode(stdout)).trim();
  throw new TypeCheckError(
    `${options.modelFile} does not type-check:\n${diagnostics || `deno check exited with ${code}`}`,
  );
}
