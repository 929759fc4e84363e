/**
 * Checks what a model's `execute` returned for one request against the
 * model's configuration, and turns it into plain data the Worker runtime can
 * write to the wire. Everything here treats the model's values as hostile:
 * each is read once, through private fields or engine intrinsics, and any
 * exception becomes an error result instead of escaping.
 *
 * @module
 */

import type { DataType, ModelConfig, ModelOutput } from "../model_config/config.ts";
import { countBytesElements } from "./bytes.ts";
import {
  configDataTypeName,
  dataTypeByteSize,
  dataTypeCode,
  dataTypeToConfig,
} from "./datatype.ts";
import { describeValue } from "./describe.ts";
import { ErrorCode, TritonError } from "./error.ts";
import { MAX_ERROR_MESSAGE_BYTES } from "./limits.ts";
import { snapshotResponse } from "./response.ts";
import { formatShape } from "./shape.ts";
import { snapshotTensor, type TensorSnapshot } from "./tensor.ts";
import { typedArrayFacts } from "./typed_array.ts";

/**
 * One output ready for the wire.
 *
 * @internal The contract between the API and the Worker runtime.
 */
export interface WireOutput {
  /** The output's name (declared in config.pbtxt). */
  name: string;
  /** `TRITONSERVER_DataType` code. */
  datatypeCode: number;
  /** A fresh copy of the shape. */
  shape: number[];
  /** The data, exactly `byteLength` bytes (a view, not a copy). */
  bytes: Uint8Array;
  /** Set when the data already lives in the arena (from `allocateOutput`): its offset there. */
  arenaOffset: number | undefined;
}

/**
 * The outcome of {@linkcode checkResponse}: outputs to send, or an error for
 * this request with a Triton error code.
 *
 * @internal The contract between the API and the Worker runtime.
 */
export type CheckedResponse =
  | { ok: true; outputs: WireOutput[] }
  | { ok: false; code: number; message: string };

interface OutputSpec {
  readonly dataType: DataType;
  readonly dims: readonly number[];
  readonly reshape: readonly number[] | undefined;
  readonly isShapeTensor: boolean;
}

interface ConfigOutputs {
  readonly byName: ReadonlyMap<string, OutputSpec>;
  readonly maxBatchSize: number;
  /** `'A', 'B'` for messages. */
  readonly declaredList: string;
}

// Keyed by the config object: the runtime passes the same one for every batch.
const outputsByConfig = new WeakMap<ModelConfig, ConfigOutputs>();

/**
 * Checks the value a model returned for one request:
 * - it must be an {@linkcode InferenceResponse}; one carrying an error becomes
 *   `ok: false` with the error's code (`INTERNAL` unless it is a `TritonError`)
 *   and message (cut to the wire's limit);
 * - every output must be a `Tensor` with a name declared in `config.output`,
 *   appearing once, with the declared datatype and a shape that fits the
 *   declared `dims` (-1 matches any size; when `max_batch_size` > 0 a leading
 *   batch dimension of at most `max_batch_size` comes first; a declared
 *   `reshape` is accepted in place of `dims`), and data of the size the shape
 *   needs (checked again: a buffer can be transferred or resized after the
 *   tensor was built);
 * - when `requestedOutputNames` is not empty, outputs not in it are dropped
 *   after being checked.
 *
 * Never throws. The runtime should pass its own copy of the configuration,
 * not the object the model received in `initialize`.
 *
 * @param response What `execute` returned for the request.
 * @param config The model's configuration.
 * @param requestedOutputNames The request's requested outputs; empty means all.
 *
 * @example
 * ```ts
 * import { InferenceResponse, Tensor } from "@triton/deno";
 * import { checkResponse } from "./check_response.ts";
 * import { parseModelConfigText } from "../model_config/mod.ts";
 *
 * const config = parseModelConfigText('output [{ name: "Y" data_type: TYPE_FP32 dims: [2] }]');
 * const response = new InferenceResponse([new Tensor("Y", "FP64", [2], [1, 2])]);
 * console.log(checkResponse(response, config, []));
 * // { ok: false, code: 1, message: "output 'Y' has datatype FP64 but config.pbtxt declares TYPE_FP32" }
 * ```
 */
