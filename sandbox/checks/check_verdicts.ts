/**
 * Verdicts of the type check, kept by content: a model whose sources (and
 * everything else the check depends on) have checked clean before is not
 * checked again, whichever instance, restart or model asks. A verdict's name
 * is the SHA-256 of:
 *
 * - Deno's version (the checker and its libraries);
 * - the import map the check and the model use (its text);
 * - the runtime's model API (`runtime/api/`, `runtime/model_config/`:
 *   every file's path and contents);
 * - the model module's path within the model directory, and the path and
 *   contents of every source file in the model directory (TypeScript,
 *   JavaScript, JSON, Wasm; other files, such as weights, cannot be
 *   imported as code and are left out).
 *
 * Two models whose directories hold the same sources at the same relative
 * paths therefore share a verdict; a change to any source, to the import
 * map, to the API or to Deno makes a new name. Only passing checks are kept
 * (a failing model is checked again, so its load always shows the
 * diagnostics). Only the trusted side writes here: the stub's main thread,
 * which never runs model code, and `deno task prepare-model`; a model's
 * Worker has no write access (and the stub keeps no verdicts when the
 * model's own write grant covers the directory). A model that may read
 * files outside its directory (a `deno.allow_read` grant) could import code
 * from there, which is not hashed: such models are always checked.
 *
 * @example
 * ```ts ignore
 * import { hasVerdict, verdictKey, writeVerdict } from "./check_verdicts.ts";
 *
 * const key = await verdictKey({
 *   denoVersion: Deno.version.deno,
 *   importMapText: '{"imports":{"@triton/deno":"./api/mod.ts"}}',
 *   runtimeDir: "/opt/tritonserver/backends/deno",
 *   modelDirectory: "/models/add_sub",
 *   modelFile: "/models/add_sub/1/model.ts",
 * });
 * if (key !== undefined && !(await hasVerdict(cacheDir, key))) {
 *   // ... run the check, then:
 *   await writeVerdict(cacheDir, key);
 * }
 * ```
 *
 * @module
 */

/**
 * Where a backend keeps its verdicts: `<backend dir>/deno_dir/check_verdicts`
 * (`TDN_VERDICT_DIR` in ffi/src/stub_command.h, which lets the stub's trusted
 * thread, and nothing else in it, write there).
 *
 * @param runtimeDir The backend directory.
 */
export function verdictDirectory(runtimeDir: string): string {
  return `${runtimeDir}/deno_dir/check_verdicts`;
}

/** What a verdict's name is computed from. */
export interface VerdictInputs {
  /** `Deno.version.deno` of the checker (the stub's own). */
  denoVersion: string;
  /** The text of the import map given to the check (a file's text, or a `data:` URL). */
  importMapText: string;
  /** The backend directory: the API lives in its `runtime/`. */
  runtimeDir: string;
  /** The model's directory. */
  modelDirectory: string;
  /** The model module (inside `modelDirectory`). */
  modelFile: string;
}

/** File name endings of what a module graph can hold; everything else is not hashed. */
const SOURCE_ENDINGS = [
  ".ts",
  ".mts",
  ".cts",
  ".tsx",
  ".js",
  ".mjs",
  ".cjs",
  ".jsx",
  ".json",
  ".jsonc",
  ".wasm",
];

/** Above this many bytes of sources a model is checked every time instead. */
export const MAX_HASHED_BYTES = 64 * 1024 * 1024;

/** The API's folders below the backend directory, hashed into every verdict. */
const API_FOLDERS = ["runtime/api", "runtime/model_config"];

const VERSION = "triton-deno-check-verdict-1";

/**
 * The verdict name for `inputs`.
 *
 * @param inputs What the name is computed from.
 * @param maxHashedBytes Sources larger than this in all are not hashed.
 * @returns 64 hex digits, or `undefined` when the model's sources are too
 * large to hash ({@linkcode MAX_HASHED_BYTES}) or the model file is not
 * inside its directory.
 * @throws {Deno.errors.NotFound} and other file errors while reading sources.
 */
