/**
 * Encodes what a model asks of other models: a BLS_REQUEST payload
 * (`tdn_bls_request`, its `tdn_tensor` inputs, requested output names,
 * shapes, strings, then each input's data at a 64-byte boundary) and a
 * CONTROL payload (`tdn_control_request`), in one block of the stub's half.
 *
 * The input data is copied into that block: the parent hands Triton
 * pointers into it, and Triton reads them until it releases the request, so
 * the block must stay put (the caller holds its scope until the call's
 * FINAL). The parent checks everything again; the checks here only turn a
 * model's mistake into a clear error before anything is sent.
 *
 * @example
 * ```ts
 * import { writeBlsRequest } from "./bls_request_writer.ts";
 * import { BumpAllocator } from "./arena_allocator.ts";
 *
 * const arena = new ArrayBuffer(4096);
 * const allocator = new BumpAllocator({ arena, start: 0, arenaSize: () => 4096 });
 * const written = writeBlsRequest(arena, (bytes) => allocator.reserve(bytes), {
 *   modelName: "add_sub",
 *   modelVersion: -1,
 *   inputs: [{ name: "INPUT0", datatypeCode: 11, shape: [1], bytes: new Uint8Array(4) }],
 *   requestedOutputNames: [],
 *   requestId: "",
 *   correlationId: 0n,
 *   flags: 0,
 *   timeoutMicros: 0n,
 *   parametersJson: "",
 * });
 * console.log(written.offset); // 0
 * ```
 *
 * @module
 */

import {
  alignUp,
  BLS_REQUEST,
  CONTROL_FILE,
  CONTROL_FLAG,
  CONTROL_REQUEST,
  MAX_CONTROL_CONFIG_LENGTH,
  MAX_CONTROL_FILES,
  MAX_CONTROL_PATH_LENGTH,
  MAX_NAME_LENGTH,
  MAX_OUTPUTS,
  MAX_RANK,
  STR,
  TENSOR,
} from "./layout.ts";

/** One input as the writer takes it. */
export interface BlsInputData {
  /** The input's name. */
  name: string;
  /** `TRITONSERVER_DataType` code. */
  datatypeCode: number;
  /** Dimensions. */
  shape: readonly number[];
  /** The data in wire layout (BYTES: u32 length + bytes per element). */
  bytes: Uint8Array;
}

/** What a BLS_REQUEST carries (the API's `BlsWireRequest`, with wire-form parameters). */
export interface BlsRequestData {
  /** The model to call. */
  modelName: string;
  /** Its version, -1 for the server's choice. */
  modelVersion: number;
  /** The inputs. */
  inputs: readonly BlsInputData[];
  /** The outputs wanted; none: all. */
  requestedOutputNames: readonly string[];
  /** The request id. */
  requestId: string;
  /** A u64 correlation id or a string one. */
  correlationId: bigint | string;
  /** `TRITONSERVER_RequestFlag` bits. */
  flags: number;
  /** u64 timeout in microseconds, 0n for none. */
  timeoutMicros: bigint;
  /** The parameters in the wire form ("" for none; runtime/api/parameters.ts). */
  parametersJson: string;
}

/** Where a payload was written. */
export interface WrittenPayload {
  /** Arena offset of the struct (the record's offset). */
  offset: number;
  /** Bytes (the record's length). */
  length: number;
}

/** A request the wire cannot carry; the message names the field. */
export class BlsRequestFormatError extends Error {
  /** @param message What is wrong. */
  constructor(message: string) {
    super(message);
    this.name = "BlsRequestFormatError";
  }
}

/** Most inputs one request may carry (the parent's `TDN_BLS_MAX_INPUTS`). */
export const MAX_BLS_INPUTS = 1024;
/** Longest request id or string correlation id in bytes (`TDN_BLS_MAX_ID_LENGTH`). */
export const MAX_BLS_ID_LENGTH = 65536;

const utf8 = new TextEncoder();
const TWO_TO_32 = 0x1_0000_0000;
const U64_MAX = 2n ** 64n - 1n;

/**
 * Writes a BLS_REQUEST payload.
 *
 * @param arena The arena (both halves).
 * @param reserve Takes `bytes` at a 64-byte boundary of the stub's half and returns the offset.
 * @param request What to send.
 * @returns The payload's place.
 * @throws {BlsRequestFormatError} If a field exceeds a wire limit.
 */