export function checkResponse(
  response: unknown,
  config: ModelConfig,
  requestedOutputNames: readonly string[],
): CheckedResponse {
  try {
    return check(response, config, requestedOutputNames);
  } catch (error) {
    return failure(
      ErrorCode.INTERNAL,
      `the model's response could not be read: ${safeMessage(error)}`,
    );
  }
}

function check(
  value: unknown,
  config: ModelConfig,
  requestedOutputNames: readonly string[],
): CheckedResponse {
  const response = snapshotResponse(value);
  if (response === undefined) {
    return failure(
      ErrorCode.INTERNAL,
      `execute must return an InferenceResponse for each request, got ${describeValue(value)}`,
    );
  }
  if (response.error !== undefined) return errorResult(response.error);

  const declared = configOutputs(config);
  const seen = new Set<string>();
  const outputs: WireOutput[] = [];
  for (let i = 0; i < response.outputs.length; i++) {
    const tensor = snapshotTensor(response.outputs[i]);
    if (tensor === undefined) {
      return failure(
        ErrorCode.INTERNAL,
        `output ${i} of the response is not a Tensor: got ${describeValue(response.outputs[i])}`,
      );
    }
    const name = tensor.name;
    const spec = declared.byName.get(name);
    if (spec === undefined) {
      return failure(
        ErrorCode.INTERNAL,
        `output '${name}' is not declared in config.pbtxt; declared outputs: ${declared.declaredList}`,
      );
    }
    if (seen.has(name)) {
      return failure(ErrorCode.INTERNAL, `output '${name}' appears more than once in the response`);
    }
    seen.add(name);
    if (dataTypeToConfig(tensor.datatype) !== spec.dataType) {
      return failure(
        ErrorCode.INTERNAL,
        `output '${name}' has datatype ${tensor.datatype} but config.pbtxt declares ` +
          configDataTypeName(spec.dataType),
      );
    }
    const shapeProblem = checkShapeAgainstConfig(tensor.shape, spec, declared.maxBatchSize);
    if (shapeProblem !== undefined) {
      return failure(ErrorCode.INTERNAL, `output '${name}' ${shapeProblem}`);
    }
    const data = dataBytes(tensor);
    if (typeof data === "string") return failure(ErrorCode.INTERNAL, `output '${name}' ${data}`);
    if (requestedOutputNames.length === 0 || requestedOutputNames.includes(name)) {
      outputs.push({
        name,
        datatypeCode: dataTypeCode(tensor.datatype),
        shape: Array.from(tensor.shape),
        bytes: data,
        arenaOffset: tensor.arenaOffset,
      });
    }
  }
  return { ok: true, outputs };
}

/** The output's data as bytes, or why its size no longer matches its shape. */
function dataBytes(tensor: TensorSnapshot): Uint8Array | string {
  const facts = typedArrayFacts(tensor.data);
  if (facts === undefined) return "has data that is no longer a typed array";
  // A detached buffer reports 0 bytes but cannot be viewed at all.
  const bytes = facts.byteLength === 0
    ? new Uint8Array(0)
    : new Uint8Array(facts.buffer, facts.byteOffset, facts.byteLength);
  if (tensor.datatype === "BYTES") {
    const count = countBytesElements(bytes);
    if (typeof count === "string") return `has ${count}`;
    if (count !== tensor.elementCount) {
      return `holds ${count} BYTES elements but its shape ${
        formatShape(tensor.shape)
      } needs ${tensor.elementCount} (was its data changed?)`;
    }
    return bytes;
  }
  const expected = tensor.elementCount * dataTypeByteSize(tensor.datatype);
  if (facts.byteLength !== expected) {
    return `has ${facts.byteLength} bytes of data but its shape ${
      formatShape(tensor.shape)
    } needs ${expected} (was its buffer transferred or resized?)`;
  }
  return bytes;
}

