/**
 * A model's own dependencies: the `imports` of a `deno.json` in its
 * directory, pinned by the `deno.lock` beside it. Its entries for the
 * runtime's own names (`@triton/deno`, `@triton/deno/testing`) are left out:
 * the stub supplies the runtime.
 *
 * `deno task prepare-model <dir>` (sandbox/prepare_model_deps.ts) caches
 * them into the backend's `deno_dir` ahead of time. At run time the stub
 * runs with `--cached-only --no-remote`, so nothing is ever fetched; this
 * module builds the import map it runs with: the runtime's own map plus a
 * scope for the model's directory, in which every `npm:` import is
 * rewritten to the exact version `deno.lock` records. The map is passed as
 * a `data:` URL, so no file is written.
 *
 * @example
 * ```ts ignore
 * import { modelImportMap } from "./model_imports.ts";
 *
 * const map = await modelImportMap("/opt/tritonserver/backends/deno", "/models/m");
 * // undefined without a deno.json, else "data:application/json;base64,..."
 * ```
 *
 * @module
 */

import { encodeBase64 as stdEncodeBase64 } from "npm:deno-std@1.4.0/encoding/base64.js";
import { z } from "npm:zod@3.25.76";
import { isWithin, resolvePath } from "../policy/rules.ts";

/** `@std/encoding`'s `encodeBase64` (UTF-8 for a string), typed (no declarations ship). */
const encodeBase64: (data: string | Uint8Array) => string = stdEncodeBase64;

/** The model's `deno.json` or `deno.lock` cannot be used; the message says why. */
export class ModelImportsError extends Error {
  /** @param message Names the file and the entry. */
  constructor(message: string) {
    super(message);
    this.name = "ModelImportsError";
  }
}

/** `deno.json` keys that would change resolution in ways the stub cannot honour. */
const UNSUPPORTED_KEYS = [
  "importMap",
  "scopes",
  "workspace",
  "nodeModulesDir",
  "vendor",
  "links",
  "patch",
  "unstable",
];

const DenoJsonSchema = z.object({
  imports: z.record(z.string(), z.string()).optional(),
}).passthrough();

const LockSchema = z.object({
  version: z.enum(["4", "5"]),
  specifiers: z.record(z.string(), z.string()).optional(),
}).passthrough();

/** A parsed `npm:` specifier. */
interface NpmSpecifier {
  name: string;
  range: string | undefined;
  subpath: string;
}

function parseNpm(specifier: string): NpmSpecifier | undefined {
  const match = /^npm:\/?((?:@[^@/]+\/)?[^@/]+)(?:@([^/]+))?(\/.*)?$/.exec(specifier);
  if (match === null) return undefined;
  return { name: match[1], range: match[2], subpath: match[3] ?? "" };
}

/** The `file:` URL of an absolute path, every segment percent-encoded. */
export function fileUrl(path: string): string {
  return `file://${path.split("/").map(encodeURIComponent).join("/")}`;
}

async function readJson(path: string): Promise<unknown | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw new ModelImportsError(`cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ModelImportsError(`${path} is not JSON: ${(error as Error).message}`);
  }
}

/** One import of the model, as the scoped import map will hold it. */
export interface PinnedImport {
  /** The bare specifier or prefix the model writes. */
  readonly key: string;
  /** What it maps to: an exact `npm:` version or a `file:` URL inside the model directory. */
  readonly target: string;
  /** `name@version` for npm imports, to check the cache. */
  readonly npmPackage?: { name: string; version: string };
}

/**
 * Reads `<modelDirectory>/deno.json` and pins its imports with `deno.lock`.
 *
 * @param modelDirectory The model's directory (absolute).
 * @returns The pinned imports, or undefined when there is no deno.json.
 * @throws {ModelImportsError} Naming the file and the entry that cannot be used.
 */
export async function readModelImports(
  modelDirectory: string,
): Promise<PinnedImport[] | undefined> {
  const configPath = `${modelDirectory}/deno.json`;
  const raw = await readJson(configPath);
  if (raw === undefined) return undefined;
  const config = DenoJsonSchema.safeParse(raw);
  if (!config.success) {
    throw new ModelImportsError(`${configPath}: "imports" must map names to strings`);
  }
  for (const key of UNSUPPORTED_KEYS) {
    if (key in config.data) {
      throw new ModelImportsError(
        `${configPath}: "${key}" is not supported; a model's deno.json may declare "imports" ` +
          `(npm: packages and paths inside the model directory)`,
      );
    }
  }
  const imports = Object.entries(config.data.imports ?? {});
  const lockPath = `${modelDirectory}/deno.lock`;
  let locked: Record<string, string> | undefined;
  const pinned: PinnedImport[] = [];
  for (const [key, value] of imports) {
    // The runtime's own names (a scaffolded deno.json maps them to the
    // installed runtime, for the editor and `deno check`/`deno test`): the
    // stub's import map provides "@triton/deno" itself, wherever the model's
    // deno.json points; "@triton/deno/testing" is for tests only.
    if (key === "@triton/deno" || key.startsWith("@triton/deno/")) continue;
    if (value.startsWith("npm:")) {
      const npm = parseNpm(value);
      if (npm === undefined) {
        throw new ModelImportsError(`${configPath}: import "${key}" has a malformed ${value}`);
      }
      locked ??= await readLock(lockPath);
      const lockKey = `npm:${npm.name}${npm.range === undefined ? "" : `@${npm.range}`}`;
      const version = locked[lockKey]?.split("_")[0];
      if (version === undefined || !/^\d+\.\d+\.\d+/.test(version)) {
        throw new ModelImportsError(
          `${lockPath} has no entry for ${lockKey} (import "${key}"); update the lock file ` +
            `with \`deno install\` in the model directory, then run \`deno task prepare-model\``,
        );
      }
      pinned.push({
        key,
        target: `npm:${npm.name}@${version}${npm.subpath}`,
        npmPackage: { name: npm.name, version },
      });
    } else if (value.startsWith("./") || value.startsWith("../")) {
      const path = resolvePath(modelDirectory, value);
      if (!isWithin(modelDirectory, path)) {
        throw new ModelImportsError(
          `${configPath}: import "${key}" points outside the model directory (${value})`,
        );
      }
      pinned.push({ key, target: fileUrl(path) + (value.endsWith("/") ? "/" : "") });
    } else if (value.startsWith("node:")) {
      pinned.push({ key, target: value });
    } else {
      throw new ModelImportsError(
        `${configPath}: import "${key}" maps to ${value}; only npm: packages (cached by ` +
          "`deno task prepare-model`), node: built-ins and paths inside the model directory " +
          "can be used: models never fetch code while serving",
      );
    }
  }
  return pinned;
}

