/**
 * Auto-completing a model's configuration: before loading, the runtime calls
 * the model class's static `autoCompleteConfig(config)`, which may fill in
 * what config.pbtxt left out (batch size, inputs, outputs, dynamic batching,
 * the transaction policy). The checks mirror python_backend's
 * `auto_complete_config`: the model may add to the configuration, not
 * contradict it.
 *
 * @module
 */

import { DATA_TYPE_NAMES, type DataTypeName, isDataTypeName } from "./datatype.ts";
import { describeValue } from "./describe.ts";
import { ErrorCode, TritonError } from "./error.ts";
import { MAX_RANK } from "./limits.ts";

/**
 * One input or output in Triton's JSON model configuration.
 *
 * @example
 * ```ts
 * import type { TensorConfigJson } from "@triton/deno";
 *
 * const input: TensorConfigJson = { name: "INPUT0", data_type: "TYPE_FP32", dims: [4] };
 * console.log(input.data_type);
 * ```
 */
export interface TensorConfigJson {
  /** The tensor's name. */
  name: string;
  /** config.pbtxt's spelling of the datatype: `"TYPE_FP32"`, `"TYPE_STRING"`, ... */
  data_type?: string;
  /** The dimensions without the batch dimension; -1 for a variable size. */
  dims?: number[];
  /** Inputs only: whether a request may leave it out. */
  optional?: boolean;
  /** Fields this API does not change are kept as they are. */
  [field: string]: unknown;
}

/**
 * Triton's JSON model configuration (snake_case field names, as Triton gives
 * it to a backend and takes it back).
 *
 * @example
 * ```ts
 * import type { ModelConfigJson } from "@triton/deno";
 *
 * const config: ModelConfigJson = { name: "m", max_batch_size: 8, input: [], output: [] };
 * console.log(config.max_batch_size); // 8
 * ```
 */
export interface ModelConfigJson {
  /** The model's name. */
  name?: string;
  /** Largest batch the model accepts; 0 when it does not batch. */
  max_batch_size?: number;
  /** The inputs. */
  input?: TensorConfigJson[];
  /** The outputs. */
  output?: TensorConfigJson[];
  /** Present (an object) when Triton batches requests dynamically. */
  dynamic_batching?: Record<string, unknown>;
  /** Set `decoupled` for models that send any number of responses per request. */
  model_transaction_policy?: { decoupled?: boolean; [field: string]: unknown };
  /** Every other field is kept as it is. */
  [field: string]: unknown;
}

/**
 * An input to add with {@linkcode AutoCompleteConfig.addInput}.
 *
 * @example
 * ```ts
 * import type { TensorSpec } from "@triton/deno";
 *
 * const spec: TensorSpec = { name: "INPUT0", dataType: "FP32", dims: [-1, 4] };
 * console.log(spec.dims.length); // 2
 * ```
 */
export interface TensorSpec {
  /** The tensor's name. */
  readonly name: string;
  /** The datatype: a {@linkcode DataTypeName} such as `"FP32"`, or config.pbtxt's `"TYPE_FP32"`. */
  readonly dataType: DataTypeName | `TYPE_${string}`;
  /** The dimensions without the batch dimension: positive integers, or -1 for a variable size. */
  readonly dims: readonly number[];
}

/**
 * An input to add: a {@linkcode TensorSpec}, optionally optional.
 *
 * @example
 * ```ts
 * import type { InputSpec } from "@triton/deno";
 *
 * const spec: InputSpec = { name: "MASK", dataType: "BOOL", dims: [-1], optional: true };
 * console.log(spec.optional); // true
 * ```
 */
export interface InputSpec extends TensorSpec {
  /** Whether requests may leave the input out. */
  readonly optional?: boolean;
}

/**
 * The argument of {@linkcode AutoCompleteConfig.setModelTransactionPolicy}.
 *
 * @example
 * ```ts
 * import type { TransactionPolicy } from "@triton/deno";
 *
 * const policy: TransactionPolicy = { decoupled: true };
 * console.log(policy.decoupled); // true
 * ```
 */
export interface TransactionPolicy {
  /** Whether the model sends any number of responses per request. */
  readonly decoupled?: boolean;
}

// Triton's model configuration stores max_batch_size as an int32.
const MAX_BATCH_SIZE = 2 ** 31 - 1;