export async function verdictKey(
  inputs: VerdictInputs,
  maxHashedBytes: number = MAX_HASHED_BYTES,
): Promise<string | undefined> {
  const modelDirectory = inputs.modelDirectory.replace(/\/+$/, "");
  if (!inputs.modelFile.startsWith(`${modelDirectory}/`)) return undefined;
  const budget = { left: maxHashedBytes };
  const model = await readTree(modelDirectory, "", budget, () => true);
  if (model === undefined) return undefined;
  const api: TreeEntry[] = [];
  for (const folder of API_FOLDERS) {
    const files = await readTree(
      `${inputs.runtimeDir}/${folder}`,
      "",
      { left: Number.POSITIVE_INFINITY },
      (name) => name.endsWith(".ts") && !name.endsWith("_test.ts"),
    );
    for (const entry of files ?? []) api.push({ ...entry, path: `${folder}/${entry.path}` });
  }
  // One digest over a description of every entry (path, kind, size) and
  // then every file's bytes in the same order: a single hashing call.
  const entries = [
    ...api.map((entry) => ({ ...entry, tree: "api" })),
    ...model.map((entry) => ({
      ...entry,
      tree: "model",
    })),
  ];
  const description = new TextEncoder().encode(JSON.stringify({
    version: VERSION,
    deno: inputs.denoVersion,
    importMap: inputs.importMapText,
    entry: inputs.modelFile.slice(modelDirectory.length + 1),
    files: entries.map((entry) => [entry.tree, entry.path, entry.link ?? entry.bytes?.byteLength]),
  }));
  const all = new Uint8Array(
    entries.reduce((sum, entry) => sum + (entry.bytes?.byteLength ?? 0), description.byteLength),
  );
  all.set(description, 0);
  let at = description.byteLength;
  for (const entry of entries) {
    if (entry.bytes === undefined) continue;
    all.set(entry.bytes, at);
    at += entry.bytes.byteLength;
  }
  return await sha256Hex(all);
}

/** A file (its bytes) or a symbolic link (its target) of a tree, by relative path. */
interface TreeEntry {
  path: string;
  bytes?: Uint8Array;
  link?: string;
}

/**
 * Whether `key` has a passing verdict in `cacheDir`.
 *
 * @param cacheDir The verdict directory.
 * @param key From {@linkcode verdictKey}.
 */
export async function hasVerdict(cacheDir: string, key: string): Promise<boolean> {
  try {
    return (await Deno.lstat(`${cacheDir}/${key}`)).isFile;
  } catch {
    return false;
  }
}

/**
 * Records a passing verdict (atomically: a reader sees it whole or not at
 * all). Creates `cacheDir` if needed.
 *
 * @param cacheDir The verdict directory.
 * @param key From {@linkcode verdictKey}.
 * @param note What was checked, kept in the file for a person looking at it.
 */
export async function writeVerdict(cacheDir: string, key: string, note = ""): Promise<void> {
  await Deno.mkdir(cacheDir, { recursive: true });
  const temporary = `${cacheDir}/${key}.${Deno.pid}.tmp`;
  await Deno.writeTextFile(temporary, `${JSON.stringify({ passed: true, note })}\n`);
  await Deno.rename(temporary, `${cacheDir}/${key}`);
}

/**
 * Takes the lock of `key` (one checker per set of sources at a time: the
 * others wait and then find its verdict). The lock goes with the process if
 * it dies.
 *
 * @returns A function that releases the lock.
 */
export async function lockVerdict(cacheDir: string, key: string): Promise<() => void> {
  await Deno.mkdir(`${cacheDir}/locks`, { recursive: true });
  const file = await Deno.open(`${cacheDir}/locks/${key}`, {
    read: true,
    write: true,
    create: true,
  });
  try {
    await file.lock(true);
  } catch (error) {
    file.close();
    throw error;
  }
  return () => file.close();
}

/**
 * Every file below `directory` that `wanted` accepts (by name) and that has
 * a source ending, with its bytes, sorted by path; symbolic links with
 * their targets (which lie inside the tree, sandbox/checks/model_dir.ts checks
 * that, and are read where they are). `undefined` once more than
 * `budget.left` bytes were read.
 */
async function readTree(
  directory: string,
  prefix: string,
  budget: { left: number },
  wanted: (name: string) => boolean,
): Promise<TreeEntry[] | undefined> {
  const result: TreeEntry[] = [];
  const entries: Deno.DirEntry[] = [];
  for await (const entry of Deno.readDir(directory)) entries.push(entry);
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = `${directory}/${entry.name}`;
    const relative = `${prefix}${entry.name}`;
    if (entry.isSymlink) {
      result.push({ path: relative, link: await Deno.readLink(path) });
    } else if (entry.isDirectory) {
      const inner = await readTree(path, `${relative}/`, budget, wanted);
      if (inner === undefined) return undefined;
      result.push(...inner);
    } else if (
      entry.isFile && wanted(entry.name) &&
      SOURCE_ENDINGS.some((ending) => entry.name.endsWith(ending))
    ) {
      const bytes = await Deno.readFile(path);
      budget.left -= bytes.byteLength;
      if (budget.left < 0) return undefined;
      result.push({ path: relative, bytes });
    }
  }
  return result;
}

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  // Uint8Array.prototype.toHex, built in: no npm package on the stub's start path.
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)).toHex();
}
