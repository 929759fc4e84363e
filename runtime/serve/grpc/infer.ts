/**
 * Inference over gRPC: a `ModelInferRequest` becomes the same validated
 * {@linkcode InferRequest} the HTTP front end builds (through
 * {@linkcode inferRequestFromJson}, so that inputs, shapes, datatypes and
 * sizes are checked once, with Triton's messages), and a result becomes a
 * `ModelInferResponse` with every output's bytes in `raw_output_contents`,
 * as Triton's gRPC frontend answers.
 *
 * The request's parameters are read as Triton's gRPC frontend reads them:
 * `sequence_id` (int64 or string), `sequence_start` and `sequence_end`
 * (bool), `priority` (int64 >= 0 or uint64), `timeout` (int64), the
 * reserved `triton_enable_empty_final_response` (bool); every other key
 * goes to the model, and other keys starting with `triton_` are refused.
 *
 * @module
 */

import { create } from "npm:@bufbuild/protobuf@2.17.0";
import { ErrorCode, invalidArg, ServeError } from "../errors.ts";
import { inferRequestFromJson } from "../infer_request.ts";
import type { ModelSignature } from "../model_signature.ts";
import type { InferRequest, OutputTensor, ParameterValue } from "../types.ts";
import {
  type InferParameter,
  InferParameterSchema,
  type InferTensorContents,
  type ModelInferRequest,
  type ModelInferResponse,
  ModelInferResponseSchema,
} from "./grpc_service_pb.ts";

/** `TRITONSERVER_RequestFlag` values. */
const FLAG_SEQUENCE_START = 1;
const FLAG_SEQUENCE_END = 2;

const INT64_MAX = (1n << 63n) - 1n;

/** The request parameters this front end keeps for itself (Triton's reserved `triton_` keys). */
export const RESERVED_TRITON_PARAMETERS: readonly string[] = ["triton_enable_empty_final_response"];

/** A gRPC inference request, validated for its model. */
export interface GrpcInferRequest {
  /** What the scheduler runs. */
  readonly request: InferRequest;
  /**
   * Whether the client asked for an empty response flagged final after a
   * decoupled model's last one (`triton_enable_empty_final_response`).
   */
  readonly emptyFinalResponse: boolean;
}

/**
 * Validates `message` for `signature`'s model.
 *
 * @throws {ServeError} `INVALID_ARG` naming the problem (`UNSUPPORTED` for
 * shared-memory tensors and classification outputs).
 *
 * @example
 * ```ts
 * import { create } from "npm:@bufbuild/protobuf@2.17.0";
 * import { inferRequestFromGrpc } from "./infer.ts";
 * import { ModelInferRequestSchema } from "./grpc_service_pb.ts";
 * import { modelSignature } from "../model_signature.ts";
 * import { parseModelConfigText } from "../../model_config/mod.ts";
 *
 * const signature = modelSignature(parseModelConfigText(
 *   'name: "m" input { name: "X" data_type: TYPE_INT32 dims: [2] }',
 * ));
 * const message = create(ModelInferRequestSchema, {
 *   modelName: "m",
 *   inputs: [{ name: "X", datatype: "INT32", shape: [2n], contents: { intContents: [1, 2] } }],
 * });
 * console.log(inferRequestFromGrpc(signature, message).request.inputs[0].data.byteLength); // 8
 * ```
 */
