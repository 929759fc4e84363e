/**
 * Turns an HTTP inference request body (JSON header plus any binary tensor
 * data) into a validated {@linkcode InferRequest}, checking it against the
 * model's configuration the way Triton's core does: known inputs, every
 * required input present, datatypes, shapes with the batch dimension,
 * byte sizes, known outputs. Messages follow Triton's wording.
 *
 * @module
 */

import { countBytesElements } from "../api/bytes.ts";
import { dataTypeByteSize, isDataTypeName } from "../api/datatype.ts";
import { BinaryCursor, type SplitBody } from "./binary_body.ts";
import { ErrorCode, invalidArg, ServeError } from "./errors.ts";
import type { InputSignature, ModelSignature } from "./model_signature.ts";
import {
  InexactIntegerError,
  jsonToTensorBytes,
  markNonFiniteLiterals,
  parseJsonExact,
  reviveNonFinite,
} from "./tensor_json.ts";
import type { InferRequest, InputTensor, ParameterValue } from "./types.ts";

/** How the client wants each output returned. */
export interface OutputFormat {
  /** Whether outputs not named in `binary` come back as binary data. */
  readonly defaultBinary: boolean;
  /** Per output that set `binary_data`: `true` for binary data, `false` for JSON. */
  readonly binary: ReadonlyMap<string, boolean>;
  /** Outputs written into the client's shared memory: no data in the answer. */
  readonly sharedMemory?: ReadonlySet<string>;
}

/** A parsed request and how to format its response. */
export interface ParsedInferRequest {
  /** The request for the scheduler. */
  readonly request: InferRequest;
  /** How to return the outputs. */
  readonly format: OutputFormat;
}

/** How the request's `parameters` are read. */
export interface ParseOptions {
  /**
   * Whether `sequence_id`, `sequence_start`, `sequence_end`, `priority`,
   * `timeout` and `binary_data_output` are the server's own (as on
   * `/infer`, the default) rather than parameters for the model (as on
   * `/generate`, where Triton passes every key on to the model).
   */
  readonly reservedParameters?: boolean;
  /**
   * Whether the JSON was parsed exactly (integers beyond 2^53 are
   * `bigint`s): a number still beyond 2^53 was written as a float.
   */
  readonly exact?: boolean;
}

/** The largest value of an INT64 parameter. */
const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);

/** `TRITONSERVER_RequestFlag` values. */
const FLAG_SEQUENCE_START = 1;
const FLAG_SEQUENCE_END = 2;

const decoder = new TextDecoder("utf-8", { fatal: true });

type JsonObject = Record<string, unknown>;

/**
 * Parses and validates an inference request for `signature`'s model.
 *
 * @throws {ServeError} `INVALID_ARG` (HTTP 400) naming the problem.
 *
 * @example
 * ```ts
 * import { parseInferRequest } from "./infer_request.ts";
 * import { modelSignature } from "./model_signature.ts";
 * import { parseModelConfigText } from "../model_config/mod.ts";
 *
 * const signature = modelSignature(parseModelConfigText(
 *   'name: "m" input { name: "X" data_type: TYPE_INT32 dims: [2] } ' +
 *     'output { name: "Y" data_type: TYPE_INT32 dims: [2] }',
 * ));
 * const header = new TextEncoder().encode(
 *   '{"inputs":[{"name":"X","datatype":"INT32","shape":[2],"data":[1,2]}]}',
 * );
 * const { request } = parseInferRequest(signature, { header, binary: new Uint8Array() });
 * console.log(request.inputs[0].data.byteLength); // 8
 * ```
 */
export function parseInferRequest(
  signature: ModelSignature,
  body: SplitBody,
  options: ParseOptions = {},
): ParsedInferRequest {
  let text: string;
  try {
    text = decoder.decode(body.header);
  } catch {
    throw invalidArg("failed to parse the request JSON buffer: the text is not valid UTF-8");
  }
  let json: unknown = parseJson(text, false);
  try {
    return inferRequestFromJson(signature, json, body.binary, options);
  } catch (error) {
    if (!(error instanceof InexactIntegerError)) throw error;
    // A 64-bit integer lost precision in JSON.parse: parse again, keeping them exact.
    json = parseJson(text, true);
    return exactRequestFromJson(signature, json, body.binary, options);
  }
}

