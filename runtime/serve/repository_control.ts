/**
 * The rules of Triton's model repository control (load and unload a model),
 * once for both front ends: the HTTP handler turns its JSON body and the
 * gRPC handler its `ModelRepositoryParameter` map into
 * {@linkcode ControlParameter}s, and this module decides what they mean.
 *
 * - Load and unload only in `--model-control-mode explicit` (Triton's
 *   UNAVAILABLE otherwise).
 * - A load may carry `config` (Triton's JSON model configuration, replacing
 *   the repository's for that load) and `file:<path>` model files (base64
 *   over HTTP, bytes over gRPC), which replace the model's directory for that
 *   load and need a `config`. Every path is relative and stays inside the
 *   model's directory; uploaded files are untrusted model code, so the
 *   configuration must name this backend (`backend: "deno"`).
 * - An unload may carry `unload_dependents` (a boolean): the models loaded
 *   only because this one needed them (an ensemble's composing models) go
 *   too, unless another model still needs them or they were loaded on
 *   their own.
 *
 * @module
 */

import { isDenoModel, refusedModelText } from "../model_config/deno_model.ts";
import { type ModelConfig, modelConfigFromTritonJson } from "../model_config/mod.ts";
import { ErrorCode, invalidArg, ServeError } from "./errors.ts";

/** tritonserver's `--model-control-mode`. */
export type ModelControlMode = "none" | "poll" | "explicit";

/** Which front end received the request (a few messages are worded per protocol). */
export type ControlFront = "http" | "grpc";

/** One load or unload parameter as a front end received it. */
export type ControlParameter =
  | { readonly kind: "string"; readonly value: string }
  | { readonly kind: "bool"; readonly value: boolean }
  | { readonly kind: "int"; readonly value: bigint }
  | { readonly kind: "bytes"; readonly value: Uint8Array }
  | { readonly kind: "other" };

/** A model file sent with a load: its path inside the model's directory and its content. */
export interface ModelFile {
  /** Relative to the model's directory, `/`-separated (e.g. `1/model.ts`). */
  readonly path: string;
  /** The file's bytes. */
  readonly bytes: Uint8Array;
}

/** What a load request asks for. */
export interface LoadRequest {
  /** The configuration replacing the repository's, parsed. */
  readonly config?: ModelConfig;
  /** Model files replacing the model's directory (none: the repository's directory). */
  readonly files: readonly ModelFile[];
}

/** What an unload request asks for. */
export interface UnloadRequest {
  /** Also unload the models loaded only as this one's dependencies. */
  readonly unloadDependents: boolean;
}

/** The prefix of a model file parameter's key. */
export const FILE_PREFIX = "file:";

/** Triton's refusal outside explicit model control. */
export const CONTROL_REFUSED = "explicit model load / unload is not allowed if polling is enabled";

/** The longest name one part of a file path may have (the file system's limit). */
const MAX_PART_BYTES = 255;

/**
 * Refuses load and unload outside explicit model control, as Triton does
 * (UNAVAILABLE: HTTP 503, gRPC UNAVAILABLE).
 *
 * @throws {ServeError} Unless `mode` is `explicit`.
 */
export function requireExplicitControl(mode: ModelControlMode): void {
  if (mode !== "explicit") throw new ServeError(ErrorCode.UNAVAILABLE, CONTROL_REFUSED);
}

/**
 * Reads the parameters of a load request.
 *
 * @param model The model's name (for messages).
 * @param parameters The request's parameters, as the front end received them.
 * @param front Which front end received them.
 * @throws {ServeError} `INVALID_ARG` naming the parameter and the problem.
 *
 * @example
 * ```ts
 * import { parseLoadRequest } from "./repository_control.ts";
 *
 * const request = parseLoadRequest("m", {
 *   config: { kind: "string", value: '{"backend":"deno"}' },
 *   "file:1/model.ts": { kind: "bytes", value: new TextEncoder().encode("export default {}") },
 * }, "grpc");
 * console.log(request.files[0].path); // "1/model.ts"
 * ```
 */
