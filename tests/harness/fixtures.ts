/**
 * Model directories for the end-to-end tests: the committed fixtures under
 * tests/fixtures/, the example models under models/, and temporary copies
 * for the fixtures that must not live in the repository as they are run
 * (broken sources, symbolic links).
 *
 * @example
 * ```ts ignore
 * import { fixtureDir, temporaryCopy } from "./fixtures.ts";
 *
 * const dir = temporaryCopy(fixtureDir("syntax_error"), { "1/model.ts.broken": "1/model.ts" });
 * ```
 *
 * @module
 */

import { create } from "npm:@bufbuild/protobuf@2.17.0";
import { type ModelConfig, ModelParameterSchema } from "../../runtime/model_config/mod.ts";
import { REPOSITORY_ROOT } from "./paths.ts";

/** Absolute path of tests/fixtures/<name>. */
export function fixtureDir(name: string): string {
  return `${REPOSITORY_ROOT}/tests/fixtures/${name}`;
}

/** Absolute path of models/<name>. */
export function exampleModelDir(name: string): string {
  return `${REPOSITORY_ROOT}/models/${name}`;
}

/** A configuration override (a host's `configOverride`) setting parameter `key` to `value`. */
export function withParameter(key: string, value: string): (config: ModelConfig) => void {
  return (config) => {
    config.parameters[key] = create(ModelParameterSchema, { stringValue: value });
  };
}

/** Whether a directory holds a config.pbtxt. */
export function hasModel(dir: string): boolean {
  try {
    return Deno.statSync(`${dir}/config.pbtxt`).isFile;
  } catch {
    return false;
  }
}

function copyTree(from: string, to: string): void {
  Deno.mkdirSync(to, { recursive: true });
  for (const entry of Deno.readDirSync(from)) {
    if (entry.isDirectory) {
      copyTree(`${from}/${entry.name}`, `${to}/${entry.name}`);
    } else if (entry.isFile) {
      Deno.copyFileSync(`${from}/${entry.name}`, `${to}/${entry.name}`);
    }
  }
}

/**
 * Copies a model directory into a new temporary directory (keeping the
 * model's directory name) and applies renames (relative path -> relative
 * path). Returns the copy's model directory; remove it with
 * {@linkcode removeTemporaryCopy}.
 */
export function temporaryCopy(modelDir: string, renames: Record<string, string> = {}): string {
  const name = modelDir.replace(/\/+$/, "").split("/").pop()!;
  const parent = Deno.makeTempDirSync({ prefix: "tdn_e2e_" });
  const copy = `${parent}/${name}`;
  copyTree(modelDir, copy);
  for (const [from, to] of Object.entries(renames)) {
    Deno.renameSync(`${copy}/${from}`, `${copy}/${to}`);
  }
  return copy;
}

/** Removes a directory made by {@linkcode temporaryCopy}. */
export function removeTemporaryCopy(modelDir: string): void {
  Deno.removeSync(modelDir.replace(/\/[^/]+\/?$/, ""), { recursive: true });
}

/** The 1-based number of the first line of `file` containing `marker`. */
export function lineOf(file: string, marker: string): number {
  const index = Deno.readTextFileSync(file).split("\n").findIndex((line) => line.includes(marker));
  if (index < 0) throw new Error(`${file} has no line containing ${JSON.stringify(marker)}`);
  return index + 1;
}
