/**
 * Everything the trusted main thread decides before model code runs: which
 * module to load and which permissions its Worker gets ({@linkcode locateModel},
 * fast), then whether the model directory is safe to expose and whether the
 * module type-checks ({@linkcode checkModel}, slow: it runs `deno check`).
 * The split lets the stub start the Worker (whose runtime takes tens of
 * milliseconds to load) while the checks run; the model itself is imported
 * only after they pass.
 *
 * @example
 * ```ts ignore
 * import { checkModel, locateModel } from "./prepare_model.ts";
 *
 * const located = await locateModel(initArgs);
 * const worker = new Worker(workerUrl, {
 *   type: "module",
 *   deno: { permissions: located.permissions },
 * });
 * await checkModel(located, initArgs, importMapPath);
 * ```
 *
 * @module
 */

import { verdictDirectory } from "../../sandbox/checks/check_verdicts.ts";
import { checkModelDirectory, ModelDirectoryError } from "../../sandbox/checks/model_dir.ts";
import { sandboxPermissions, type WorkerPermissions } from "../../sandbox/policy/permissions.ts";
import { decodeSandboxRecord, type SandboxRecord } from "../../sandbox/policy/sandbox_record.ts";
import {
  TypeCheckError,
  typeCheckModel,
  type TypeCheckOutcome,
} from "../../sandbox/checks/type_check.ts";
import { ERROR_CODE } from "../wire/layout.ts";
import type { InitArgs } from "./init_args.ts";
import { defaultModelFilenameOf, modelFilePath, requireModelFile } from "./model_file.ts";

/** Where the model is and what its Worker may do. */
export interface LocatedModel {
  /** The model's directory, as the parent named it (no trailing slash). */
  repository: string;
  /** The model module's path. */
  modelFile: string;
  /** Its `file:` URL. */
  modelUrl: string;
  /** The Worker's permissions. */
  permissions: WorkerPermissions;
  /** The whole sandbox the parent applied (WebGPU, the import map, the limits). */
  sandbox: SandboxRecord;
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
 * Resolves the model module (it must exist) and reads the Worker's
 * permissions from the sandbox record the parent forwarded.
 *
 * @param init The validated INIT arguments.
 * @returns The module and the permissions.
 * @throws {ModelFileError} If the module is missing or the file name is invalid.
 * @throws {PrepareError} `INTERNAL` if the sandbox record is malformed.
 */
export async function locateModel(init: InitArgs): Promise<LocatedModel> {
  const repository = init.model_repository.replace(/\/+$/, "") || "/";
  const modelFile = modelFilePath(
    repository,
    init.model_version,
    defaultModelFilenameOf(init.model_config),
  );
  await requireModelFile(modelFile);
  let sandbox: SandboxRecord;
  let permissions: WorkerPermissions;
  try {
    sandbox = decodeSandboxRecord(init.sandbox);
    permissions = sandboxPermissions(sandbox, repository);
  } catch (error) {
    throw new PrepareError(
      `the parent's sandbox record is unusable: ${error instanceof Error ? error.message : error}`,
      ERROR_CODE.INTERNAL,
      error,
    );
  }
  return { repository, modelFile, modelUrl: fileUrl(modelFile), permissions, sandbox };
}

/**
 * Whether the stub may use the verdicts for this model: not when the
 * model's Worker could write them (a write grant covering the directory),
 * nor when it may read, and so import, files outside its own directory,
 * which the verdict's name does not cover.
 *
 * @param located The model and its sandbox.
 * @param cacheDir From {@linkcode verdictDirectory}.
 */
export function verdictsApply(
  located: Pick<LocatedModel, "repository" | "sandbox">,
  cacheDir: string,
): boolean {
  const covers = (root: string) =>
    root === "/" || cacheDir === root || cacheDir.startsWith(`${root}/`);
  if (located.sandbox.write.some((root) => covers(root.replace(/\/+$/, "") || "/"))) return false;
  return located.sandbox.read.every((path) =>
    path === located.repository || path.startsWith(`${located.repository}/`)
  );
}

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
      onProgress,
    });
  } catch (error) {
    if (error instanceof ModelDirectoryError || error instanceof TypeCheckError) {
      throw new PrepareError(error.message, ERROR_CODE.INVALID_ARG, error);
    }
    throw error;
  }
}

/** The `file:` URL of an absolute path, every segment percent-encoded. */
function fileUrl(path: string): string {
  return `file://${path.split("/").map(encodeURIComponent).join("/")}`;
}