/**
 * The configuration a model's static `autoCompleteConfig` completes. Each
 * method checks that it adds to config.pbtxt without contradicting it, as
 * python_backend's `auto_complete_config` does, and throws a
 * {@linkcode TritonError} (`INVALID_ARG`) naming the model and the field
 * otherwise; that fails the model's load with the message.
 *
 * @example A model that declares its own inputs and outputs
 * ```ts
 * import { type AutoCompleteConfig, type InferenceRequest, InferenceResponse, type Model } from "@triton/deno";
 *
 * export default class Doubler implements Model {
 *   static autoCompleteConfig(config: AutoCompleteConfig): void {
 *     config.setMaxBatchSize(8);
 *     config.setDynamicBatching();
 *     config.addInput({ name: "INPUT0", dataType: "FP32", dims: [4] });
 *     config.addOutput({ name: "OUTPUT0", dataType: "FP32", dims: [4] });
 *   }
 *
 *   execute(requests: InferenceRequest[]): InferenceResponse[] {
 *     return requests.map((request) => {
 *       const input = request.input("INPUT0", "FP32");
 *       const output = request.allocateOutput("OUTPUT0", "FP32", input.shape);
 *       input.data.forEach((value, i) => (output.data[i] = 2 * value));
 *       return new InferenceResponse([output]);
 *     });
 *   }
 * }
 * ```
 */
export class AutoCompleteConfig {
  readonly #config: ModelConfigJson;

  /**
   * @param config Triton's JSON model configuration, as text or as an
   * object (copied either way).
   * @throws {TritonError} `INVALID_ARG` if it is not a JSON object, or its
   * `input`, `output`, `max_batch_size` or `model_transaction_policy` have
   * the wrong form.
   */
  constructor(config: string | ModelConfigJson) {
    let value: unknown = config;
    if (typeof config === "string") {
      try {
        value = JSON.parse(config);
      } catch (error) {
        throw invalid(`the model configuration is not valid JSON: ${(error as Error).message}`);
      }
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw invalid(`the model configuration must be a JSON object, got ${describeValue(value)}`);
    }
    const copy = structuredClone(value) as ModelConfigJson;
    this.#config = normalize(copy);
  }

