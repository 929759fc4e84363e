/**
 * Type-checks a model before it loads, so a type error reaches the user as
 * `file:line:column` in the load error instead of surfacing as a wrong
 * result at run time.
 *
 * Runs `deno check` in a child process with the runtime's import map, no
 * config file discovery, no remote or uncached modules, and an environment
 * of only `DENO_DIR` (also its `HOME`), `NO_COLOR` and
 * `DENO_NO_UPDATE_CHECK`. JavaScript models are not checked. The cost is about a second on a cache miss and ~10 ms once a model has checked
 * clean (Deno caches the result in `DENO_DIR`).
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
}

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
 * Type-checks `options.modelFile` unless it is JavaScript.
 *
 * @returns Whether the check ran (false for JavaScript models).
 * @throws {TypeCheckError} With the diagnostics if the model does not check.
 */
export async function typeCheckModel(options: TypeCheckOptions): Promise<boolean> {
  if (!CHECKED_EXTENSIONS.some((extension) => options.modelFile.endsWith(extension))) {
    return false;
  }
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
      options.modelFile,
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
  if (code === 0) return true;
  const decoder = new TextDecoder();
  const diagnostics = stripAnsi(decoder.decode(stderr) + decoder.decode(stdout)).trim();
  throw new TypeCheckError(
    `${options.modelFile} does not type-check:\n${diagnostics || `deno check exited with ${code}`}`,
  );
}