export function inferRequestFromGrpc(
  signature: ModelSignature,
  message: ModelInferRequest,
): GrpcInferRequest {
  const model = signature.name;
  const settings = readParameters(message.parameters);
  const raw = message.rawInputContents;
  if (raw.length > 0 && raw.length !== message.inputs.length) {
    throw invalidArg(
      `expected ${message.inputs.length} entries in raw_input_contents, one per input, for ` +
        `model '${model}', got ${raw.length}`,
    );
  }
  const parts: Uint8Array[] = [];
  const inputs = message.inputs.map((input, index) => {
    rejectSharedMemory(input.parameters, `input '${input.name}'`);
    let data: Uint8Array;
    if (input.contents !== undefined) {
      if (raw.length > 0) {
        throw invalidArg(
          `contents field must not be specified when using raw_input_contents for ` +
            `'${input.name}' for model '${model}'`,
        );
      }
      data = contentsToBytes(model, input.name, input.datatype, input.contents);
    } else if (index < raw.length) {
      data = raw[index];
    } else {
      throw invalidArg(
        `unable to find data for input tensor '${input.name}' for model '${model}' in request.`,
      );
    }
    parts.push(data);
    return {
      name: input.name,
      datatype: input.datatype,
      shape: input.shape.map(shapeDim),
      parameters: { binary_data_size: data.byteLength },
    };
  });
  const outputs = message.outputs.map((output) => {
    rejectSharedMemory(output.parameters, `output '${output.name}'`);
    if (output.parameters.classification !== undefined) {
      throw new ServeError(
        ErrorCode.UNSUPPORTED,
        `output '${output.name}': classification outputs are not supported by this server`,
      );
    }
    return { name: output.name };
  });
  const parsed = inferRequestFromJson(signature, { inputs, outputs }, concat(parts));
  return {
    request: {
      ...parsed.request,
      id: message.id,
      parameters: settings.parameters,
      correlationId: settings.correlationId,
      flags: settings.flags,
      priority: settings.priority,
      timeoutUs: settings.timeoutUs,
    },
    emptyFinalResponse: settings.emptyFinalResponse,
  };
}

/** What a successful inference returns. */
export interface GrpcResponseParts {
  /** The request's id. */
  readonly id: string;
  /** The model's name. */
  readonly model: string;
  /** The version that ran. */
  readonly version: number;
  /** The response's parameters. */
  readonly parameters: Readonly<Record<string, ParameterValue>>;
  /** The outputs, in the order the model returned them. */
  readonly outputs: readonly OutputTensor[];
}

/**
 * The `ModelInferResponse` for a result: each output's name, datatype and
 * shape, its bytes in `raw_output_contents` at the same index.
 *
 * @example
 * ```ts
 * import { inferResponseToGrpc } from "./infer.ts";
 *
 * const bytes = new Uint8Array(new Int32Array([3]).buffer);
 * const response = inferResponseToGrpc({
 *   id: "1", model: "m", version: 1, parameters: {},
 *   outputs: [{ name: "Y", datatype: "INT32", shape: [1], byteSize: 4, read: (d) => d.set(bytes) }],
 * });
 * console.log(response.modelVersion, response.rawOutputContents[0].byteLength); // "1" 4
 * ```
 */
export function inferResponseToGrpc(
  parts: GrpcResponseParts,
  extraParameters: Readonly<Record<string, ParameterValue>> = {},
): ModelInferResponse {
  const rawOutputContents: Uint8Array[] = [];
  const outputs = parts.outputs.map((output) => {
    const bytes = new Uint8Array(output.byteSize);
    output.read(bytes);
    rawOutputContents.push(bytes);
    return { name: output.name, datatype: output.datatype, shape: output.shape.map(BigInt) };
  });
  return create(ModelInferResponseSchema, {
    modelName: parts.model,
    modelVersion: String(parts.version),
    id: parts.id,
    parameters: grpcParameters({ ...parts.parameters, ...extraParameters }),
    outputs,
    rawOutputContents,
  });
}

/** An empty response (a stream's closing marker) for a model's request. */
export function emptyResponse(
  id: string,
  model: string,
  version: number,
  parameters: Readonly<Record<string, ParameterValue>>,
): ModelInferResponse {
  return create(ModelInferResponseSchema, {
    modelName: model,
    modelVersion: String(version),
    id,
    parameters: grpcParameters(parameters),
  });
}

/** Response parameters as gRPC carries them. */
function grpcParameters(
  parameters: Readonly<Record<string, ParameterValue>>,
): Record<string, InferParameter> {
  const result: Record<string, InferParameter> = {};
  for (const [key, value] of Object.entries(parameters)) {
    result[key] = create(InferParameterSchema, { parameterChoice: parameterChoice(value) });
  }
  return result;
}

