/**
 * An ensemble's data flow, read from `ensemble_scheduling` and checked once
 * at load: which tensors each step reads and writes, that every tensor a
 * step reads is an ensemble input or some step's output, that each tensor is
 * written once, and that every step can run. Also the shape rule Triton uses
 * when a tensor passes between a batching and a non-batching model.
 *
 * @module
 */

import type { ModelConfig } from "../model_config/mod.ts";
import type { ModelSignature } from "./model_signature.ts";

/** One step: a model and how its tensors map to the ensemble's. */
export interface EnsembleStep {
  /** 1-based position in `ensemble_scheduling.step`, for messages. */
  readonly number: number;
  /** The composing model. */
  readonly modelName: string;
  /** Its version; `undefined` for the latest (`model_version: -1`). */
  readonly modelVersion: number | undefined;
  /** Model input name → ensemble tensor name. */
  readonly inputMap: ReadonlyMap<string, string>;
  /** Model output name → ensemble tensor name. */
  readonly outputMap: ReadonlyMap<string, string>;
}

/** A checked ensemble. */
export interface EnsemblePlan {
  /** The ensemble's name. */
  readonly name: string;
  /** Its steps in config order. */
  readonly steps: readonly EnsembleStep[];
}

/** Whether a config describes an ensemble. */
export function isEnsemble(config: ModelConfig): boolean {
  return config.platform === "ensemble" || config.schedulingChoice.case === "ensembleScheduling";
}

/**
 * Reads and checks an ensemble's steps.
 *
 * @throws {Error} Naming the step and tensor: no steps, a step without a
 * model, an unmapped step, a tensor written twice, a tensor nobody writes,
 * an ensemble output no step produces, a step that can never run (a cycle).
 *
 * @example
 * ```ts
 * import { ensemblePlan } from "./ensemble_plan.ts";
 * import { parseModelConfigText } from "../model_config/mod.ts";
 *
 * const config = parseModelConfigText(`name: "e" platform: "ensemble"
 *   input [{ name: "A" data_type: TYPE_FP32 dims: [4] }]
 *   output [{ name: "B" data_type: TYPE_FP32 dims: [4] }]
 *   ensemble_scheduling { step [{ model_name: "m" model_version: -1
 *     input_map { key: "X" value: "A" } output_map { key: "Y" value: "B" } }] }`);
 * console.log(ensemblePlan(config).steps[0].modelName); // "m"
 * ```
 */
export function ensemblePlan(config: ModelConfig): EnsemblePlan {
  const name = config.name;
  if (config.platform !== "ensemble") {
    throw new Error(
      `ensemble scheduling cannot be set for model '${name}' whose platform is not ensemble`,
    );
  }
  if (config.schedulingChoice.case !== "ensembleScheduling") {
    throw new Error(`ensemble '${name}' must specify ensemble_scheduling`);
  }
  const rawSteps = config.schedulingChoice.value.step;
  if (rawSteps.length === 0) throw new Error(`ensemble '${name}' must have at least one step`);

  const steps: EnsembleStep[] = rawSteps.map((step, index) => {
    const where = `ensemble '${name}' step ${index + 1}`;
    if (step.modelName === "") throw new Error(`${where} must specify model_name`);
    const inputMap = new Map(Object.entries(step.inputMap));
    const outputMap = new Map(Object.entries(step.outputMap));
    if (inputMap.size === 0) {
      throw new Error(`${where} (model '${step.modelName}') has no input_map`);
    }
    if (outputMap.size === 0) {
      throw new Error(`${where} (model '${step.modelName}') has no output_map`);
    }
    const version = Number(step.modelVersion);
    return {
      number: index + 1,
      modelName: step.modelName,
      modelVersion: version < 0 ? undefined : version,
      inputMap,
      outputMap,
    };
  });

  const inputs = new Set(config.input.map((input) => input.name));
  const producer = new Map<string, EnsembleStep>();
  for (const step of steps) {
    for (const tensor of step.outputMap.values()) {
      const other = producer.get(tensor);
      if (inputs.has(tensor)) {
        throw new Error(
          `ensemble '${name}' step ${step.number} (model '${step.modelName}') writes ` +
            `ensemble input '${tensor}'`,
        );
      }
      if (other !== undefined) {
        throw new Error(
          `ensemble '${name}': tensor '${tensor}' is written by step ${other.number} ` +
            `(model '${other.modelName}') and step ${step.number} (model '${step.modelName}')`,
        );
      }
      producer.set(tensor, step);
    }
  }
  for (const step of steps) {
    for (const [modelInput, tensor] of step.inputMap) {
      if (!inputs.has(tensor) && !producer.has(tensor)) {
        throw new Error(
          `ensemble '${name}' step ${step.number} (model '${step.modelName}') reads tensor ` +
            `'${tensor}' (for input '${modelInput}'), which is neither an ensemble input nor ` +
            "an output of any step",
        );
      }
    }
  }
  for (const output of config.output) {
    if (!producer.has(output.name)) {
      throw new Error(`ensemble '${name}': no step produces ensemble output '${output.name}'`);
    }
  }
  const runnable = runOrder(steps, inputs);
  const stuck = steps.find((step) => !runnable.has(step));
  if (stuck !== undefined) {
    throw new Error(
      `ensemble '${name}' step ${stuck.number} (model '${stuck.modelName}') can never run: ` +
        "its inputs depend on its own outputs",
    );
  }
  return { name, steps };
}