export function writeBlsRequest(
  arena: ArrayBuffer,
  reserve: (bytes: number) => number,
  request: BlsRequestData,
): WrittenPayload {
  const modelName = text(request.modelName, "the model name", MAX_NAME_LENGTH, false);
  const id = text(request.requestId, "the request id", MAX_BLS_ID_LENGTH, true);
  const correlation = typeof request.correlationId === "string"
    ? text(request.correlationId, "the correlation id", MAX_BLS_ID_LENGTH, false)
    : undefined;
  const parameters = utf8.encode(request.parametersJson);
  if (request.inputs.length > MAX_BLS_INPUTS) {
    throw new BlsRequestFormatError(
      `${request.inputs.length} inputs; at most ${MAX_BLS_INPUTS}`,
    );
  }
  if (request.requestedOutputNames.length > MAX_OUTPUTS) {
    throw new BlsRequestFormatError(
      `${request.requestedOutputNames.length} requested outputs; at most ${MAX_OUTPUTS}`,
    );
  }
  const inputNames = request.inputs.map((input) =>
    text(input.name, `input '${input.name}'`, MAX_NAME_LENGTH, false)
  );
  const outputNames = request.requestedOutputNames.map((name) =>
    text(name, `requested output '${name}'`, MAX_NAME_LENGTH, false)
  );
  let dims = 0;
  for (const input of request.inputs) {
    if (input.shape.length > MAX_RANK) {
      throw new BlsRequestFormatError(
        `input '${input.name}' has rank ${input.shape.length}; at most ${MAX_RANK}`,
      );
    }
    dims += input.shape.length;
  }
  const strings = [modelName, id, correlation ?? new Uint8Array(0), ...inputNames, ...outputNames]
    .reduce((sum, bytes) => sum + bytes.byteLength, 0) + parameters.byteLength;

  const tensorsAt = BLS_REQUEST.SIZE;
  const outputsAt = tensorsAt + request.inputs.length * TENSOR.SIZE;
  const shapesAt = outputsAt + request.requestedOutputNames.length * STR.SIZE;
  const stringsAt = shapesAt + dims * 8;
  let end = stringsAt + strings;
  const dataAt = request.inputs.map((input) => {
    const at = alignUp(end);
    end = at + input.bytes.byteLength;
    return at;
  });

  const base = reserve(end);
  const view = new DataView(arena, base, end);
  const bytes = new Uint8Array(arena, base, end);
  let stringAt = stringsAt;
  const putString = (at: number, value: Uint8Array): void => {
    setU64(view, at + STR.OFFSET, value.byteLength === 0 ? 0 : base + stringAt);
    view.setUint32(at + STR.LENGTH, value.byteLength, true);
    view.setUint32(at + STR.RESERVED, 0, true);
    bytes.set(value, stringAt);
    stringAt += value.byteLength;
  };

  putString(BLS_REQUEST.MODEL_NAME, modelName);
  view.setBigInt64(BLS_REQUEST.MODEL_VERSION, BigInt(request.modelVersion), true);
  putString(BLS_REQUEST.ID, id);
  putString(BLS_REQUEST.CORRELATION_ID_STRING, correlation ?? new Uint8Array(0));
  const numeric = typeof request.correlationId === "bigint" ? request.correlationId : 0n;
  view.setBigUint64(BLS_REQUEST.CORRELATION_ID, u64(numeric, "the correlation id"), true);
  view.setUint32(BLS_REQUEST.FLAGS, request.flags >>> 0, true);
  view.setUint32(BLS_REQUEST.INPUT_COUNT, request.inputs.length, true);
  setU64(view, BLS_REQUEST.INPUTS_OFFSET, base + tensorsAt);
  view.setUint32(BLS_REQUEST.REQUESTED_OUTPUT_COUNT, request.requestedOutputNames.length, true);
  view.setUint32(BLS_REQUEST.RESERVED, 0, true);
  setU64(view, BLS_REQUEST.REQUESTED_OUTPUTS_OFFSET, base + outputsAt);
  view.setBigUint64(BLS_REQUEST.TIMEOUT_US, u64(request.timeoutMicros, "the timeout"), true);
  putString(BLS_REQUEST.PARAMETERS_JSON, parameters);

  let shapeAt = shapesAt;
  request.inputs.forEach((input, i) => {
    const at = tensorsAt + i * TENSOR.SIZE;
    putString(at + TENSOR.NAME, inputNames[i]);
    view.setUint32(at + TENSOR.DATATYPE, input.datatypeCode >>> 0, true);
    view.setUint32(at + TENSOR.RANK, input.shape.length, true);
    setU64(view, at + TENSOR.SHAPE_OFFSET, base + shapeAt);
    for (const dim of input.shape) {
      if (!Number.isSafeInteger(dim) || dim < 0) {
        throw new BlsRequestFormatError(`input '${input.name}' has dimension ${dim}`);
      }
      setU64(view, shapeAt, dim);
      shapeAt += 8;
    }
    setU64(view, at + TENSOR.DATA_OFFSET, base + dataAt[i]);
    setU64(view, at + TENSOR.DATA_SIZE, input.bytes.byteLength);
    bytes.set(input.bytes, dataAt[i]);
  });
  outputNames.forEach((name, i) => putString(outputsAt + i * STR.SIZE, name));
  return { offset: base, length: end };
}

/** A model file given with a load: its path in the model's directory and its bytes. */
export interface ControlFile {
  /** Relative to the model's directory, e.g. `1/model.ts`. */
  path: string;
  /** The file's contents. */
  bytes: Uint8Array;
}