function parameterChoice(value: ParameterValue): InferParameter["parameterChoice"] {
  switch (typeof value) {
    case "string":
      return { case: "stringParam", value };
    case "boolean":
      return { case: "boolParam", value };
    case "bigint":
      return value > INT64_MAX ? { case: "uint64Param", value } : { case: "int64Param", value };
    default:
      return Number.isSafeInteger(value)
        ? { case: "int64Param", value: BigInt(value) }
        : { case: "doubleParam", value };
  }
}

interface RequestSettings {
  parameters: Map<string, ParameterValue>;
  correlationId: bigint | string;
  flags: number;
  priority: number;
  timeoutUs: bigint;
  emptyFinalResponse: boolean;
}

/** The request parameters, read as Triton's gRPC frontend reads them. */
function readParameters(parameters: Readonly<Record<string, InferParameter>>): RequestSettings {
  const settings: RequestSettings = {
    parameters: new Map(),
    correlationId: 0n,
    flags: 0,
    priority: 0,
    timeoutUs: 0n,
    emptyFinalResponse: false,
  };
  for (const [key, parameter] of Object.entries(parameters)) {
    const choice = parameter.parameterChoice;
    switch (key) {
      case "sequence_id":
        if (choice.case === "int64Param") {
          // Triton keeps the id as an unsigned 64-bit number.
          settings.correlationId = BigInt.asUintN(64, choice.value);
        } else if (choice.case === "stringParam") settings.correlationId = choice.value;
        else {
          throw invalidArg(
            "invalid value type for 'sequence_id' parameter, expected int64_param or " +
              "string_param.",
          );
        }
        break;
      case "sequence_start":
      case "sequence_end":
        if (choice.case !== "boolParam") {
          throw invalidArg(`invalid value type for '${key}' parameter, expected bool_param.`);
        }
        if (choice.value) {
          settings.flags |= key === "sequence_start" ? FLAG_SEQUENCE_START : FLAG_SEQUENCE_END;
        }
        break;
      case "priority": {
        let level: bigint;
        if (choice.case === "int64Param") {
          if (choice.value < 0n) {
            throw invalidArg("invalid value for 'priority', expected value >= 0.");
          }
          level = choice.value;
        } else if (choice.case === "uint64Param") level = choice.value;
        else {
          throw invalidArg(
            "invalid value type for 'priority' parameter, expected int64_param or uint64_param.",
          );
        }
        // Levels beyond 2^53 all mean "the lowest", as any level past the configured count does.
        settings.priority = level > BigInt(Number.MAX_SAFE_INTEGER)
          ? Number.MAX_SAFE_INTEGER
          : Number(level);
        break;
      }
      case "timeout":
        if (choice.case !== "int64Param") {
          throw invalidArg("invalid value type for 'timeout' parameter, expected int64_param.");
        }
        settings.timeoutUs = choice.value < 0n ? 0n : choice.value;
        break;
      default:
        if (key.startsWith("triton_")) {
          if (!RESERVED_TRITON_PARAMETERS.includes(key)) {
            throw invalidArg(
              "parameter keys starting with 'triton_' are reserved for Triton usage. Only the " +
                `following keys starting with 'triton_' are allowed: ${
                  RESERVED_TRITON_PARAMETERS.join(" ")
                }`,
            );
          }
          if (choice.case !== "boolParam") {
            throw invalidArg(`invalid value type for '${key}' parameter, expected bool_param.`);
          }
          settings.emptyFinalResponse = choice.value;
        } else {
          settings.parameters.set(key, modelParameter(key, choice));
        }
    }
  }
  return settings;
}

function modelParameter(key: string, choice: InferParameter["parameterChoice"]): ParameterValue {
  switch (choice.case) {
    case "int64Param":
    case "boolParam":
    case "stringParam":
    case "doubleParam":
      return choice.value;
    default:
      throw invalidArg(
        `invalid value type for '${key}' parameter, expected int64_param, bool_param, or ` +
          "string_param.",
      );
  }
}