/** The steps that can run from `available` tensors on, in data-flow order. */
function runOrder(
  steps: readonly EnsembleStep[],
  available: ReadonlySet<string>,
): Set<EnsembleStep> {
  const have = new Set(available);
  const ran = new Set<EnsembleStep>();
  let progress = true;
  while (progress) {
    progress = false;
    for (const step of steps) {
      if (ran.has(step) || ![...step.inputMap.values()].every((t) => have.has(t))) continue;
      ran.add(step);
      for (const tensor of step.outputMap.values()) have.add(tensor);
      progress = true;
    }
  }
  return ran;
}

/**
 * The steps needed for `outputs`: those producing them, and transitively
 * the producers of what those read (Triton skips the others).
 */
export function neededSteps(plan: EnsemblePlan, outputs: Iterable<string>): Set<EnsembleStep> {
  const wanted = new Set(outputs);
  const needed = new Set<EnsembleStep>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const step of plan.steps) {
      if (needed.has(step)) continue;
      if (![...step.outputMap.values()].some((tensor) => wanted.has(tensor))) continue;
      needed.add(step);
      for (const tensor of step.inputMap.values()) wanted.add(tensor);
      grew = true;
    }
  }
  return needed;
}

/**
 * Checks the steps against their models (which must be loaded): each mapped
 * input and output exists, and every ensemble tensor has one datatype
 * wherever it is used.
 *
 * @throws {Error} Naming the step, the model and the tensor.
 */
export function checkStepModels(
  plan: EnsemblePlan,
  ensemble: ModelSignature,
  signatureOf: (step: EnsembleStep) => ModelSignature,
): void {
  const types = new Map<string, [string, string]>(); // tensor → [datatype, where]
  const note = (tensor: string, datatype: string, where: string) => {
    const known = types.get(tensor);
    if (known === undefined) {
      types.set(tensor, [datatype, where]);
    } else if (known[0] !== datatype) {
      throw new Error(
        `in ensemble '${plan.name}', ensemble tensor '${tensor}': inconsistent data type: ` +
          `${known[0]} is inferred from ${known[1]} while ${datatype} is inferred from ${where}`,
      );
    }
  };
  for (const input of ensemble.inputs) note(input.name, input.datatype, `ensemble '${plan.name}'`);
  for (const output of ensemble.outputs) {
    note(output.name, output.datatype, `ensemble '${plan.name}'`);
  }
  for (const step of plan.steps) {
    const signature = signatureOf(step);
    const where = `model '${step.modelName}'`;
    if (signature.decoupled) {
      throw new Error(
        `in ensemble '${plan.name}', step ${step.number}: model '${step.modelName}' is ` +
          "decoupled, which this server does not run inside an ensemble",
      );
    }
    for (const [modelInput, tensor] of step.inputMap) {
      const input = signature.inputsByName.get(modelInput);
      if (input === undefined) {
        throw new Error(
          `in ensemble '${plan.name}', step ${step.number}: model '${step.modelName}' has no ` +
            `input '${modelInput}'`,
        );
      }
      note(tensor, input.datatype, where);
    }
    for (const [modelOutput, tensor] of step.outputMap) {
      const output = signature.outputsByName.get(modelOutput);
      if (output === undefined) {
        throw new Error(
          `in ensemble '${plan.name}', step ${step.number}: model '${step.modelName}' has no ` +
            `output '${modelOutput}'`,
        );
      }
      note(tensor, output.datatype, where);
    }
  }
}

/**
 * Triton's `ReshapeTensorDims`: a tensor passing between a batching and a
 * non-batching model gains a leading 1 (if its shape already fits the
 * batching side's config dims) or loses a leading batch of 1 (if it does not
 * fit the non-batching side's dims as is).
 *
 * @param configDims The receiving side's config dims (no batch dimension).
 * @param batching Whether the receiving side batches.
 * @param tensorBatch The producing side's batch size (0 when it does not batch).
 * @param dims The tensor's full shape.
 *
 * @example
 * ```ts
 * import { reshapeForBatching } from "./ensemble_plan.ts";
 *
 * console.log(reshapeForBatching([4], true, 0, [4])); // [1, 4]
 * console.log(reshapeForBatching([4], false, 1, [1, 4])); // [4]
 * ```
 */
export function reshapeForBatching(
  configDims: readonly number[],
  batching: boolean,
  tensorBatch: number,
  dims: readonly number[],
): number[] {
  if (batching !== (tensorBatch !== 0)) {
    if (batching) {
      if (fitsDims(configDims, dims)) return [1, ...dims];
    } else if (!fitsDims(configDims, dims) && tensorBatch === 1) {
      return dims.slice(1);
    }
  }
  return [...dims];
}

/** Whether `dims` matches `configDims`, -1 matching any size. */
export function fitsDims(configDims: readonly number[], dims: readonly number[]): boolean {
  return configDims.length === dims.length &&
    configDims.every((dim, i) => dim === -1 || dim === dims[i]);
}