/**
 * {@linkcode inferRequestFromJson} for JSON parsed exactly: a 64-bit integer
 * input that still holds a number beyond 2^53 was written as a float (1e30).
 *
 * @throws {ServeError} `INVALID_ARG` for such a number, as for any bad input.
 */
export function exactRequestFromJson(
  signature: ModelSignature,
  json: unknown,
  binaryData: Uint8Array,
  options: ParseOptions = {},
): ParsedInferRequest {
  try {
    return inferRequestFromJson(signature, json, binaryData, { ...options, exact: true });
  } catch (error) {
    if (!(error instanceof InexactIntegerError)) throw error;
    throw invalidArg(`${error.message.replace(/; parse.*$/, "")}, written as a float`);
  }
}

/**
 * Parses the request JSON text, `exact` keeping integers beyond 2^53 as
 * `bigint`s.
 *
 * @throws {ServeError} `INVALID_ARG` when the text is not JSON.
 */
export function parseJson(text: string, exact: boolean): unknown {
  try {
    return exact ? parseJsonExact(text) : JSON.parse(text);
  } catch (first) {
    let error = first;
    // Triton reads NaN, Inf and Infinity (and their negatives) as numbers.
    const marked = error instanceof SyntaxError ? markNonFiniteLiterals(text) : undefined;
    if (marked !== undefined) {
      try {
        return exact
          ? parseJsonExact(marked)
          : JSON.parse(marked, (_key, value) => reviveNonFinite(value));
      } catch (second) {
        error = second;
      }
    }
    if (error instanceof RangeError) {
      throw invalidArg("failed to parse the request JSON buffer: it nests too deeply");
    }
    const detail = error instanceof Error ? error.message : String(error);
    throw invalidArg(`failed to parse the request JSON buffer: ${detail}`);
  }
}

/**
 * Validates an already parsed request object (the JSON header of an
 * inference request) for `signature`'s model; `binaryData` holds the tensor
 * bytes that follow the header.
 *
 * @throws {ServeError} `INVALID_ARG` (HTTP 400) naming the problem.
 * @throws {InexactIntegerError} When a 64-bit integer lost precision in
 * parsing (parse the text again with `exact`).
 *
 * @example
 * ```ts
 * import { inferRequestFromJson } from "./infer_request.ts";
 * import { modelSignature } from "./model_signature.ts";
 * import { parseModelConfigText } from "../model_config/mod.ts";
 *
 * const signature = modelSignature(parseModelConfigText(
 *   'name: "m" input { name: "X" data_type: TYPE_INT32 dims: [1] }',
 * ));
 * const json = { inputs: [{ name: "X", datatype: "INT32", shape: [1], data: [7] }] };
 * console.log(inferRequestFromJson(signature, json, new Uint8Array()).request.batchSize); // 1
 * ```
 */
export function inferRequestFromJson(
  signature: ModelSignature,
  json: unknown,
  binaryData: Uint8Array,
  options: ParseOptions = {},
): ParsedInferRequest {
  if (!isObject(json)) throw invalidArg("failed to parse the request JSON buffer: not an object");
  const model = signature.name;

  let id = "";
  if (json.id !== undefined) {
    if (typeof json.id !== "string") throw invalidArg("Unable to parse 'id'");
    id = noNul(json.id, "'id'");
  }

  const { parameters, correlationId, flags, timeoutUs, priority, defaultBinary } =
    parseRequestParameters(
      json.parameters,
      options.reservedParameters ?? true,
      options.exact ?? false,
    );

  if (!Array.isArray(json.inputs)) throw invalidArg("Unable to parse 'inputs'");
  const cursor = new BinaryCursor(binaryData, model);
  const inputs: InputTensor[] = [];
  const seen = new Set<string>();
  let batchSize = signature.maxBatchSize > 0 ? -1 : 1;
  for (const item of json.inputs) {
    const input = parseInput(signature, item, cursor);
    if (seen.has(input.tensor.name)) {
      throw invalidArg(`input '${input.tensor.name}' already exists in request`);
    }
    seen.add(input.tensor.name);
    if (signature.maxBatchSize > 0) {
      const inputBatch = input.clientShape[0];
      if (batchSize === -1) {
        batchSize = inputBatch;
      } else if (inputBatch !== batchSize) {
        throw invalidArg(
          `input '${input.tensor.name}' batch size does not match other inputs for '${model}'`,
        );
      }
    }
    inputs.push(input.tensor);
  }
  cursor.finish();
  checkRequiredInputs(signature, seen);
  if (signature.maxBatchSize > 0 && inputs.length > 0) {
    if (batchSize < 1 || batchSize > signature.maxBatchSize) {
      throw invalidArg(
        `inference request batch-size must be <= ${signature.maxBatchSize} for '${model}'` +
          (batchSize < 1 ? ` and at least 1, got ${batchSize}` : ""),
      );
    }
  }

  const binary = new Map<string, boolean>();
  const requested = new Set<string>();
  if (json.outputs !== undefined) {
    if (!Array.isArray(json.outputs)) throw invalidArg("Unable to parse 'outputs'");
    for (const item of json.outputs) {
      const [name, isBinary] = parseOutput(signature, item);
      if (requested.has(name)) {
        throw invalidArg(
          `[request id: ${id || "<id_unknown>"}] output '${name}' already exists in request`,
        );
      }
      requested.add(name);
      // As Triton: `binary_data_output` is for the outputs the request does
      // not list; a listed output is JSON unless it asks for binary itself.
      binary.set(name, isBinary ?? false);
    }
  }

  const request: InferRequest = {
    id,
    inputs,
    requestedOutputs: [...requested].sort(),
    parameters,
    correlationId,
    flags,
    timeoutUs,
    priority,
    batchSize: Math.max(batchSize, 1),
  };
  return { request, format: { defaultBinary, binary } };
}