  /**
   * The configuration as it now stands, in Triton's JSON form (a copy:
   * changing it changes nothing here).
   *
   * @example
   * ```ts
   * import { AutoCompleteConfig } from "@triton/deno";
   *
   * const config = new AutoCompleteConfig({ name: "m" });
   * config.setMaxBatchSize(4);
   * console.log(config.config.max_batch_size); // 4
   * ```
   */
  get config(): ModelConfigJson {
    return structuredClone(this.#config);
  }

  /**
   * Sets `max_batch_size`.
   *
   * @param maxBatchSize A non-negative integer (0: the model does not batch).
   * @throws {TritonError} `INVALID_ARG` if it is not a non-negative int32, or
   * config.pbtxt already sets a larger value (as in python_backend, a
   * smaller configured value may be raised, never lowered).
   */
  setMaxBatchSize(maxBatchSize: number): void {
    if (!Number.isSafeInteger(maxBatchSize) || maxBatchSize < 0 || maxBatchSize > MAX_BATCH_SIZE) {
      throw invalid(
        `${this.#model()}: max_batch_size must be an integer in [0, ${MAX_BATCH_SIZE}], got ${
          describeValue(maxBatchSize)
        }`,
      );
    }
    const current = this.#config.max_batch_size ?? 0;
    if (current > maxBatchSize) {
      throw invalid(
        `configuration specified max_batch_size ${current}, but the auto-complete of ` +
          `${this.#model()} specified max_batch_size ${maxBatchSize}`,
      );
    }
    this.#config.max_batch_size = maxBatchSize;
  }

  /**
   * Makes Triton batch requests dynamically (`dynamic_batching {}`), unless
   * it already does.
   *
   * @throws {TritonError} `INVALID_ARG` if config.pbtxt chose another
   * scheduler (`sequence_batching` or `ensemble_scheduling`).
   */
  setDynamicBatching(): void {
    for (const scheduler of ["sequence_batching", "ensemble_scheduling"]) {
      if (this.#config[scheduler] !== undefined) {
        throw invalid(
          `configuration specified scheduling_choice as '${scheduler}', but the auto-complete ` +
            `of ${this.#model()} tries to set it to 'dynamic_batching'`,
        );
      }
    }
    if (this.#config.dynamic_batching === undefined) this.#config.dynamic_batching = {};
  }

  /**
   * Adds an input, or completes the one of the same name in config.pbtxt.
   *
   * @throws {TritonError} `INVALID_ARG` if the spec is malformed, or an input
   * of that name exists with another datatype, other (non-empty) dims, or
   * another `optional`.
   */
  addInput(spec: InputSpec): void {
    const tensor = this.#tensor("input", spec, true);
    const list = this.#config.input ??= [];
    const existing = list.find((item) => item.name === tensor.name);
    if (existing === undefined) {
      list.push(tensor);
      return;
    }
    this.#checkCompatible("input", existing, tensor);
    if (
      existing.optional !== undefined && tensor.optional !== undefined &&
      existing.optional !== tensor.optional
    ) {
      throw invalid(
        `${this.#model()}, tensor '${tensor.name}': the model expects optional ` +
          `${tensor.optional} but the model configuration specifies optional ${existing.optional}`,
      );
    }
    existing.data_type = tensor.data_type;
    existing.dims = tensor.dims;
    if (tensor.optional !== undefined) existing.optional = tensor.optional;
  }

  /**
   * Adds an output, or completes the one of the same name in config.pbtxt.
   *
   * @throws {TritonError} `INVALID_ARG` if the spec is malformed, or an
   * output of that name exists with another datatype or other (non-empty)
   * dims.
   */
  addOutput(spec: TensorSpec): void {
    const tensor = this.#tensor("output", spec, false);
    const list = this.#config.output ??= [];
    const existing = list.find((item) => item.name === tensor.name);
    if (existing === undefined) {
      list.push(tensor);
      return;
    }
    this.#checkCompatible("output", existing, tensor);
    existing.data_type = tensor.data_type;
    existing.dims = tensor.dims;
  }

  /**
   * Sets `model_transaction_policy`.
   *
   * @throws {TritonError} `INVALID_ARG` if the policy has a key other than
   * `decoupled`, or config.pbtxt already sets `decoupled` differently.
   */
  setModelTransactionPolicy(policy: TransactionPolicy): void {
    if (typeof policy !== "object" || policy === null || Array.isArray(policy)) {
      throw invalid(
        `${this.#model()}: the transaction policy must be { decoupled?: boolean }, got ${
          describeValue(policy)
        }`,
      );
    }
    for (const key of Object.keys(policy)) {
      if (key !== "decoupled") {
        throw invalid(
          `${this.#model()}: the transaction policy may only have 'decoupled', got '${key}'`,
        );
      }
    }
    const decoupled: unknown = policy.decoupled;
    if (decoupled !== undefined && typeof decoupled !== "boolean") {
      throw invalid(
        `${this.#model()}: 'decoupled' must be a boolean, got ${describeValue(decoupled)}`,
      );
    }
    const current = this.#config.model_transaction_policy ??= {};
    if (decoupled === undefined) return;
    if (current.decoupled !== undefined && current.decoupled !== decoupled) {
      throw invalid(
        `${this.#model()}: cannot change 'decoupled' to ${decoupled}; the configuration ` +
          `already sets it to ${current.decoupled}`,
      );
    }
    current.decoupled = decoupled;
  }

  #model(): string {
    const name = this.#config.name;
    return typeof name === "string" && name !== "" ? `model '${name}'` : "the model";
  }

  #tensor(kind: "input" | "output", spec: unknown, allowOptional: boolean): TensorConfigJson {
    const model = this.#model();
    if (typeof spec !== "object" || spec === null || Array.isArray(spec)) {
      throw invalid(
        `${model}: add${capital(kind)} needs { name, dataType, dims }, got ${describeValue(spec)}`,
      );
    }
    const record = spec as Record<string, unknown>;
    const name = record.name;
    if (typeof name !== "string" || name === "") {
      throw invalid(`${model}: an ${kind} needs a non-empty name, got ${describeValue(name)}`);
    }
    const owner = `${model}, ${kind} '${name}'`;
    const allowed = allowOptional
      ? ["name", "dataType", "dims", "optional"]
      : ["name", "dataType", "dims"];
    for (const key of Object.keys(record)) {
      if (!allowed.includes(key)) {
        throw invalid(`${owner}: unknown property '${key}'; allowed: ${allowed.join(", ")}`);
      }
    }
    const dataType = configTypeName(record.dataType, owner);
    const dims = checkDims(record.dims, owner);
    const tensor: TensorConfigJson = { name, data_type: dataType, dims };
    if (record.optional !== undefined) {
      if (typeof record.optional !== "boolean") {
        throw invalid(
          `${owner}: 'optional' must be a boolean, got ${describeValue(record.optional)}`,
        );
      }
      tensor.optional = record.optional;
    }
    return tensor;
  }

