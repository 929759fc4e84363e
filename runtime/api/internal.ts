/**
 * The API's side of the contract with the Worker runtime: building requests
 * and initialize arguments from the wire, and checking responses before they
 * go back. Not part of the public API (`mod.ts` does not re-export it); model
 * code has no use for it.
 *
 * @module
 */

import { modelConfigFromJson } from "../model_config/from_json.ts";
import { AutoCompleteConfig } from "./auto_complete.ts";
import { ErrorCode, TritonError } from "./error.ts";
import type { InitializeArgs } from "./model.ts";
import { InferenceRequest, type RequestInit } from "./request.ts";
import { ResponseSender, type ResponseSenderInit } from "./response_sender.ts";

export type { ArenaAllocation, ArenaAllocator, RequestInit } from "./request.ts";
export { checkResponse } from "./check_response.ts";
export type { CheckedResponse, WireOutput } from "./check_response.ts";
export { tensorFromWire } from "./wire_tensor.ts";
export { snapshotTensor } from "./tensor.ts";
export type { TensorSnapshot } from "./tensor.ts";
export { snapshotResponse } from "./response.ts";
export type { ResponseSnapshot } from "./response.ts";
export { checkParameters, parametersFromWire, parametersToWire } from "./parameters.ts";
export { droppedLogLines, setLogSink } from "./logger.ts";
export type { LogSink } from "./logger.ts";
export { drainMetricOps, METRIC_KIND_CODES } from "./metrics.ts";
export type { ResponseChecker, ResponseSenderInit, ResponseTransport } from "./response_sender.ts";
export { setBlsTransport } from "./bls.ts";
export type {
  BlsCall,
  BlsResponseHandler,
  BlsTransport,
  BlsWireRequest,
  BlsWireResponse,
  BlsWireTensor,
  ModelLoadWire,
  ModelUnloadWire,
} from "./bls.ts";

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
export function makeRequest(init: RequestInit): InferenceRequest {
  return new InferenceRequest(init);
}

/**
 * Builds the response sender of one request.
 *
 * @example
 * ```ts
 * import { checkResponse, makeResponseSender } from "./internal.ts";
 * import { InferenceResponse } from "./response.ts";
 * import { parseModelConfigText } from "../model_config/mod.ts";
 *
 * const config = parseModelConfigText('output [{ name: "Y" data_type: TYPE_FP32 dims: [1] }]');
 * const sent: boolean[] = [];
 * const sender = makeResponseSender({
 *   requestId: "r1",
 *   requestIndex: 0,
 *   transport: (_index, _response, final) => sent.push(final),
 *   isCancelled: () => false,
 *   checker: (response) => checkResponse(response, config, []),
 * });
 * sender.send(new InferenceResponse([]));
 * sender.close();
 * console.log(sent); // [false, true]
 * ```
 */
export function makeResponseSender(init: ResponseSenderInit): ResponseSender {
  return new ResponseSender(init);
}

/**
 * Wraps Triton's JSON model configuration for a model's static
 * `autoCompleteConfig`; afterwards, `JSON.stringify(config.config)` is the
 * completed configuration to hand back to Triton.
 *
 * @throws {TritonError} `INVALID_ARG` if the JSON is not a model configuration.
 *
 * @example
 * ```ts
 * import { makeAutoCompleteConfig } from "./internal.ts";
 *
 * const config = makeAutoCompleteConfig('{"name":"m","max_batch_size":0,"input":[],"output":[]}');
 * config.setMaxBatchSize(4);
 * console.log(JSON.stringify(config.config)); // {"name":"m","max_batch_size":4,"input":[],"output":[]}
 * ```
 */
export function makeAutoCompleteConfig(modelConfigJson: string): AutoCompleteConfig {
  return new AutoCompleteConfig(modelConfigJson);
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
    modelConfig = modelConfigFromJson(init.modelConfigJson);
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
