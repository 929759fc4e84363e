/**
 * Finds the model's module: `<model_repository>/<model_version>/` plus the
 * config's `default_model_filename`, or `model.ts`.
 *
 * @example
 * ```ts
 * import { modelFilePath } from "./model_file.ts";
 *
 * console.log(modelFilePath("/models/add_sub", "1", "")); // "/models/add_sub/1/model.ts"
 * ```
 *
 * @module
 */

import { ERROR_CODE } from "../wire/layout.ts";

/** The module name used when the config names none. */
export const DEFAULT_MODEL_FILENAME = "model.ts";

/** The model's module cannot be used; `code` is the Triton error code to report. */
export class ModelFileError extends Error {
  /** `TRITONSERVER_Error_Code`. */
  readonly code: number;

  /**
   * @param message What is wrong, naming the path.
   * @param code The Triton error code.
   */
  constructor(message: string, code: number) {
    super(message);
    this.name = "ModelFileError";
    this.code = code;
  }
}

// Only the one field the main thread needs, read by hand: loading the full
// protobuf schema (or a schema library) here would cost the stub start-up
// time on the critical path; the Worker decodes the whole configuration.
const FILE_NAME_FIELDS = ["default_model_filename", "defaultModelFilename"] as const;

/**
 * Reads `default_model_filename` from Triton's model configuration JSON.
 *
 * @param configJson The configuration JSON.
 * @returns The file name, or "" when the configuration sets none.
 * @throws {ModelFileError} `INVALID_ARG` if the JSON is malformed or the field is not a string.
 */
export function defaultModelFilenameOf(configJson: string): string {
  let json: unknown;
  try {
    json = JSON.parse(configJson);
  } catch (error) {
    throw new ModelFileError(
      `model_config is not JSON: ${error instanceof Error ? error.message : String(error)}`,
      ERROR_CODE.INVALID_ARG,
    );
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new ModelFileError("model_config is not a JSON object", ERROR_CODE.INVALID_ARG);
  }
  for (const field of FILE_NAME_FIELDS) {
    const value = (json as Record<string, unknown>)[field];
    if (value === undefined) continue;
    if (typeof value !== "string") {
      throw new ModelFileError(
        `model_config.${field}: Expected string, received ${
          value === null ? "null" : typeof value
        }`,
        ERROR_CODE.INVALID_ARG,
      );
    }
    return value;
  }
  return "";
}

/**
 * The module's path.
 *
 * @param repository The model's directory.
 * @param version The version folder's name.
 * @param defaultModelFilename `default_model_filename` from the config ("" if unset).
 * @returns The absolute path.
 * @throws {ModelFileError} If the file name is not a plain name in the version folder.
 */
export function modelFilePath(
  repository: string,
  version: string,
  defaultModelFilename: string,
): string {
  const name = defaultModelFilename === "" ? DEFAULT_MODEL_FILENAME : defaultModelFilename;
  if (name.includes("/") || name === "." || name === "..") {
    throw new ModelFileError(
      `default_model_filename "${name}" must be a file name inside the version folder`,
      ERROR_CODE.INVALID_ARG,
    );
  }
  return `${repository.replace(/\/+$/, "")}/${version}/${name}`;
}

/**
 * Throws unless `path` is a regular file.
 *
 * @throws {ModelFileError} `NOT_FOUND`, naming the path and the setting to change.
 */
export async function requireModelFile(path: string): Promise<void> {
  let isFile = false;
  try {
    isFile = (await Deno.stat(path)).isFile;
  } catch {
    isFile = false;
  }
  if (!isFile) {
    throw new ModelFileError(
      `model file not found: ${path} (set default_model_filename in config.pbtxt to use another name)`,
      ERROR_CODE.NOT_FOUND,
    );
  }
}
