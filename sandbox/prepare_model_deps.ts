/**
 * `deno task prepare-model <model dir>`: caches a model's npm dependencies
 * (the `imports` of its `deno.json`, pinned by its `deno.lock`) into the
 * backend's `deno_dir`, where stubs load them from with `--cached-only`,
 * then type-checks every version's model module the way a stub would and
 * keeps the passing verdicts (./check_verdicts.ts), so that the first load
 * of the model starts without checking. Run it wherever the backend is
 * installed, before loading the model, on the model directory's path as
 * Triton will see it; the model directory is only read.
 *
 * The lock file is frozen: if `deno.json` asks for something `deno.lock`
 * does not pin, nothing is fetched and the command fails. Integrity hashes
 * from the lock are checked as the packages are fetched.
 *
 * Usage:
 *
 * ```
 * deno task prepare-model models/my_model
 * deno run -A <backend dir>/sandbox/prepare_model_deps.ts --backend-dir <backend dir> <model dir>
 * ```
 *
 * @module
 */

import { parseModelConfigText } from "../runtime/model_config/mod.ts";
import { verdictDirectory } from "./checks/check_verdicts.ts";
import {
  mergedImportMap,
  ModelImportsError,
  type PinnedImport,
  readModelImports,
  requireCached,
} from "./checks/model_imports.ts";
import { normalizePath } from "./policy/rules.ts";
import { TypeCheckError, typeCheckModel } from "./checks/type_check.ts";

function usage(problem: string): never {
  console.error(`prepare-model: ${problem}`);
  console.error("usage: prepare-model [--backend-dir <dir>] <model directory>");
  Deno.exit(2);
}

function absolute(path: string): string {
  return normalizePath(path.startsWith("/") ? path : `${Deno.cwd()}/${path}`);
}

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** An installed backend holds sandbox/ itself; a checkout builds it in build/deno. */
function defaultBackendDir(): string {
  const parent = decodeURIComponent(new URL("..", import.meta.url).pathname).replace(/\/$/, "");
  return isDirectory(`${parent}/deno_dir`) ? parent : `${parent}/build/deno`;
}

function parseArguments(args: readonly string[]): { backendDir: string; modelDir: string } {
  let backendDir: string | undefined;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--backend-dir") {
      backendDir = args[++i] ?? usage("--backend-dir needs a value");
    } else if (args[i].startsWith("--backend-dir=")) {
      backendDir = args[i].slice("--backend-dir=".length);
    } else rest.push(args[i]);
  }
  if (rest.length !== 1) usage("give exactly one model directory");
  return {
    backendDir: absolute(backendDir ?? defaultBackendDir()),
    modelDir: absolute(rest[0]),
  };
}

async function main(): Promise<number> {
  const { backendDir, modelDir } = parseArguments(Deno.args);
  if (!isDirectory(modelDir)) usage(`${modelDir} is not a directory`);
  if (!isDirectory(backendDir)) usage(`${backendDir} is not a backend directory (build it first)`);
  const imports = await readModelImports(modelDir);
  const deno = isFile(`${backendDir}/deno`) ? `${backendDir}/deno` : Deno.execPath();
  const denoDir = `${backendDir}/deno_dir`;
  if (imports === undefined || imports.every((item) => item.npmPackage === undefined)) {
    console.log(`prepare-model: ${modelDir} has no npm dependencies`);
  } else if (!(await cacheDependencies(deno, denoDir, modelDir, imports))) {
    return 1;
  }
  return await checkVersions(deno, backendDir, modelDir, imports) ? 0 : 1;
}

/** The model modules of every version folder (`<n>/<default_model_filename>`). */
function modelFiles(modelDir: string): string[] {
  let fileName = "model.ts";
  if (isFile(`${modelDir}/config.pbtxt`)) {
    const config = parseModelConfigText(
      Deno.readTextFileSync(`${modelDir}/config.pbtxt`),
      `${modelDir}/config.pbtxt`,
    );
    fileName = config.defaultModelFilename || fileName;
  }
  return [...Deno.readDirSync(modelDir)]
    .filter((entry) => entry.isDirectory && /^[0-9]+$/.test(entry.name))
    .map((entry) => `${modelDir}/${entry.name}/${fileName}`)
    .filter(isFile)
    .sort();
}

/**
 * Type-checks each version's model module as a stub would (same import map,
 * same first root, same verdict directory). False if one does not check.
 */
async function checkVersions(
  deno: string,
  backendDir: string,
  modelDir: string,
  imports: readonly PinnedImport[] | undefined,
): Promise<boolean> {
  const runtimeMap = `${backendDir}/runtime/import_map.json`;
  const importMap = imports === undefined
    ? runtimeMap
    : await mergedImportMap(runtimeMap, modelDir, imports);
  const version = new TextDecoder().decode(
    (await new Deno.Command(deno, { args: ["--version"], stdout: "piped" }).output()).stdout,
  ).match(/^deno (\S+)/)?.[1];
  let ok = true;
  for (const modelFile of modelFiles(modelDir)) {
    try {
      const outcome = await typeCheckModel({
        denoPath: deno,
        denoDir: `${backendDir}/deno_dir`,
        importMap,
        modelFile,
        verdicts: {
          cacheDir: verdictDirectory(backendDir),
          runtimeDir: backendDir,
          modelDirectory: modelDir,
        },
        firstRoot: `${backendDir}/runtime/api/mod.ts`,
        native: imports === undefined ? { backendDir } : undefined,
        denoVersion: version,
      });
      const said = {
        skipped: "JavaScript, not type-checked",
        cached: "type-checked before (verdict kept)",
        checked: "type-checked (verdict kept)",
        "checked-unkept": "type-checked, but no verdict could be kept: loads will check again",
      };
      console.log(`prepare-model: ${modelFile}: ${said[outcome]}`);
    } catch (error) {
      if (!(error instanceof TypeCheckError)) throw error;
      console.error(`prepare-model: ${error.message}`);
      ok = false;
    }
  }
  return ok;
}

/** Caches the model's pinned npm dependencies; false (after saying why) if that fails. */
async function cacheDependencies(
  deno: string,
  denoDir: string,
  modelDir: string,
  imports: readonly PinnedImport[],
): Promise<boolean> {
  const install = new Deno.Command(deno, {
    args: [
      "install",
      "--frozen",
      "--node-modules-dir=none",
      `--config=${modelDir}/deno.json`,
    ],
    cwd: modelDir,
    // The backend's deno processes take their npm configuration from deno_dir/.npmrc (HOME is
    // deno_dir for them): the same here, so that packages are cached where stubs look.
    env: { DENO_DIR: denoDir, HOME: denoDir, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  });
  const { code } = await install.spawn().status;
  if (code !== 0) {
    console.error(
      `prepare-model: caching the dependencies of ${modelDir} failed (deno install exited ` +
        `with ${code}); if deno.lock is out of date, update it with \`deno install\` in the ` +
        "model directory and review the change",
    );
    return false;
  }
  await requireCached(denoDir, imports, modelDir);
  for (const item of imports) {
    if (item.npmPackage !== undefined) {
      console.log(`prepare-model: ${item.key} -> ${item.target} (cached in ${denoDir})`);
    }
  }
  return true;
}

try {
  Deno.exit(await main());
} catch (error) {
  if (error instanceof ModelImportsError) {
    console.error(`prepare-model: ${error.message}`);
    Deno.exit(1);
  }
  throw error;
}
