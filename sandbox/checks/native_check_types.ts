/**
 * Writes what the native type check (./native_check.ts) compiles against,
 * into `<backend dir>/native_check/`. Run at build and install time with the
 * backend's own Deno, after its `deno_dir` holds the runtime's dependencies:
 *
 * - `deno.d.ts`: Deno's declarations (`deno types`), without the
 *   `/// <reference lib="deno.*" />` lines, whose contents it already holds;
 * - `globals.d.ts`: Node's timer globals, which `deno check` has and
 *   `deno types` leaves out (an opaque handle; see below);
 * - `npm_shims.d.ts` and `node_modules/`: each `npm:` specifier the
 *   runtime's API imports, declared as the package it names, and that
 *   package linked from `deno_dir` (relative links, so an installed backend
 *   directory can move);
 * - `tsconfig.json`: the compiler options (Deno's defaults, no emit) and
 *   `@triton/deno` mapped to the API, as the runtime's import map maps it.
 *
 * @example
 * ```sh
 * deno run --allow-read --allow-write --allow-run --allow-env \
 *   sandbox/checks/native_check_types.ts build/deno
 * ```
 *
 * @module
 */

import { NATIVE_CHECK_DIR } from "./native_check.ts";

/**
 * Node's timer globals for the native check. The handle is opaque on
 * purpose: a model that uses more of Node's `Timeout` than passing it back
 * to `clear*` fails the native check and is then checked by `deno check`,
 * which knows the whole type.
 */
export const TIMER_GLOBALS =
  `/** A timer handle, as setTimeout, setInterval and setImmediate return it. */
interface NativeCheckTimer {
  readonly __nativeCheckTimer: "timer";
}
declare function setTimeout(
  handler: (...args: never[]) => void,
  timeout?: number,
  ...args: unknown[]
): NativeCheckTimer;
declare function setInterval(
  handler: (...args: never[]) => void,
  timeout?: number,
  ...args: unknown[]
): NativeCheckTimer;
declare function setImmediate(handler: (...args: never[]) => void, ...args: unknown[]): NativeCheckTimer;
declare function clearTimeout(timer?: NativeCheckTimer | number | string): void;
declare function clearInterval(timer?: NativeCheckTimer | number | string): void;
declare function clearImmediate(timer?: NativeCheckTimer): void;
`;

/**
 * The compiler options: Deno's defaults for `deno check`, no output.
 * `lib` is ECMAScript only; Deno's own declarations come as files.
 */
export const COMPILER_OPTIONS = {
  strict: true,
  noImplicitOverride: true,
  noEmit: true,
  target: "esnext",
  module: "esnext",
  moduleResolution: "bundler",
  moduleDetection: "force",
  isolatedModules: true,
  useDefineForClassFields: true,
  allowImportingTsExtensions: true,
  resolveJsonModule: true,
  lib: ["esnext"],
  types: [],
  skipLibCheck: true,
  jsx: "react",
};

/** What `deno info --json` says about the API's module graph (the part used). */
interface GraphInfo {
  modules: { dependencies?: { specifier: string }[] }[];
  npmPackages?: Record<string, unknown>;
}

/**
 * Writes `<backendDir>/native_check/`.
 *
 * @param backendDir The backend directory (`deno`, `runtime/`, `deno_dir/`).
 */
export async function writeNativeCheckTypes(backendDir: string): Promise<void> {
  const out = `${backendDir}/${NATIVE_CHECK_DIR}`;
  await Deno.remove(out, { recursive: true }).catch(() => {});
  await Deno.mkdir(out, { recursive: true });

  const declarations = await denoOutput(backendDir, ["types"]);
  await Deno.writeTextFile(
    `${out}/deno.d.ts`,
    declarations.replace(/^\/\/\/ <reference lib="deno\.[a-z_]+" \/>\n/gm, ""),
  );
  await Deno.writeTextFile(`${out}/globals.d.ts`, TIMER_GLOBALS);

  const graph: GraphInfo = JSON.parse(
    await denoOutput(backendDir, [
      "info",
      "--json",
      "--no-config",
      "--no-lock",
      `--import-map=${backendDir}/runtime/import_map.json`,
      `${backendDir}/runtime/api/mod.ts`,
    ]),
  );
  const specifiers = new Set(
    graph.modules.flatMap((module) => module.dependencies ?? [])
      .map((dependency) => dependency.specifier)
      .filter((specifier) => specifier.startsWith("npm:")),
  );
  const shims: string[] = [];
  const linked = new Set<string>();
  for (const specifier of [...specifiers].sort()) {
    const { name, version, subpath } = parseNpmSpecifier(specifier);
    if (!linked.has(name)) {
      await linkPackage(backendDir, out, name, version);
      linked.add(name);
    }
    shims.push(`declare module "${specifier}" {\n  export * from "${name}${subpath}";\n}\n`);
  }
  await Deno.writeTextFile(`${out}/npm_shims.d.ts`, shims.join(""));

  await Deno.writeTextFile(
    `${out}/tsconfig.json`,
    JSON.stringify(
      {
        compilerOptions: {
          ...COMPILER_OPTIONS,
          paths: { "@triton/deno": ["../runtime/api/mod.ts"] },
        },
      },
      null,
      2,
    ) + "\n",
  );
}

/**
 * Splits `npm:name@version/subpath` (the name may be scoped).
 *
 * @throws {Error} When the specifier pins no version.
 */
export function parseNpmSpecifier(
  specifier: string,
): { name: string; version: string; subpath: string } {
  const match = /^npm:\/?((?:@[^/@]+\/)?[^/@]+)@([^/]+)(\/.*)?$/.exec(specifier);
  if (match === null) throw new Error(`${specifier}: not an npm specifier with a version`);
  return { name: match[1], version: match[2], subpath: match[3] ?? "" };
}

/** Links `node_modules/<name>` to the package's directory in `deno_dir`. */
async function linkPackage(
  backendDir: string,
  out: string,
  name: string,
  version: string,
): Promise<void> {
  const registries = `${backendDir}/deno_dir/npm`;
  for await (const registry of Deno.readDir(registries)) {
    const packageDir = `${registry.name}/${name}/${version}`;
    try {
      await Deno.stat(`${registries}/${packageDir}/package.json`);
    } catch {
      continue;
    }
    const link = `${out}/node_modules/${name}`;
    await Deno.mkdir(link.slice(0, link.lastIndexOf("/")), { recursive: true });
    // From native_check/node_modules/[@scope/]name up to the backend directory.
    const up = "../".repeat(2 + name.split("/").length - 1);
    await Deno.symlink(`${up}deno_dir/npm/${packageDir}`, link);
    return;
  }
  throw new Error(`${name}@${version} is not in ${registries}: run deno cache first`);
}

/** Runs the backend's Deno with its own cache; returns its standard output. */
async function denoOutput(backendDir: string, args: string[]): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(`${backendDir}/deno`, {
    args,
    clearEnv: true,
    env: {
      DENO_DIR: `${backendDir}/deno_dir`,
      HOME: `${backendDir}/deno_dir`,
      NO_COLOR: "1",
      DENO_NO_UPDATE_CHECK: "1",
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  if (code !== 0) {
    throw new Error(`deno ${args[0]} exited with ${code}: ${decoder.decode(stderr).trim()}`);
  }
  return decoder.decode(stdout);
}

if (import.meta.main) {
  const [backendDir] = Deno.args;
  if (backendDir === undefined) {
    console.error("usage: native_check_types.ts <backend dir>");
    Deno.exit(2);
  }
  await writeNativeCheckTypes(backendDir.replace(/\/+$/, ""));
}
