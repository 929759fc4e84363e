/**
 * The slow half of preparing a model (./prepare_model.ts has the fast one):
 * the model directory is checked and the module type-checked, unless the
 * same sources passed before (sandbox/checks/check_verdicts.ts). Its own
 * module so that the stub loads it, and what it imports, only after its
 * Worker started loading: not on the way to `new Worker`.
 *
 * @example
 * ```ts ignore
 * const { checkModel } = await import("./check_model.ts");
 * await checkModel(located, initArgs, importMapPath, () => reportProgress());
 * ```
 *
 * @module
 */

import { verdictDirectory } from "../../sandbox/checks/check_verdicts.ts";
import { checkModelDirectory, ModelDirectoryError } from "../../sandbox/checks/model_dir.ts";
import {
  TypeCheckError,
  typeCheckModel,
  type TypeCheckOutcome,
} from "../../sandbox/checks/type_check.ts";
import { ERROR_CODE } from "../wire/layout.ts";
import type { InitArgs } from "./init_args.ts";
import { type LocatedModel, PrepareError, verdictsApply } from "./prepare_model.ts";

/**
 * Checks the model directory and type-checks the module (unless the same
 * sources passed before).
 *
 * @param located From {@linkcode locateModel}.
 * @param init The validated INIT arguments (Deno's path, the backend directory).
 * @param importMap The runtime's import map; the sandbox's own map (the
 * model's pinned dependencies) replaces it when there is one.
 * @param onProgress Called about every second while a type check runs.
 * @returns What the type check did.
 * @throws {PrepareError} `INVALID_ARG` with a message for the model's author.
 */
export async function checkModel(
  located: LocatedModel,
  init: InitArgs,
  importMap: string,
  onProgress?: () => void,
): Promise<TypeCheckOutcome> {
  const runtimeDir = init.backend_options.runtime_dir;
  const cacheDir = verdictDirectory(runtimeDir);
  try {
    await checkModelDirectory(located.repository);
    return await typeCheckModel({
      denoPath: init.backend_options.deno_path,
      denoDir: `${runtimeDir}/deno_dir`,
      importMap: located.sandbox.importMap || importMap,
      modelFile: located.modelFile,
      verdicts: verdictsApply(located, cacheDir)
        ? { cacheDir, runtimeDir, modelDirectory: located.repository }
        : undefined,
      firstRoot: `${runtimeDir}/runtime/api/mod.ts`,
      // The native compiler knows the runtime's import map, not a model's own.
      native: located.sandbox.importMap ? undefined : { backendDir: runtimeDir },
      onProgress,
    });
  } catch (error) {
    if (error instanceof ModelDirectoryError || error instanceof TypeCheckError) {
      throw new PrepareError(error.message, ERROR_CODE.INVALID_ARG, error);
    }
    throw error;
  }
}