/**
 * Why `shape` does not fit the declared dims (or reshape), or `undefined` if
 * it fits. Shape tensors may come with or without a batch dimension.
 */
function checkShapeAgainstConfig(
  shape: readonly number[],
  spec: OutputSpec,
  maxBatchSize: number,
): string | undefined {
  const batching = maxBatchSize > 0;
  const candidates = spec.reshape === undefined ? [spec.dims] : [spec.dims, spec.reshape];
  for (const dims of candidates) {
    if (batching && shape.length === dims.length + 1 && matches(shape.slice(1), dims)) {
      if (shape[0] > maxBatchSize) {
        return `has batch dimension ${shape[0]} but max_batch_size is ${maxBatchSize}`;
      }
      return undefined;
    }
    if ((!batching || spec.isShapeTensor) && matches(shape, dims)) return undefined;
  }
  const declaredDims = `dims ${formatShape(spec.dims)}` +
    (spec.reshape === undefined ? "" : ` (or reshape ${formatShape(spec.reshape)})`);
  const batchNote = batching
    ? `, after a leading batch dimension (max_batch_size is ${maxBatchSize})`
    : "";
  return `has shape ${formatShape(shape)} but config.pbtxt declares ${declaredDims}${batchNote}`;
}

function matches(shape: readonly number[], dims: readonly number[]): boolean {
  if (shape.length !== dims.length) return false;
  for (let i = 0; i < dims.length; i++) {
    if (dims[i] !== -1 && dims[i] !== shape[i]) return false;
  }
  return true;
}

function configOutputs(config: ModelConfig): ConfigOutputs {
  const cached = outputsByConfig.get(config);
  if (cached !== undefined) return cached;
  const byName = new Map<string, OutputSpec>();
  for (const output of config.output) byName.set(output.name, outputSpec(output));
  const names = Array.from(byName.keys(), (name) => `'${name}'`);
  const outputs: ConfigOutputs = {
    byName,
    maxBatchSize: config.maxBatchSize,
    declaredList: names.length === 0 ? "(none)" : names.join(", "),
  };
  outputsByConfig.set(config, outputs);
  return outputs;
}

function outputSpec(output: ModelOutput): OutputSpec {
  return {
    dataType: output.dataType,
    dims: output.dims.map(Number),
    reshape: output.reshape === undefined ? undefined : output.reshape.shape.map(Number),
    isShapeTensor: output.isShapeTensor,
  };
}

/** The failure for a response that carries an error, read defensively. */
function errorResult(error: TritonError): CheckedResponse {
  let message = "(the error's message could not be read)";
  let code: number = ErrorCode.INTERNAL;
  try {
    const text: unknown = error.message;
    if (typeof text === "string") message = text;
    if (error instanceof TritonError) {
      const errorCode: unknown = error.code;
      if (typeof errorCode === "number" && errorCode in ErrorCode) code = errorCode;
    }
  } catch {
    // Keep the defaults: the error object itself is broken.
  }
  return failure(code, message);
}

function failure(code: number, message: string): CheckedResponse {
  return { ok: false, code, message: truncateUtf8(message, MAX_ERROR_MESSAGE_BYTES) };
}

function safeMessage(error: unknown): string {
  try {
    if (error instanceof Error && typeof error.message === "string") return error.message;
  } catch {
    // Fall through to a description of the value.
  }
  return describeValue(error);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Cuts `text` so that its UTF-8 form fits in `maxBytes`, marking the cut with "...". */
function truncateUtf8(text: string, maxBytes: number): string {
  if (text.length * 3 <= maxBytes) return text;
  const bytes = encoder.encode(text);
  if (bytes.byteLength <= maxBytes) return text;
  let end = maxBytes - 3;
  // Step back to the start of a character (continuation bytes are 10xxxxxx).
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return `${decoder.decode(bytes.subarray(0, end))}...`;
}