export function parseLoadRequest(
  model: string,
  parameters: Readonly<Record<string, ControlParameter>>,
  front: ControlFront,
): LoadRequest {
  let config: ModelConfig | undefined;
  const files: ModelFile[] = [];
  for (const [key, parameter] of Object.entries(parameters)) {
    if (key === "config") {
      if (parameter.kind !== "string") throw wrongType(key, "string", front);
      try {
        config = modelConfigFromTritonJson(parameter.value);
      } catch (error) {
        throw invalidArg(`failed to load '${model}': ${(error as Error).message}`);
      }
    } else if (key.startsWith(FILE_PREFIX)) {
      if (parameter.kind !== "bytes") throw wrongType(key, "bytes", front);
      files.push({ path: checkFilePath(key), bytes: parameter.value });
    } else {
      throw invalidArg(`unrecognized load parameter '${key}'`);
    }
  }
  if (files.length === 0) return { config, files };
  if (config === undefined) {
    throw invalidArg("Load parameter 'config' must be specified for model file override");
  }
  checkModelName(model);
  checkFileTree(files);
  checkUploadBackend(model, config);
  return { config, files };
}

/**
 * Reads the parameters of an unload request: `unload_dependents`, a
 * boolean; other parameters are ignored, as Triton does.
 *
 * @throws {ServeError} `INVALID_ARG` when `unload_dependents` is not a boolean.
 */
export function parseUnloadRequest(
  parameters: Readonly<Record<string, ControlParameter>>,
  front: ControlFront,
): UnloadRequest {
  const dependents = parameters.unload_dependents;
  if (dependents === undefined) return { unloadDependents: false };
  if (dependents.kind !== "bool") {
    throw invalidArg(
      front === "http"
        ? "Unable to parse 'unload_dependents'"
        : "invalid value type for 'unload_dependents' parameter, expected bool_param.",
    );
  }
  return { unloadDependents: dependents.value };
}

/**
 * The parameters of an HTTP load or unload body (`{"parameters": {...}}`):
 * strings, booleans and integers as they are; for `file:` keys, a string is
 * base64 and becomes the file's bytes.
 *
 * @throws {ServeError} `INVALID_ARG` when `parameters` is not an object or
 * a file's content is not base64.
 */
export function controlParametersFromJson(
  parameters: unknown,
): Record<string, ControlParameter> {
  if (parameters === undefined) return {};
  if (typeof parameters !== "object" || parameters === null || Array.isArray(parameters)) {
    throw invalidArg("Unable to parse 'parameters'");
  }
  const out: Record<string, ControlParameter> = {};
  for (const [key, value] of Object.entries(parameters as Record<string, unknown>)) {
    if (typeof value === "string") {
      out[key] = key.startsWith(FILE_PREFIX)
        ? { kind: "bytes", value: decodeBase64(key, value) }
        : { kind: "string", value };
    } else if (typeof value === "boolean") {
      out[key] = { kind: "bool", value };
    } else if (typeof value === "number" && Number.isSafeInteger(value)) {
      out[key] = { kind: "int", value: BigInt(value) };
    } else {
      out[key] = { kind: "other" };
    }
  }
  return out;
}

/** One gRPC `ModelRepositoryParameter`'s choice, as protobuf-es holds it. */
export type GrpcParameterChoice =
  | { case: "boolParam"; value: boolean }
  | { case: "int64Param"; value: bigint }
  | { case: "stringParam"; value: string }
  | { case: "bytesParam"; value: Uint8Array }
  | { case: undefined; value?: undefined };

/** The parameters of a gRPC `RepositoryModelLoad`/`RepositoryModelUnload` request. */
export function controlParametersFromGrpc(
  parameters: Readonly<Record<string, { parameterChoice: GrpcParameterChoice }>>,
): Record<string, ControlParameter> {
  const out: Record<string, ControlParameter> = {};
  for (const [key, { parameterChoice: choice }] of Object.entries(parameters)) {
    switch (choice.case) {
      case "boolParam":
        out[key] = { kind: "bool", value: choice.value };
        break;
      case "int64Param":
        out[key] = { kind: "int", value: choice.value };
        break;
      case "stringParam":
        out[key] = { kind: "string", value: choice.value };
        break;
      case "bytesParam":
        out[key] = { kind: "bytes", value: choice.value };
        break;
      default:
        out[key] = { kind: "other" };
    }
  }
  return out;
}

