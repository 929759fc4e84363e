/**
 * The facts about a model's inputs and outputs that request validation,
 * metadata and batching need, computed once from its configuration.
 *
 * @module
 */

import { dataTypeFromConfig, type DataTypeName } from "../api/datatype.ts";
import type { ModelConfig } from "../model_config/mod.ts";

/** One input as the configuration declares it. */
export interface InputSignature {
  /** The input's name. */
  readonly name: string;
  /** Its datatype in protocol spelling (`"FP32"`, `"BYTES"`, ...). */
  readonly datatype: DataTypeName;
  /** Its dims without the batch dimension; -1 means any size. */
  readonly dims: readonly number[];
  /** The shape the model sees instead (without batch dimension), if the config reshapes. */
  readonly reshape: readonly number[] | undefined;
  /** Whether a request may leave it out. */
  readonly optional: boolean;
  /** Whether requests of different shapes may share a batch. */
  readonly allowRaggedBatch: boolean;
}

/** One output as the configuration declares it. */
export interface OutputSignature {
  /** The output's name. */
  readonly name: string;
  /** Its datatype in protocol spelling. */
  readonly datatype: DataTypeName;
  /** Its dims without the batch dimension. */
  readonly dims: readonly number[];
}

/** A model's interface. */
export interface ModelSignature {
  /** The model's name. */
  readonly name: string;
  /** `config.platform`, or the backend's name when the platform is empty (as Triton reports it). */
  readonly platform: string;
  /** 0 when the model does not batch; else the largest batch. */
  readonly maxBatchSize: number;
  /** Inputs in config order. */
  readonly inputs: readonly InputSignature[];
  /** Inputs by name. */
  readonly inputsByName: ReadonlyMap<string, InputSignature>;
  /** Outputs in config order. */
  readonly outputs: readonly OutputSignature[];
  /** Outputs by name. */
  readonly outputsByName: ReadonlyMap<string, OutputSignature>;
  /** Whether the model is decoupled (any number of responses per request). */
  readonly decoupled: boolean;
}

/**
 * Derives a model's signature from its configuration.
 *
 * @throws {Error} If a datatype is invalid (the model cannot be served).
 *
 * @example
 * ```ts
 * import { modelSignature } from "./model_signature.ts";
 * import { parseModelConfigText } from "../model_config/mod.ts";
 *
 * const signature = modelSignature(parseModelConfigText(
 *   'name: "m" backend: "deno" input { name: "X" data_type: TYPE_FP32 dims: [4] }',
 * ));
 * console.log(signature.inputs[0].datatype, signature.platform); // "FP32" "deno"
 * ```
 */
export function modelSignature(config: ModelConfig): ModelSignature {
  const inputs = config.input.map((input): InputSignature => ({
    name: input.name,
    datatype: datatypeOf(config.name, input.name, input.dataType),
    dims: input.dims.map(Number),
    reshape: input.reshape ? input.reshape.shape.map(Number) : undefined,
    optional: input.optional,
    allowRaggedBatch: input.allowRaggedBatch,
  }));
  const outputs = config.output.map((output): OutputSignature => ({
    name: output.name,
    datatype: datatypeOf(config.name, output.name, output.dataType),
    dims: output.dims.map(Number),
  }));
  return {
    name: config.name,
    platform: config.platform !== "" ? config.platform : config.backend,
    maxBatchSize: config.maxBatchSize,
    inputs,
    inputsByName: new Map(inputs.map((input) => [input.name, input])),
    outputs,
    outputsByName: new Map(outputs.map((output) => [output.name, output])),
    decoupled: config.modelTransactionPolicy?.decoupled ?? false,
  };
}

function datatypeOf(model: string, tensor: string, type: number): DataTypeName {
  const datatype = dataTypeFromConfig(type);
  if (datatype === undefined) {
    throw new Error(`model '${model}': tensor '${tensor}' has an invalid data_type`);
  }
  return datatype;
}