  #checkCompatible(kind: string, existing: TensorConfigJson, tensor: TensorConfigJson): void {
    const configured = existing.data_type ?? "TYPE_INVALID";
    if (configured !== "TYPE_INVALID" && configured !== tensor.data_type) {
      throw invalid(
        `${this.#model()}: the configuration expects datatype ${configured} for ${kind} ` +
          `'${tensor.name}', the model provides ${tensor.data_type}`,
      );
    }
    const dims = existing.dims ?? [];
    if (dims.length > 0 && !sameDims(dims, tensor.dims ?? [])) {
      throw invalid(
        `${this.#model()}, tensor '${tensor.name}': the model expects dims ` +
          `[${tensor.dims?.join(", ")}] but the model configuration specifies dims [${
            dims.join(", ")
          }]`,
      );
    }
  }
}

/** Checks the fields this class works on and fills in the defaults Triton assumes. */
function normalize(config: ModelConfigJson): ModelConfigJson {
  const batch = config.max_batch_size;
  if (batch === undefined) config.max_batch_size = 0;
  else if (!Number.isSafeInteger(batch) || batch < 0) {
    throw invalid(
      `the configuration's max_batch_size must be a non-negative integer, got ${
        describeValue(batch)
      }`,
    );
  }
  for (const field of ["input", "output"] as const) {
    const list = config[field];
    if (list === undefined) {
      config[field] = [];
      continue;
    }
    if (!Array.isArray(list)) {
      throw invalid(`the configuration's '${field}' must be an array, got ${describeValue(list)}`);
    }
    list.forEach((item: unknown, index) => {
      if (
        typeof item !== "object" || item === null ||
        typeof (item as TensorConfigJson).name !== "string"
      ) {
        throw invalid(`the configuration's ${field} ${index} must be an object with a name`);
      }
      const tensor = item as TensorConfigJson;
      if (tensor.dims === undefined) return;
      // Canonical protobuf JSON writes int64 dims as strings; Triton writes numbers.
      const dims: unknown[] = Array.isArray(tensor.dims) ? tensor.dims : [undefined];
      tensor.dims = dims.map((dim) => {
        const number = typeof dim === "string" && /^-?[0-9]+$/.test(dim) ? Number(dim) : dim;
        if (typeof number !== "number" || !Number.isSafeInteger(number)) {
          throw invalid(
            `the configuration's ${field} '${tensor.name}' has dims that are not integers`,
          );
        }
        return number;
      });
    });
  }
  const policy = config.model_transaction_policy;
  if (
    policy !== undefined && (typeof policy !== "object" || policy === null || Array.isArray(policy))
  ) {
    throw invalid(
      `the configuration's model_transaction_policy must be an object, got ${
        describeValue(policy)
      }`,
    );
  }
  return config;
}

/** config.pbtxt's spelling (`TYPE_FP32`) of a DataTypeName or of a `TYPE_*` name. */
function configTypeName(value: unknown, owner: string): string {
  if (isDataTypeName(value)) return value === "BYTES" ? "TYPE_STRING" : `TYPE_${value}`;
  if (typeof value === "string" && value.startsWith("TYPE_")) {
    const name = value.slice("TYPE_".length);
    if (name === "STRING" || (name !== "BYTES" && isDataTypeName(name))) return value;
  }
  throw invalid(
    `${owner}: unknown dataType ${describeValue(value)}; use one of ${DATA_TYPE_NAMES.join(", ")}`,
  );
}

function checkDims(value: unknown, owner: string): number[] {
  if (!Array.isArray(value)) {
    throw invalid(`${owner}: dims must be an array of integers, got ${describeValue(value)}`);
  }
  if (value.length > MAX_RANK) {
    throw invalid(`${owner}: ${value.length} dims; the limit is ${MAX_RANK}`);
  }
  return value.map((dim: unknown, index) => {
    if (typeof dim !== "number" || !Number.isSafeInteger(dim) || (dim < 1 && dim !== -1)) {
      throw invalid(
        `${owner}: dimension ${index} must be a positive integer or -1, got ${describeValue(dim)}`,
      );
    }
    return dim;
  });
}

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((dim, i) => dim === b[i]);
}

function capital(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function invalid(message: string): TritonError {
  return new TritonError(message, ErrorCode.INVALID_ARG);
}