/** What a CONTROL request carries besides the model's name and version. */
export interface ControlRequestOptions {
  /** LOAD: the configuration JSON to load the model with. */
  config?: string;
  /** LOAD: files that replace the model's directory (only with `config`). */
  files?: readonly ControlFile[];
  /** UNLOAD: unload the models that depend on it too. */
  unloadDependents?: boolean;
}

/**
 * Writes a CONTROL payload: which model, (for IS_READY) which version, and
 * (for LOAD) a configuration and files, (for UNLOAD) flags. Layout: the
 * struct, the file table, then the name, configuration, paths and bytes.
 *
 * @param arena The arena (both halves).
 * @param reserve Takes `bytes` at a 64-byte boundary of the stub's half and returns the offset.
 * @param modelName The model.
 * @param modelVersion Its version, -1 for the server's choice.
 * @param options The configuration, files and flags.
 * @returns The payload's place.
 * @throws {BlsRequestFormatError} If a name, path or configuration cannot be carried.
 */
export function writeControlRequest(
  arena: ArrayBuffer,
  reserve: (bytes: number) => number,
  modelName: string,
  modelVersion: number,
  options: ControlRequestOptions = {},
): WrittenPayload {
  const name = text(modelName, "the model name", MAX_NAME_LENGTH, false);
  const config = options.config === undefined
    ? new Uint8Array(0)
    : text(options.config, "the configuration", MAX_CONTROL_CONFIG_LENGTH, false);
  const files = options.files ?? [];
  if (files.length > MAX_CONTROL_FILES) {
    throw new BlsRequestFormatError(
      `a load gives ${files.length} files; at most ${MAX_CONTROL_FILES}`,
    );
  }
  if (files.length > 0 && options.config === undefined) {
    throw new BlsRequestFormatError("files are given without a configuration to load them with");
  }
  const paths = files.map((file) =>
    text(file.path, `file path '${file.path}'`, MAX_CONTROL_PATH_LENGTH, false)
  );
  const tableAt = CONTROL_REQUEST.SIZE;
  let at = tableAt + files.length * CONTROL_FILE.SIZE;
  const nameAt = at;
  at += name.byteLength;
  const configAt = at;
  at += config.byteLength;
  const pathAt = paths.map((path) => (at += path.byteLength) - path.byteLength);
  const dataAt = files.map((file) => (at += file.bytes.byteLength) - file.bytes.byteLength);
  const length = at;
  const base = reserve(length);
  const view = new DataView(arena, base, length);
  const bytes = new Uint8Array(arena, base, length);
  const str = (field: number, offset: number, value: Uint8Array) => {
    setU64(view, field + STR.OFFSET, value.byteLength === 0 ? 0 : base + offset);
    view.setUint32(field + STR.LENGTH, value.byteLength, true);
    view.setUint32(field + STR.RESERVED, 0, true);
    bytes.set(value, offset);
  };
  str(CONTROL_REQUEST.MODEL_NAME, nameAt, name);
  view.setBigInt64(CONTROL_REQUEST.MODEL_VERSION, BigInt(modelVersion), true);
  str(CONTROL_REQUEST.CONFIG, configAt, config);
  setU64(view, CONTROL_REQUEST.FILES_OFFSET, files.length === 0 ? 0 : base + tableAt);
  view.setUint32(CONTROL_REQUEST.FILE_COUNT, files.length, true);
  view.setUint32(
    CONTROL_REQUEST.FLAGS,
    options.unloadDependents === true ? CONTROL_FLAG.UNLOAD_DEPENDENTS : 0,
    true,
  );
  files.forEach((file, i) => {
    const entry = tableAt + i * CONTROL_FILE.SIZE;
    str(entry + CONTROL_FILE.PATH, pathAt[i], paths[i]);
    setU64(view, entry + CONTROL_FILE.DATA_OFFSET, base + dataAt[i]);
    setU64(view, entry + CONTROL_FILE.DATA_SIZE, file.bytes.byteLength);
    bytes.set(file.bytes, dataAt[i]);
  });
  return { offset: base, length };
}

/** UTF-8 bytes of `value`: no NUL (the parent makes C strings), within `max` bytes. */
function text(value: string, what: string, max: number, mayBeEmpty: boolean): Uint8Array {
  if (value.includes("\0")) throw new BlsRequestFormatError(`${what} contains a NUL character`);
  const bytes = utf8.encode(value);
  if (bytes.byteLength > max || (bytes.byteLength === 0 && !mayBeEmpty)) {
    throw new BlsRequestFormatError(
      `${what} is ${bytes.byteLength} bytes of UTF-8; it must be ${
        mayBeEmpty ? "at most" : "1 to"
      } ${max}`,
    );
  }
  return bytes;
}

function u64(value: bigint, what: string): bigint {
  if (value < 0n || value > U64_MAX) {
    throw new BlsRequestFormatError(`${what} ${value} is not an unsigned 64-bit integer`);
  }
  return value;
}

function setU64(view: DataView, at: number, value: number): void {
  view.setUint32(at, value % TWO_TO_32, true);
  view.setUint32(at + 4, Math.floor(value / TWO_TO_32), true);
}
