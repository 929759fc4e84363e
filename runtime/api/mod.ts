/**
 * The model API of Triton's Deno backend, imported by models as
 * `"@triton/deno"`: the TypeScript counterpart of python_backend's
 * `triton_python_backend_utils`.
 *
 * A model is a directory in Triton's model repository with a `config.pbtxt`
 * (`backend: "deno"`) and a version folder holding `model.ts`, whose default
 * export is a class implementing {@linkcode Model}: optional `initialize`,
 * required `execute` (one {@linkcode InferenceResponse} per
 * {@linkcode InferenceRequest}, in order), optional `finalize`.
 *
 * @example models/add_sub/1/model.ts
 * ```ts
 * import { type InferenceRequest, InferenceResponse, type Model } from "@triton/deno";
 *
 * export default class AddSub implements Model {
 *   execute(requests: InferenceRequest[]): InferenceResponse[] {
 *     return requests.map((request) => {
 *       const a = request.input("INPUT0", "FP32");
 *       const b = request.input("INPUT1", "FP32");
 *       const sum = request.allocateOutput("OUTPUT0", "FP32", a.shape);
 *       const difference = request.allocateOutput("OUTPUT1", "FP32", a.shape);
 *       for (let i = 0; i < a.data.length; i++) {
 *         sum.data[i] = a.data[i] + b.data[i];
 *         difference.data[i] = a.data[i] - b.data[i];
 *       }
 *       return new InferenceResponse([sum, difference]);
 *     });
 *   }
 * }
 * ```
 *
 * @module
 */

export { decodeBytesTensor, encodeBytesTensor } from "./bytes.ts";
export {
  configDataTypeName,
  DATA_TYPE_NAMES,
  dataTypeArrayType,
  dataTypeByteSize,
  dataTypeCode,
  dataTypeFromCode,
  dataTypeFromConfig,
  dataTypeToConfig,
  isDataTypeName,
} from "./datatype.ts";
export type {
  DataTypeName,
  FixedSizeDataTypeName,
  TensorArrayConstructor,
  TensorData,
  TensorDataMap,
} from "./datatype.ts";
export { ErrorCode, TritonError } from "./error.ts";
export type { ExecuteResult, InitializeArgs, Model, ModelClass } from "./model.ts";
export type { InferenceRequest } from "./request.ts";
export { RequestFlags } from "./request.ts";
export { InferenceResponse } from "./response.ts";
export type { InferenceResponseOptions } from "./response.ts";
export { Tensor } from "./tensor.ts";
export type { TensorValues } from "./values.ts";
export { MAX_PARAMETER_STRING_BYTES, MAX_PARAMETERS } from "./parameters.ts";
export type { InferenceParameters, ParameterValue } from "./parameters.ts";
export type { ResponseSender, SendOptions } from "./response_sender.ts";
export { logger, LogLevel } from "./logger.ts";
export type { Logger } from "./logger.ts";
export { Metric, MetricFamily } from "./metrics.ts";
export type {
  HistogramValue,
  MetricFamilyOptions,
  MetricKind,
  MetricOptions,
  MetricValue,
} from "./metrics.ts";
export { BlsRequest, models } from "./bls.ts";
export type {
  BlsCallOptions,
  BlsRequestOptions,
  BlsResponse,
  ModelControl,
  ModelLoadOptions,
  ModelUnloadOptions,
} from "./bls.ts";
export { AutoCompleteConfig } from "./auto_complete.ts";
export type {
  InputSpec,
  ModelConfigJson,
  TensorConfigJson,
  TensorSpec,
  TransactionPolicy,
} from "./auto_complete.ts";
// The configuration types a model meets in `InitializeArgs.modelConfig`.
export { DataType } from "../model_config/data_type.ts";
export type {
  ModelConfig,
  ModelInput,
  ModelOutput,
  ModelParameter,
} from "../model_config/config.ts";
