/**
 * Reads a Triton model repository: one directory per model holding
 * `config.pbtxt` and numbered version directories (`<repo>/<model>/1/...`).
 * The version policy in the config picks which versions are served.
 *
 * @module
 */

import { join, resolve } from "node:path";
import { type ModelConfig, parseModelConfigText } from "../model_config/mod.ts";
import { isDenoModel, refusedModelText } from "../model_config/deno_model.ts";

/** What the repository says about one model, ready to be loaded. */
export interface ModelSpec {
  /** The model's name: its directory name. */
  readonly name: string;
  /** The model's directory, absolute. */
  readonly directory: string;
  /** The parsed configuration, with `name` filled in as Triton does. */
  readonly config: ModelConfig;
  /** The versions to serve, ascending, chosen by the version policy. */
  readonly versions: readonly number[];
}

/** A model directory that cannot be served, with the reason Triton would give. */
export class ModelSpecError extends Error {
  /** @param message The reason, shown as the model's state reason. */
  constructor(message: string) {
    super(message);
    this.name = "ModelSpecError";
  }
}

/**
 * The model names in a repository: its subdirectories (hidden ones skipped),
 * sorted.
 *
 * @throws {Deno.errors.NotFound} If the repository does not exist.
 *
 * @example
 * ```ts
 * import { listModelNames } from "./repository.ts";
 *
 * const dir = Deno.makeTempDirSync();
 * Deno.mkdirSync(`${dir}/add_sub`);
 * console.log(listModelNames(dir)); // ["add_sub"]
 * ```
 */
export function listModelNames(repository: string): string[] {
  const names: string[] = [];
  for (const entry of Deno.readDirSync(repository)) {
    if (entry.name.startsWith(".")) continue;
    if (entry.isDirectory || (entry.isSymlink && isDirectory(join(repository, entry.name)))) {
      names.push(entry.name);
    }
  }
  return names.sort();
}

/**
 * Reads and checks one model: `config.pbtxt` (syntax errors carry
 * file:line:column), the name, and the versions its policy selects. The
 * messages name the absolute paths (for the log); what clients see of them
 * is made model-relative where the load fails (model_manager.ts).
 *
 * @param repository The repository directory.
 * @param name The model's name.
 * @param override A configuration to use instead of `config.pbtxt` (the
 * load API's `config` parameter).
 * @param modelDirectory A directory to load from instead of the
 * repository's (model files sent with the load); it comes with `override`.
 * @throws {ModelSpecError} With the reason the model cannot be served.
 */
export function readModelSpec(
  repository: string,
  name: string,
  override?: ModelConfig,
  modelDirectory?: string,
): ModelSpec {
  const directory = modelDirectory ?? resolve(repository, name);
  if (!isDirectory(directory)) {
    throw new ModelSpecError(
      `no model directory '${name}' in the model repository (${repository})`,
    );
  }
  const config = override ?? readConfigFile(directory, name);
  if (config.name === "") config.name = name;
  if (config.name !== name) {
    throw new ModelSpecError(
      `unexpected directory name '${name}' for model '${config.name}', ` +
        "directory name must equal model name",
    );
  }
  checkBackend(config, name, override !== undefined);
  const available = listVersions(directory);
  const versions = selectVersions(config, available);
  if (versions.length === 0) {
    throw new ModelSpecError(
      `at least one version must be available under the version policy of model '${name}'`,
    );
  }
  return { name, directory, config, versions };
}

/** What the stand-in core accepts, in the words of docs/deno_models.md. */
const STAND_IN_ACCEPTS = 'the stand-in core serves only Deno models (backend: "deno") and ' +
  'ensembles (platform: "ensemble"); serve with --triton-home for Triton\'s backends';

/**
 * A model the stand-in core can serve is a Deno model or an ensemble
 * (docs/deno_models.md); anything else would load and then serve nothing.
 * A config.pbtxt may leave both backend and platform out (the repository
 * is this backend's); a configuration sent with a load request must name
 * one.
 *
 * @throws {ModelSpecError} Naming what the configuration names instead.
 */
function checkBackend(config: ModelConfig, name: string, override: boolean): void {
  if (config.platform === "ensemble" || isDenoModel(config)) return;
  if (config.backend === "" && config.platform === "" && !override) return;
  throw new ModelSpecError(refusedModelText(name, config, STAND_IN_ACCEPTS));
}

function readConfigFile(directory: string, name: string): ModelConfig {
  const configPath = join(directory, "config.pbtxt");
  let text: string;
  try {
    text = Deno.readTextFileSync(configPath);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new ModelSpecError(`failed to load '${name}': ${configPath} does not exist`);
    }
    throw new ModelSpecError(`failed to read ${configPath}: ${messageOf(error)}`);
  }
  try {
    return parseModelConfigText(text, configPath);
  } catch (error) {
    throw new ModelSpecError(`failed to load '${name}': ${messageOf(error)}`);
  }
}

/** The numeric subdirectories of a model directory, ascending. */
export function listVersions(directory: string): number[] {
  const versions: number[] = [];
  for (const entry of Deno.readDirSync(directory)) {
    if (!/^[0-9]+$/.test(entry.name)) continue;
    if (!isDirectory(join(directory, entry.name))) continue;
    const version = Number(entry.name);
    if (Number.isSafeInteger(version) && version > 0) versions.push(version);
  }
  return versions.sort((a, b) => a - b);
}

/**
 * The versions a config's `version_policy` serves out of `available`:
 * `latest { num_versions }` (the default, 1), `all`, or `specific { versions }`.
 *
 * @example
 * ```ts
 * import { selectVersions } from "./repository.ts";
 * import { parseModelConfigText } from "../model_config/mod.ts";
 *
 * const config = parseModelConfigText('version_policy { latest { num_versions: 2 } }');
 * console.log(selectVersions(config, [1, 2, 3])); // [2, 3]
 * ```
 */
export function selectVersions(config: ModelConfig, available: readonly number[]): number[] {
  const sorted = [...available].sort((a, b) => a - b);
  const policy = config.versionPolicy?.policyChoice;
  switch (policy?.case) {
    case "all":
      return sorted;
    case "specific": {
      const wanted = new Set(policy.value.versions.map(Number));
      return sorted.filter((version) => wanted.has(version));
    }
    case "latest": {
      const count = Math.max(1, policy.value.numVersions);
      return sorted.slice(-count);
    }
    default:
      return sorted.slice(-1);
  }
}

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