async function readLock(lockPath: string): Promise<Record<string, string>> {
  const raw = await readJson(lockPath);
  if (raw === undefined) {
    throw new ModelImportsError(
      `the model imports npm packages but has no ${lockPath}; create it with \`deno install\` ` +
        "in the model directory",
    );
  }
  const lock = LockSchema.safeParse(raw);
  if (!lock.success) {
    throw new ModelImportsError(`${lockPath} is not a deno.lock of version 4 or 5`);
  }
  return lock.data.specifiers ?? {};
}

/**
 * Throws unless every npm package is in the backend's cache.
 *
 * @param denoDir The backend's `deno_dir`.
 * @param imports From {@linkcode readModelImports}.
 * @param modelDirectory For the message.
 * @throws {ModelImportsError} Naming the missing package and the command that caches it.
 */
export async function requireCached(
  denoDir: string,
  imports: readonly PinnedImport[],
  modelDirectory: string,
): Promise<void> {
  const registries: string[] = [];
  try {
    for await (const entry of Deno.readDir(`${denoDir}/npm`)) {
      if (entry.isDirectory) registries.push(`${denoDir}/npm/${entry.name}`);
    }
  } catch {
    // No npm cache at all: every package below is missing.
  }
  for (const { npmPackage } of imports) {
    if (npmPackage === undefined) continue;
    let found = false;
    for (const registry of registries) {
      try {
        found = (await Deno.stat(`${registry}/${npmPackage.name}/${npmPackage.version}`))
          .isDirectory;
      } catch {
        found = false;
      }
      if (found) break;
    }
    if (!found) {
      throw new ModelImportsError(
        `the model's dependency ${npmPackage.name}@${npmPackage.version} is not in the ` +
          `backend's cache (${denoDir}); run \`deno task prepare-model ${modelDirectory}\` ` +
          "where the backend is installed: models never fetch code while serving",
      );
    }
  }
}

/**
 * The import map the stub runs with: the runtime's imports (made absolute)
 * and the model's pinned imports scoped to its directory.
 *
 * @param runtimeImportMap The runtime's import map file.
 * @param modelDirectory The model's directory.
 * @param imports The model's pinned imports.
 * @returns A `data:` URL holding the map.
 */
export async function mergedImportMap(
  runtimeImportMap: string,
  modelDirectory: string,
  imports: readonly PinnedImport[],
): Promise<string> {
  const runtime = z.object({ imports: z.record(z.string(), z.string()) }).parse(
    JSON.parse(await Deno.readTextFile(runtimeImportMap)),
  );
  const base = new URL(fileUrl(runtimeImportMap));
  const absolute = Object.fromEntries(
    Object.entries(runtime.imports).map(([key, value]) => [key, new URL(value, base).href]),
  );
  const map = {
    imports: absolute,
    scopes: {
      [`${fileUrl(modelDirectory)}/`]: Object.fromEntries(
        imports.map(({ key, target }) => [key, target]),
      ),
    },
  };
  return `data:application/json;base64,${encodeBase64(JSON.stringify(map))}`;
}
