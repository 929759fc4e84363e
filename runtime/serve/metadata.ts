/**
 * Server and model metadata in the KServe v2 shape Triton returns.
 *
 * @module
 */

import type { ModelSignature } from "./model_signature.ts";

/** The server's name in its metadata, as Triton reports it (clients look for it). */
export const SERVER_NAME = "triton";

/** This server's version. */
export const SERVER_VERSION = "0.1.0";

/** The protocol extensions this server implements (in Triton's spelling). */
export const SERVER_EXTENSIONS: readonly string[] = Object.freeze([
  "sequence",
  "binary_tensor_data",
  "parameters",
  "statistics",
  "model_configuration",
  "model_repository",
  "schedule_policy",
  "system_shared_memory",
  "logging",
  "trace",
]);

/** `GET /v2`. */
export function serverMetadata(): { name: string; version: string; extensions: string[] } {
  return { name: SERVER_NAME, version: SERVER_VERSION, extensions: [...SERVER_EXTENSIONS] };
}

/** A tensor in model metadata. */
export interface TensorMetadata {
  /** Its name. */
  name: string;
  /** Its datatype in protocol spelling. */
  datatype: string;
  /** Its shape, with -1 for the batch dimension when the model batches. */
  shape: number[];
}

/**
 * `GET /v2/models/{m}[/versions/{v}]`: name, versions, platform, inputs and
 * outputs (shapes start with -1 when the model batches).
 *
 * @example
 * ```ts
 * import { modelMetadata } from "./metadata.ts";
 * import { modelSignature } from "./model_signature.ts";
 * import { parseModelConfigText } from "../model_config/mod.ts";
 *
 * const signature = modelSignature(parseModelConfigText(
 *   'name: "m" backend: "deno" max_batch_size: 4 input { name: "X" data_type: TYPE_FP32 dims: [3] }',
 * ));
 * console.log(modelMetadata(signature, [1]).inputs[0].shape); // [-1, 3]
 * ```
 */
export function modelMetadata(
  signature: ModelSignature,
  versions: readonly number[],
): {
  name: string;
  versions: string[];
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
} {
  const batch = signature.maxBatchSize > 0 ? [-1] : [];
  return {
    name: signature.name,
    versions: versions.map(String),
    platform: signature.platform,
    inputs: signature.inputs.map((input) => ({
      name: input.name,
      datatype: input.datatype,
      shape: [...batch, ...input.dims],
    })),
    outputs: signature.outputs.map((output) => ({
      name: output.name,
      datatype: output.datatype,
      shape: [...batch, ...output.dims],
    })),
  };
}
