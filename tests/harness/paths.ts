/**
 * Where the build puts the libraries the tests load. The build directory is
 * `build/` at the repository root, or `$TRITON_DENO_BUILD` (the ASan run uses
 * `build-asan`); a relative value is taken from the repository root.
 *
 * @example
 * ```ts ignore
 * import { buildPaths } from "./paths.ts";
 *
 * console.log(buildPaths().backendLibrary); // /…/build/deno/libtriton_deno.so
 * ```
 *
 * @module
 */

/** Absolute paths of the build products the harness uses. */
export interface BuildPaths {
  /** The build directory. */
  buildDir: string;
  /** build/libtriton_host.so */
  hostLibrary: string;
  /** build/libtriton_deno_client.so: the in-process client of a Triton core. */
  clientLibrary: string;
  /** build/deno: the backend directory. */
  backendDir: string;
  /** build/deno/libtriton_deno.so */
  backendLibrary: string;
}

/** The repository root (two levels above this file). */
export const REPOSITORY_ROOT: string = new URL("../../", import.meta.url).pathname.replace(
  /\/$/,
  "",
);

/** Resolves the build paths from `$TRITON_DENO_BUILD` (default "build"). */
export function buildPaths(): BuildPaths {
  const configured = Deno.env.get("TRITON_DENO_BUILD") || "build";
  const buildDir = configured.startsWith("/") ? configured : `${REPOSITORY_ROOT}/${configured}`;
  const backendDir = `${buildDir}/deno`;
  return {
    buildDir,
    hostLibrary: `${buildDir}/libtriton_host.so`,
    clientLibrary: `${buildDir}/libtriton_deno_client.so`,
    backendDir,
    backendLibrary: `${backendDir}/libtriton_deno.so`,
  };
}