/**
 * A model file's path, checked: relative, `/`-separated, no part empty,
 * `.` or `..`, no NUL, no part longer than the file system allows.
 *
 * @param key The parameter's key, `file:<path>`.
 * @returns The path.
 * @throws {ServeError} `INVALID_ARG` naming the parameter.
 */
export function checkFilePath(key: string): string {
  const path = key.slice(FILE_PREFIX.length);
  const bad = (why: string) => invalidArg(`Invalid file parameter '${key}': ${why}`);
  if (path === "") throw bad("the path is empty");
  if (path.includes("\0")) throw bad("the path contains NUL");
  if (path.startsWith("/")) throw bad("the path must be relative to the model directory");
  const encoder = new TextEncoder();
  for (const part of path.split("/")) {
    if (part === "" || part === "." || part === "..") {
      throw bad("the path must stay within the model directory");
    }
    if (encoder.encode(part).length > MAX_PART_BYTES) {
      throw bad(`a part of the path is longer than ${MAX_PART_BYTES} bytes`);
    }
  }
  return path;
}

/** Uploaded files become a directory named as the model: the name must be able to name one. */
function checkModelName(model: string): void {
  if (
    model === "" || model === "." || model === ".." || model.includes("/") ||
    model.includes("\0") || new TextEncoder().encode(model).length > MAX_PART_BYTES
  ) {
    throw invalidArg(`failed to load '${model}': the model's name cannot name its directory`);
  }
}

/** No file's path is a directory another file's path needs. */
function checkFileTree(files: readonly ModelFile[]): void {
  const paths = new Set(files.map((file) => file.path));
  for (const file of files) {
    const parts = file.path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const directory = parts.slice(0, i).join("/");
      if (paths.has(directory)) {
        throw invalidArg(
          `Invalid file parameter '${FILE_PREFIX}${file.path}': '${directory}' is sent as a ` +
            "file and is needed as a directory",
        );
      }
    }
  }
}

/** What a load with model files accepts, in the words of docs/deno_models.md. */
export const UPLOAD_ACCEPTS = 'a load with model files takes only Deno models (backend: "deno", ' +
  "no platform)";

/**
 * Uploaded files are model code from a client: only this backend, whose
 * models run sandboxed, may load them, and without a platform (the rule of
 * the model API in ffi/src/bls_control.c; docs/deno_models.md).
 */
function checkUploadBackend(model: string, config: ModelConfig): void {
  if (isDenoModel(config) && config.platform === "") return;
  throw invalidArg(refusedModelText(model, config, UPLOAD_ACCEPTS));
}

function wrongType(key: string, expected: "string" | "bytes", front: ControlFront): ServeError {
  if (front === "grpc") {
    return invalidArg(
      `invalid value type for load parameter '${key}', expected ${expected}_param.`,
    );
  }
  return invalidArg(
    expected === "bytes"
      ? `Unable to parse '${key}': expected the file's content as a base64 string`
      : `Unable to parse '${key}'`,
  );
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Standard base64 (padding optional), as Triton's clients send file contents. */
function decodeBase64(key: string, text: string): Uint8Array {
  const compact = text.replace(/[\t\n\f\r ]/g, "");
  if (!BASE64.test(compact) || compact.replace(/=+$/, "").length % 4 === 1) {
    throw invalidArg(`Unable to parse '${key}': the file's content is not valid base64`);
  }
  let binary: string;
  try {
    binary = atob(compact);
  } catch {
    throw invalidArg(`Unable to parse '${key}': the file's content is not valid base64`);
  }
  // A fresh ArrayBuffer: the real core keeps a pointer to these bytes.
  const bytes = new Uint8Array(new ArrayBuffer(binary.length));
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
