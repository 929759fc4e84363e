/**
 * Everything the trusted main thread decides before model code runs: which
 * module to load, whether its directory is safe to expose, whether it
 * type-checks, and which permissions its Worker gets.
 *
 * @example
 * ```ts ignore
 * import { prepareModel } from "./prepare_model.ts";
 *
 * const prepared = await prepareModel(initArgs, importMapPath);
 * new Worker(workerUrl, { type: "module", deno: { permissions: prepared.permissions } });
 * ```
 *
 * @module
 */

import { checkModelDirectory, ModelDirectoryError } from "../../sandbox/model_dir.ts";
import {
  baselinePolicy,
  type WorkerPermissions,
  workerPermissions,
} from "../../sandbox/permissions.ts";
import { typeCheckModel, TypeCheckError } from "../../sandbox/type_check.ts";
import { modelConfigFromTritonJson } from "../model_config/mod.ts";
import { ERROR_CODE } from "../wire/layout.ts";
import type { InitArgs } from "./init_args.ts";
import { modelFilePath, requireModelFile } from "./model_file.ts";

/** What the Worker is started with. */
export interface PreparedModel {
  /** The model module's path. */
  modelFile: string;
  /** Its `file:` URL. */
  modelUrl: string;
  /** The Worker's permissions. */
  permissions: WorkerPermissions;
}

/** A failure before model code runs, with the Triton error code to report. */
export class PrepareError extends Error {
  /** `TRITONSERVER_Error_Code`. */
  readonly code: number;

  /**
   * @param message What went wrong.
   * @param code The Triton error code.
   * @param cause The underlying error.
   */
  constructor(message: string, code: number, cause?: unknown) {
    super(message, { cause });
    this.name = "PrepareError";
    this.code = code;
  }
}

/**
 * Resolves, checks and type-checks the model, and computes its permissions.
 *
 * @param init The validated INIT arguments.
 * @param importMap The runtime's import map (for the type check).
 * @returns The module and the Worker's permissions.
 * @throws {PrepareError} With a message for the model's author.
 */
export async function prepareModel(init: InitArgs, importMap: string): Promise<PreparedModel> {
  const repository = init.model_repository.replace(/\/+$/, "") || "/";
  let defaultModelFilename: string;
  try {
    defaultModelFilename = modelConfigFromTritonJson(init.model_config).defaultModelFilename;
  } catch (error) {
    throw new PrepareError(messageOf(error), ERROR_CODE.INVALID_ARG, error);
  }
  const modelFile = modelFilePath(repository, init.model_version, defaultModelFilename);
  await requireModelFile(modelFile);
  try {
    await checkModelDirectory(repository);
    await typeCheckModel({
      denoPath: init.backend_options.deno_path,
      denoDir: `${init.backend_options.runtime_dir}/deno_dir`,
      importMap,
      modelFile,
    });
  } catch (error) {
    if (error instanceof ModelDirectoryError || error instanceof TypeCheckError) {
      throw new PrepareError(error.message, ERROR_CODE.INVALID_ARG, error);
    }
    throw error;
  }
  return {
    modelFile,
    modelUrl: fileUrl(modelFile),
    permissions: workerPermissions(baselinePolicy(repository)),
  };
}

/** The `file:` URL of an absolute path, every segment percent-encoded. */
function fileUrl(path: string): string {
  return `file://${path.split("/").map(encodeURIComponent).join("/")}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