interface RequestParameters {
  parameters: Map<string, ParameterValue>;
  correlationId: bigint | string;
  flags: number;
  timeoutUs: bigint;
  priority: number;
  defaultBinary: boolean;
}

function parseRequestParameters(
  value: unknown,
  reserved: boolean,
  exact: boolean,
): RequestParameters {
  const result: RequestParameters = {
    parameters: new Map(),
    correlationId: 0n,
    flags: 0,
    timeoutUs: 0n,
    priority: 0,
    defaultBinary: false,
  };
  if (value === undefined) return result;
  if (!isObject(value)) throw invalidArg("failed to get request params.");
  for (const [key, parameter] of Object.entries(value)) {
    noNul(key, "a parameter name");
    if (typeof parameter === "string") noNul(parameter, `parameter '${key}'`);
    if (!reserved) {
      result.parameters.set(key, modelParameter(key, parameter, exact));
      continue;
    }
    switch (key) {
      case "sequence_id":
        if (typeof parameter === "string") result.correlationId = parameter;
        else result.correlationId = unsignedInteger(parameter, "sequence_id");
        break;
      case "sequence_start":
        if (boolean(parameter, "sequence_start")) result.flags |= FLAG_SEQUENCE_START;
        break;
      case "sequence_end":
        if (boolean(parameter, "sequence_end")) result.flags |= FLAG_SEQUENCE_END;
        break;
      case "priority": {
        // uint64 in Triton; levels beyond 2^53 all mean "the lowest", as any level
        // past the configured count does.
        const level = unsignedInteger(parameter, "priority");
        result.priority = level > BigInt(Number.MAX_SAFE_INTEGER)
          ? Number.MAX_SAFE_INTEGER
          : Number(level);
        break;
      }
      case "timeout":
        result.timeoutUs = unsignedInteger(parameter, "timeout");
        break;
      case "binary_data_output":
        result.defaultBinary = boolean(parameter, "binary_data_output");
        break;
      default:
        if (key.startsWith("triton_")) {
          throw invalidArg(
            "parameter keys starting with 'triton_' are reserved for Triton usage " +
              "and should not be specified.",
          );
        }
        result.parameters.set(key, modelParameter(key, parameter, exact));
    }
  }
  return result;
}

/**
 * A parameter passed on to the model, typed as Triton types it: a string,
 * a boolean, an integer that fits INT64 (INT), any other number (DOUBLE).
 *
 * @throws {InexactIntegerError} For an integer JSON.parse could not keep exact.
 */
function modelParameter(key: string, parameter: unknown, exact: boolean): ParameterValue {
  if (typeof parameter === "string" || typeof parameter === "boolean") return parameter;
  if (typeof parameter === "number" && Number.isFinite(parameter)) {
    // Parsed exactly, a number still beyond 2^53 was written as a float
    // (1e30): a DOUBLE, as Triton reads it.
    if (!exact && Number.isInteger(parameter) && !Number.isSafeInteger(parameter)) {
      throw new InexactIntegerError(key);
    }
    return parameter;
  }
  if (typeof parameter === "bigint") {
    // Beyond INT64 JSON still holds a number, which Triton reads as a double.
    return parameter >= INT64_MIN && parameter <= INT64_MAX ? parameter : Number(parameter);
  }
  throw invalidArg(
    `parameter '${key}' has invalid type. It should be either 'int', 'bool', or 'string'.`,
  );
}