function rejectSharedMemory(parameters: Readonly<Record<string, InferParameter>>, what: string) {
  if (parameters.shared_memory_region !== undefined) {
    throw new ServeError(
      ErrorCode.UNSUPPORTED,
      `${what}: shared-memory tensors are not supported by this server`,
    );
  }
}

/** A shape dimension; one that is negative or beyond 2^53 fails validation as unparsable. */
function shapeDim(dim: bigint): number {
  return dim >= 0n && dim <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(dim) : -1;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const total = parts.reduce((sum, part) => sum + part.byteLength, 0);
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.byteLength;
  }
  return joined;
}

/** Which typed field of `InferTensorContents` carries which datatypes. */
const CONTENT_FIELDS = [
  ["boolContents", ["BOOL"]],
  ["intContents", ["INT8", "INT16", "INT32"]],
  ["int64Contents", ["INT64"]],
  ["uintContents", ["UINT8", "UINT16", "UINT32"]],
  ["uint64Contents", ["UINT64"]],
  ["fp32Contents", ["FP32"]],
  ["fp64Contents", ["FP64"]],
  ["bytesContents", ["BYTES"]],
] as const;

/**
 * The tensor bytes for typed `contents`, laid out as Triton lays them
 * (little-endian; INT8/INT16 and UINT8/UINT16 taken from the low bytes of
 * each 32-bit value; BYTES as 4-byte lengths followed by the bytes).
 */
function contentsToBytes(
  model: string,
  name: string,
  datatype: string,
  contents: InferTensorContents,
): Uint8Array {
  const present = CONTENT_FIELDS.filter(([field]) => contents[field].length > 0);
  if (present.length === 0) return new Uint8Array(0);
  if (present.length > 1) {
    throw invalidArg(
      `unexpected explicit tensor data for input tensor '${name}' for model '${model}', ` +
        "binary data was already supplied.",
    );
  }
  const [field, datatypes] = present[0];
  if (!(datatypes as readonly string[]).includes(datatype)) {
    const given = datatypes.length === 1 ? datatypes[0] : datatypes[datatypes.length - 1];
    throw invalidArg(
      `unexpected explicit tensor data for input tensor '${name}' for model '${model}' of ` +
        `type '${given}', expected datatype '${datatype}'`,
    );
  }
  switch (field) {
    case "boolContents":
      return Uint8Array.from(contents.boolContents, (value) => (value ? 1 : 0));
    case "intContents":
      if (datatype === "INT8") return new Uint8Array(Int8Array.from(contents.intContents).buffer);
      if (datatype === "INT16") return new Uint8Array(Int16Array.from(contents.intContents).buffer);
      return new Uint8Array(Int32Array.from(contents.intContents).buffer);
    case "int64Contents":
      return new Uint8Array(BigInt64Array.from(contents.int64Contents).buffer);
    case "uintContents":
      if (datatype === "UINT8") return Uint8Array.from(contents.uintContents);
      if (datatype === "UINT16") {
        return new Uint8Array(Uint16Array.from(contents.uintContents).buffer);
      }
      return new Uint8Array(Uint32Array.from(contents.uintContents).buffer);
    case "uint64Contents":
      return new Uint8Array(BigUint64Array.from(contents.uint64Contents).buffer);
    case "fp32Contents":
      return new Uint8Array(Float32Array.from(contents.fp32Contents).buffer);
    case "fp64Contents":
      return new Uint8Array(Float64Array.from(contents.fp64Contents).buffer);
    case "bytesContents":
      return serializeBytes(contents.bytesContents);
  }
}

function serializeBytes(elements: readonly Uint8Array[]): Uint8Array {
  const total = elements.reduce((sum, element) => sum + 4 + element.byteLength, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const element of elements) {
    view.setUint32(offset, element.byteLength, true);
    out.set(element, offset + 4);
    offset += 4 + element.byteLength;
  }
  return out;
}
