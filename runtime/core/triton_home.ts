/**
 * A Triton install to run in: `TRITON_HOME` (or `--triton-home`) names a
 * prefix laid out like the container's `/opt/tritonserver`
 * (`lib/libtritonserver.so`, `include/triton/core/tritonserver.h`,
 * `backends/<name>/`). This module checks that layout, and composes the
 * backend directory Triton is started with: a Deno backend directory beside
 * the install's own backends (python, identity) when they are there.
 *
 * @example
 * ```ts ignore
 * import { tritonHome } from "./triton_home.ts";
 *
 * const home = tritonHome();
 * if (home === undefined) console.log("real-core tests skipped: TRITON_HOME is not set");
 * ```
 *
 * @module
 */

/** A checked Triton install. */
export interface TritonHome {
  /** The prefix. */
  prefix: string;
  /** `lib/libtritonserver.so`. */
  coreLibrary: string;
  /** `backends/`. */
  backends: string;
  /** Whether the install has python_backend (`backends/python/libtriton_python.so`). */
  hasPython: boolean;
  /** Whether it has Triton's identity backend (`backends/identity/`). */
  hasIdentity: boolean;
}

/** Thrown when `TRITON_HOME` is set but is not a Triton install. */
export class TritonHomeError extends Error {
  /** @param message What is missing. */
  constructor(message: string) {
    super(message);
    this.name = "TritonHomeError";
  }
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The install `TRITON_HOME` names, or `undefined` when it is unset.
 *
 * @param prefix The prefix (default: `$TRITON_HOME`).
 * @throws {TritonHomeError} If it is set but lacks the core library or header.
 */
export function tritonHome(prefix = Deno.env.get("TRITON_HOME")): TritonHome | undefined {
  if (prefix === undefined || prefix === "") return undefined;
  const coreLibrary = `${prefix}/lib/libtritonserver.so`;
  const header = `${prefix}/include/triton/core/tritonserver.h`;
  for (const [path, what] of [[coreLibrary, "the core library"], [header, "Triton's header"]]) {
    if (!exists(path)) {
      throw new TritonHomeError(
        `TRITON_HOME=${prefix} is not a Triton install: ${what} ${path} is missing ` +
          "(expected the layout of /opt/tritonserver: lib/libtritonserver.so, " +
          "include/triton/core/tritonserver.h, backends/)",
      );
    }
  }
  const backends = `${prefix}/backends`;
  return {
    prefix,
    coreLibrary,
    backends,
    hasPython: exists(`${backends}/python/libtriton_python.so`),
    hasIdentity: exists(`${backends}/identity/libtriton_identity.so`),
  };
}

/**
 * A backend directory for Triton: `deno` links to `denoBackend` (a build's
 * or an install's backend directory); every backend of the install is
 * linked beside it. An install that has its own `deno` keeps it out.
 *
 * @param home The Triton install.
 * @param denoBackend The Deno backend directory (holds libtriton_deno.so).
 * @returns The directory (a fresh temporary one; the caller removes it).
 */
export function composeBackendDirectory(home: TritonHome, denoBackend: string): string {
  const directory = Deno.makeTempDirSync({ prefix: "triton_backends_" });
  Deno.symlinkSync(denoBackend, `${directory}/deno`);
  if (exists(home.backends)) {
    for (const entry of Deno.readDirSync(home.backends)) {
      if (entry.name === "deno") continue;
      Deno.symlinkSync(`${home.backends}/${entry.name}`, `${directory}/${entry.name}`);
    }
  }
  return directory;
}