interface ParsedInput {
  tensor: InputTensor;
  /** The shape as the client sent it. */
  clientShape: number[];
}

function parseInput(signature: ModelSignature, item: unknown, cursor: BinaryCursor): ParsedInput {
  const model = signature.name;
  if (!isObject(item)) throw invalidArg("Unable to parse 'inputs': an input is not an object");
  if (typeof item.name !== "string") throw invalidArg("Unable to parse 'name'");
  const name = item.name;
  const parameters = item.parameters;
  if (parameters !== undefined && !isObject(parameters)) {
    throw invalidArg(`Unable to parse 'parameters' of input '${name}'`);
  }
  const hasData = item.data !== undefined;
  const hasBinary = parameters?.binary_data_size !== undefined;
  const hasSharedMemory = parameters?.shared_memory_region !== undefined;
  if (Number(hasData) + Number(hasBinary) + Number(hasSharedMemory) !== 1) {
    const set = [
      hasData ? " 'data'" : "",
      hasBinary ? " 'binary_data_size'" : "",
      hasSharedMemory ? " 'shared_memory_region'" : "",
    ].join("");
    throw invalidArg(
      "Input must set only one of the following fields: 'data', 'binary_data_size' in " +
        "'parameters', 'shared_memory_region' in 'parameters'. But" +
        (set === "" ? " no field is set" : ` set${set}`),
    );
  }
  if (hasSharedMemory) {
    throw new ServeError(
      ErrorCode.UNSUPPORTED,
      `input '${name}': shared-memory inputs are not supported by this server`,
    );
  }
  if (typeof item.datatype !== "string") throw invalidArg("Unable to parse 'datatype'");
  const datatype = item.datatype;
  if (!Array.isArray(item.shape)) throw invalidArg("Unable to parse 'shape'");
  const shape: number[] = [];
  for (const dim of item.shape) {
    if (typeof dim !== "number" || !Number.isSafeInteger(dim) || dim < 0) {
      throw invalidArg("Unable to parse 'shape'");
    }
    shape.push(dim);
  }

  const declared = signature.inputsByName.get(name);
  if (declared === undefined) {
    throw invalidArg(`unexpected inference input '${name}' for model '${model}'`);
  }
  if (!isDataTypeName(datatype) || datatype !== declared.datatype) {
    throw invalidArg(
      `inference input '${name}' data-type is '${datatype}', but model '${model}' ` +
        `expects '${declared.datatype}'`,
    );
  }
  checkShape(signature, declared, shape);
  const elementCount = shape.reduce((product, dim) => product * dim, 1);
  if (!Number.isSafeInteger(elementCount)) {
    throw invalidArg(`input '${name}' for model '${model}' has too many elements`);
  }

  let data: Uint8Array;
  if (hasBinary) {
    const size = parameters?.binary_data_size;
    if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
      throw invalidArg("Unable to parse 'binary_data_size'");
    }
    data = cursor.take(size, name);
    checkByteSize(model, name, datatype, data, elementCount);
  } else {
    data = jsonToTensorBytes(name, datatype, item.data, elementCount);
  }
  return {
    tensor: { name, datatype, shape: modelShape(signature, declared, shape, elementCount), data },
    clientShape: shape,
  };
}

/** Checks a binary input's size against its shape, as Triton does. */
function checkByteSize(
  model: string,
  name: string,
  datatype: string,
  data: Uint8Array,
  elementCount: number,
): void {
  if (datatype === "BYTES") {
    const count = countBytesElements(data);
    if (typeof count === "string") {
      throw invalidArg(`input '${name}' for model '${model}': malformed BYTES data: ${count}`);
    }
    if (count !== elementCount) {
      throw invalidArg(
        `expected ${elementCount} string elements for inference input '${name}' ` +
          `for model '${model}', got ${count}`,
      );
    }
    return;
  }
  const expected = elementCount * dataTypeByteSize(datatype as "FP32");
  if (data.byteLength !== expected) {
    throw invalidArg(
      `input byte size mismatch for input '${name}' for model '${model}'. ` +
        `Expected ${expected}, got ${data.byteLength}`,
    );
  }
}

