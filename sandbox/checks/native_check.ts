/**
 * The fast path of a model's type check: TypeScript's native compiler
 * (`tsc` 7, pinned in `tools/deno/package.json`) over the model, with Deno's
 * declarations and the runtime's API, in about 0.2 s where `deno check`
 * takes one to three CPU-seconds.
 *
 * Only a pass counts. `deno check` stays the authority: when the native
 * compiler is missing, cannot run, or reports anything (a type error, a
 * module it cannot resolve, a Deno-only type it does not know), the caller
 * runs `deno check`, whose diagnostics are what the user sees. The native
 * compiler is therefore set up to be at least as strict as `deno check`
 * (Deno's compiler defaults; timers declared as opaque handles): anything
 * it does not understand costs time, never a wrong verdict.
 *
 * What it checks against lives in the backend directory's `native_check/`,
 * written at build and install time by ./native_check_types.ts: Deno's
 * declarations (`deno types`), declarations for the npm packages the API
 * imports, and a `tsconfig.json` with the compiler options and the
 * `@triton/deno` mapping. A check hands the compiler a configuration that
 * extends it with the model's name, on its standard input.
 *
 * @example
 * ```ts ignore
 * import { nativeCheckPasses } from "./native_check.ts";
 *
 * if (!(await nativeCheckPasses({
 *   backendDir: "/opt/tritonserver/backends/deno",
 *   modelFile: "/models/add_sub/1/model.ts",
 * }))) {
 *   // run `deno check`
 * }
 * ```
 *
 * @module
 */

/** The native compiler, relative to the backend directory. */
export const NATIVE_TSC = "typescript/tsc";

/** What the check compiles against, relative to the backend directory. */
export const NATIVE_CHECK_DIR = "native_check";

/** The declaration files every check includes, in {@linkcode NATIVE_CHECK_DIR}. */
export const NATIVE_DECLARATIONS = ["deno.d.ts", "globals.d.ts", "npm_shims.d.ts"];

/** Options of {@linkcode nativeCheckPasses}. */
export interface NativeCheckOptions {
  /** The backend directory (holds `typescript/tsc` and `native_check/`). */
  backendDir: string;
  /** The model module. */
  modelFile: string;
}

/**
 * Runs the native compiler over the model.
 *
 * @returns `true` only when the compiler ran and reported nothing; `false`
 * when it found a problem or could not run (the caller then runs
 * `deno check`).
 */
export async function nativeCheckPasses(options: NativeCheckOptions): Promise<boolean> {
  const typesDir = `${options.backendDir}/${NATIVE_CHECK_DIR}`;
  // The compiler takes the model's name (`files`) and `paths` only from a
  // configuration file: this one is its standard input, so a read-only
  // backend directory needs no place to write it.
  const config = JSON.stringify({
    extends: `${typesDir}/tsconfig.json`,
    files: [options.modelFile, ...NATIVE_DECLARATIONS.map((name) => `${typesDir}/${name}`)],
  });
  try {
    const child = new Deno.Command(`${options.backendDir}/${NATIVE_TSC}`, {
      args: ["--project", "/dev/stdin", "--pretty", "false"],
      clearEnv: true,
      stdin: "piped",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(config)).finally(() => writer.close());
    return (await child.status).code === 0;
  } catch {
    // Not installed or not runnable.
    return false;
  }
}
