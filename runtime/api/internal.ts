/**
 * The API's side of the contract with the Worker runtime: building requests
 * and initialize arguments from the wire, and checking responses before they
 * go back. Not part of the public API (`mod.ts` does not re-export it); model
 * code has no use for it.
 *
 * @module
 */

import { modelConfigFromTritonJson } from "../model_config/mod.ts";
import { ErrorCode, TritonError } from "./error.ts";
import type { InitializeArgs } from "./model.ts";
import { type ArenaAllocator, InferenceRequest } from "./request.ts";
import type { Tensor } from "./tensor.ts";

export type { ArenaAllocation, ArenaAllocator } from "./request.ts";
export { checkResponse } from "./check_response.ts";
export type { CheckedResponse, WireOutput } from "./check_response.ts";
export { tensorFromWire } from "./wire_tensor.ts";
export { snapshotTensor } from "./tensor.ts";
export type { TensorSnapshot } from "./tensor.ts";

/**
 * Builds the request a model sees.
 *
 * @example
 * ```ts
 * import { makeRequest, tensorFromWire } from "./internal.ts";
 *
 * const arena = new ArrayBuffer(4096);
 * let used = 128;
 * const request = makeRequest({
 *   id: "r1",
 *   correlationId: 0n,
 *   flags: 0,
 *   inputs: [tensorFromWire("INPUT0", 11, [1], arena, 64, 4)],
 *   requestedOutputNames: [],
 *   allocator: {
 *     allocate(byteLength) {
 *       const offset = used;
 *       used += Math.ceil(byteLength / 64) * 64;
 *       return { offset, bytes: new Uint8Array(arena, offset, byteLength) };
 *     },
 *   },
 * });
 * console.log(request.input("INPUT0").datatype); // "FP32"
 * ```
 */
export function makeRequest(init: {
  id: string;
  correlationId: bigint | string;
  flags: number;
  inputs: Tensor[];
  requestedOutputNames: string[];
  allocator: ArenaAllocator;
}): InferenceRequest {
  return new InferenceRequest(init);
}

/**
 * Builds the arguments of `initialize` from the strings of the `INIT`
 * message, decoding the configuration JSON.
 *
 * @throws {TritonError} `INVALID_ARG` if the configuration JSON does not
 * decode.
 *
 * @example
 * ```ts
 * import { makeInitializeArgs } from "./internal.ts";
 *
 * const args = makeInitializeArgs({
 *   modelConfigJson: '{"name":"add_sub","max_batch_size":0}',
 *   modelName: "add_sub",
 *   modelVersion: "1",
 *   modelRepository: "/models/add_sub",
 *   modelInstanceName: "add_sub_0_0",
 *   modelInstanceKind: "CPU",
 *   modelInstanceDeviceId: "0",
 * });
 * console.log(args.modelConfig.name); // "add_sub"
 * ```
 */
export function makeInitializeArgs(init: {
  modelConfigJson: string;
  modelName: string;
  modelVersion: string;
  modelRepository: string;
  modelInstanceName: string;
  modelInstanceKind: string;
  modelInstanceDeviceId: string;
}): InitializeArgs {
  let modelConfig;
  try {
    modelConfig = modelConfigFromTritonJson(init.modelConfigJson);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new TritonError(detail, ErrorCode.INVALID_ARG);
  }
  return Object.freeze({
    modelConfig,
    modelConfigJson: init.modelConfigJson,
    modelInstanceKind: init.modelInstanceKind,
    modelInstanceDeviceId: init.modelInstanceDeviceId,
    modelInstanceName: init.modelInstanceName,
    modelRepository: init.modelRepository,
    modelVersion: init.modelVersion,
    modelName: init.modelName,
  });
}