/** Checks a client shape against the config dims (with the batch dim when the model batches). */
function checkShape(signature: ModelSignature, declared: InputSignature, shape: number[]): void {
  const batching = signature.maxBatchSize > 0;
  const dims = batching ? shape.slice(1) : shape;
  let matches = (!batching || shape.length >= 1) && dims.length === declared.dims.length;
  for (let i = 0; matches && i < dims.length; i++) {
    if (declared.dims[i] !== -1 && declared.dims[i] !== dims[i]) matches = false;
  }
  if (!matches) {
    const expected = batching ? [-1, ...declared.dims] : declared.dims;
    throw invalidArg(
      `unexpected shape for input '${declared.name}' for model '${signature.name}'. ` +
        `Expected [${expected.join(",")}], got [${shape.join(",")}]`,
    );
  }
}

/** The shape the model sees: the config's reshape (with any -1 resolved), else the client's. */
function modelShape(
  signature: ModelSignature,
  declared: InputSignature,
  shape: number[],
  elementCount: number,
): number[] {
  if (declared.reshape === undefined) return shape;
  const batch = signature.maxBatchSize > 0 ? [shape[0]] : [];
  const known = declared.reshape.reduce(
    (product, dim) => (dim === -1 ? product : product * dim),
    1,
  );
  const perBatch = elementCount / (batch.length > 0 ? Math.max(batch[0], 1) : 1);
  const reshaped = declared.reshape.map((
    dim,
  ) => (dim === -1 && known > 0 ? perBatch / known : dim));
  return [...batch, ...reshaped];
}

function checkRequiredInputs(signature: ModelSignature, seen: ReadonlySet<string>): void {
  const required = signature.inputs.filter((input) => !input.optional);
  const missing = required.filter((input) => !seen.has(input.name)).map((input) => input.name);
  if (missing.length === 0) return;
  const quote = (names: string[]) => names.map((name) => `'${name}'`).join(",");
  throw invalidArg(
    `expected ${required.length} inputs but got ${seen.size} inputs for model ` +
      `'${signature.name}'. Got input(s) [${quote([...seen])}], but missing required ` +
      `input(s) [${quote(missing)}]. Please provide all required input(s).`,
  );
}

/** An output's name and its `binary_data` setting (undefined: the request's default). */
function parseOutput(signature: ModelSignature, item: unknown): [string, boolean | undefined] {
  if (!isObject(item) || typeof item.name !== "string") throw invalidArg("Unable to parse 'name'");
  const name = item.name;
  if (!signature.outputsByName.has(name)) {
    throw invalidArg(`unexpected inference output '${name}' for model '${signature.name}'`);
  }
  const parameters = item.parameters;
  if (parameters === undefined) return [name, undefined];
  if (!isObject(parameters)) throw invalidArg(`Unable to parse 'parameters' of output '${name}'`);
  if (parameters.shared_memory_region !== undefined) {
    throw new ServeError(
      ErrorCode.UNSUPPORTED,
      `output '${name}': shared-memory outputs are not supported by this server`,
    );
  }
  if (parameters.classification !== undefined) {
    throw new ServeError(
      ErrorCode.UNSUPPORTED,
      `output '${name}': classification outputs are not supported by this server`,
    );
  }
  if (parameters.binary_data === undefined) return [name, undefined];
  if (typeof parameters.binary_data !== "boolean") {
    throw invalidArg("Unable to parse 'binary_data'");
  }
  return [name, parameters.binary_data];
}

/**
 * `text` if it holds no NUL character (it goes to the core as a C string).
 *
 * @throws {ServeError} `INVALID_ARG` naming `what`.
 */
function noNul(text: string, what: string): string {
  if (text.includes("\0")) {
    throw invalidArg(`${what} contains a NUL character, which Triton's strings cannot hold`);
  }
  return text;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function boolean(value: unknown, name: string): boolean {
  if (typeof value !== "boolean") throw invalidArg(`Unable to parse '${name}'`);
  return value;
}

function unsignedInteger(value: unknown, name: string): bigint {
  if (typeof value === "bigint" && value >= 0n) return value;
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  throw invalidArg(`Unable to parse '${name}'`);
}
