/**
 * Everything the trusted main thread decides before its Worker starts: which
 * module to load and which permissions the Worker gets ({@linkcode locateModel},
 * fast). Whether the model directory is safe to expose and whether the
 * module type-checks is decided by ./check_model.ts (slow: it may run `deno
 * check`), which the stub loads and runs only once the Worker is loading its
 * runtime (tens of milliseconds); the model itself is imported only after
 * the checks pass.
 *
 * @example
 * ```ts ignore
 * import { locateModel } from "./prepare_model.ts";
 *
 * const located = await locateModel(initArgs);
 * const worker = new Worker(workerUrl, {
 *   type: "module",
 *   deno: { permissions: located.permissions },
 * });
 * const { checkModel } = await import("./check_model.ts");
 * await checkModel(located, initArgs, importMapPath);
 * ```
 *
 * @module
 */

import { sandboxPermissions, type WorkerPermissions } from "../../sandbox/policy/permissions.ts";
import { decodeSandboxRecord, type SandboxRecord } from "../../sandbox/policy/sandbox_record.ts";
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

/** The `file:` URL of an absolute path, every segment percent-encoded. */
function fileUrl(path: string): string {
  return `file://${path.split("/").map(encodeURIComponent).join("/")}`;
}
