/**
 * The batch exchange on the Worker's side, both directions (the parent's
 * side is ffi/src/batch_codec.c; the layout is ffi/include/tdn_wire.h):
 *
 * - **Reading an EXECUTE** ({@linkcode readBatch}): the parent's
 *   `tdn_batch_header`, `tdn_request`s, `tdn_tensor`s, shapes and strings,
 *   decoded into plain objects whose tensor data are zero-copy views of the
 *   arena.
 * - **Writing a RESULT** ({@linkcode writeResult}): a batch's responses, one
 *   per request (a decoupled model's single response is the same layout, sent
 *   as a RESPONSE).
 * - **Reading a BLS_RESPONSE** ({@linkcode readBlsResponse}): the answer to a
 *   call to another model, which the parent writes as a one-response RESULT.
 *
 * The parent is trusted, but every offset, count and length it wrote is
 * still checked before use: it costs a few comparisons and turns a bug on
 * either side into a clear error ({@linkcode PayloadFormatError}, naming the
 * field) instead of garbage. Both readers share one bounds-checked reader and
 * one tensor reader.
 *
 * @example Decode a batch
 * ```ts ignore
 * import { readBatch } from "./batch_codec.ts";
 *
 * const batch = readBatch(arena, arenaSize, record.offset, record.length);
 * for (const request of batch.requests) console.log(request.id, request.inputs.length);
 * ```
 *
 * @example Write one OK response
 * ```ts
 * import { BumpAllocator } from "./arena_allocator.ts";
 * import { writeResult } from "./batch_codec.ts";
 * import { DATATYPE } from "./layout.ts";
 *
 * const arena = new ArrayBuffer(4096);
 * const allocator = new BumpAllocator({ arena, start: 0, arenaSize: () => 4096 });
 * const { offset, length } = writeResult(allocator, [{
 *   ok: true,
 *   outputs: [{
 *     name: "OUT",
 *     datatypeCode: DATATYPE.UINT8,
 *     shape: [2],
 *     bytes: new Uint8Array([1, 2]),
 *   }],
 * }]);
 * console.log(offset, length); // 0 194
 * ```
 *
 * @example Read a BLS_RESPONSE
 * ```ts ignore
 * import { readBlsResponse } from "./batch_codec.ts";
 *
 * const response = readBlsResponse(arena, record.offset, record.length);
 * for (const output of response.outputs) console.log(output.name, output.data.byteLength);
 * ```
 *
 * @module
 */

import {
  alignUp,
  BATCH_HEADER,
  DATATYPE,
  DATATYPE_ELEMENT_SIZE,
  MAX_ERROR_LENGTH,
  MAX_NAME_LENGTH,
  MAX_OUTPUTS,
  MAX_RANK,
  REQUEST,
  RESPONSE,
  RESPONSE_FLAG,
  RESULT_HEADER,
  STATUS,
  STR,
  TENSOR,
  TENSOR_ALIGN,
} from "./layout.ts";

const TWO_TO_32 = 0x1_0000_0000;

// ---- Reading an EXECUTE ---------------------------------------------------
//
// Everything the parent wrote must lie below the batch's `arena_used` (it
// writes the payload from offset 0 upward and records its end), and
// `arena_used` must lie within the arena.

/** A tensor of a request; `data` aliases the arena. */
export interface WireTensor {
  /** Tensor name. */
  name: string;
  /** `TRITONSERVER_DataType` code. */
  datatype: number;
  /** Dimensions. */
  shape: number[];
  /** Arena offset of the data (a multiple of 64). */
  dataOffset: number;
  /** Data bytes. */
  dataSize: number;
  /** View of the data in the arena (no copy). */
  data: Uint8Array;
}

/** One request of a batch. */
export interface WireRequest {
  /** Request id ("" when none). */
  id: string;
  /** Correlation id: a string when the parent sent a string, else the u64. */
  correlationId: bigint | string;
  /** `TRITONSERVER_RequestFlag` bits. */
  flags: number;
  /** Input tensors. */
  inputs: WireTensor[];
  /** Requested output names; empty means all outputs. */
  requestedOutputNames: string[];
  /** The parameters in the wire form ("" when none; runtime/api/parameters.ts decodes it). */
  parametersJson: string;
  /** The request's timeout in microseconds (0: none; beyond 2^53 rounded). */
  timeoutMicros: number;
}

/** A decoded EXECUTE payload. */
export interface WireBatch {
  /** First arena byte the stub may use for its results. */
  arenaUsed: number;
  /** The requests in order. */
  requests: WireRequest[];
}

/** A malformed EXECUTE payload; the message names the field. */
/** A malformed payload from the parent (EXECUTE, BLS_RESPONSE); the message names the field. */
export class PayloadFormatError extends Error {
  /** @param message What is wrong, naming the field. */
  constructor(message: string) {
    super(message);
    this.name = "PayloadFormatError";
  }
}

/**
 * Decodes the EXECUTE payload whose `tdn_batch_header` is at `offset`.
 *
 * @param arena The arena (the region past the control page); may be larger
 * than `arenaSize` (the mapped window), only `[0, arenaSize)` is read.
 * @param arenaSize The current arena size in bytes.
 * @param offset The EXECUTE record's offset.
 * @param length The EXECUTE record's length (at least the header).
 * @returns The batch.
 * @throws {PayloadFormatError} Naming the first field that is out of bounds or invalid.
 */
export function readBatch(
  arena: ArrayBuffer,
  arenaSize: number,
  offset: number,
  length: number,
): WireBatch {
  if (
    !Number.isSafeInteger(arenaSize) || arenaSize < 0 ||
    arenaSize > arena.byteLength
  ) {
    throw new PayloadFormatError(
      `arena size ${arenaSize} exceeds the mapped arena (${arena.byteLength} bytes)`,
    );
  }
  if (length < BATCH_HEADER.SIZE) {
    throw new PayloadFormatError(
      `EXECUTE length ${length} is smaller than a batch header`,
    );
  }
  const whole = new Reader(arena, arenaSize);
  whole.check(offset, BATCH_HEADER.SIZE, "batch header", "");
  const arenaUsed = whole.u64(offset + BATCH_HEADER.ARENA_USED, "arena_used", "");
  if (arenaUsed > arenaSize || arenaUsed % TENSOR_ALIGN !== 0) {
    throw new PayloadFormatError(
      `arena_used ${arenaUsed} is not a 64-aligned offset within the ${arenaSize}-byte arena`,
    );
  }
  // Everything the parent wrote lies below arena_used.
  const reader = new Reader(arena, arenaUsed);
  reader.check(offset, BATCH_HEADER.SIZE, "batch header", "");
  const count = reader.u32(offset + BATCH_HEADER.REQUEST_COUNT);
  const offsetsAt = offset + BATCH_HEADER.SIZE;
  reader.check(offsetsAt, count * 8, "request_offsets", "");
  const requests: WireRequest[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const where = `request ${i}`;
    const at = reader.u64(offsetsAt + i * 8, "request_offsets", `[${i}]`);
    requests[i] = readRequest(reader, at, where);
  }
  return { arenaUsed, requests };
}

// Error messages name the field as `${where} ${field}`; they are put
// together only when one is thrown (a batch is read on every request).
function readRequest(reader: Reader, at: number, where: string): WireRequest {
  reader.check(at, REQUEST.SIZE, where, "");
  const id = reader.str(at + REQUEST.ID, where, "id", Infinity);
  const correlationString = reader.str(
    at + REQUEST.CORRELATION_ID_STRING,
    where,
    "correlation_id_string",
    Infinity,
  );
  const correlationId: bigint | string = correlationString.length > 0
    ? correlationString
    : reader.view.getBigUint64(at + REQUEST.CORRELATION_ID, true);
  const flags = reader.u32(at + REQUEST.FLAGS);

  const inputCount = reader.u32(at + REQUEST.INPUT_COUNT);
  const inputsAt = reader.u64(at + REQUEST.INPUTS_OFFSET, where, "inputs_offset");
  const inputs = readTensors(reader, inputsAt, inputCount, where, "input", EXECUTE_INPUT);

  const outputCount = reader.u32(at + REQUEST.REQUESTED_OUTPUT_COUNT);
  const outputsAt = reader.u64(
    at + REQUEST.REQUESTED_OUTPUTS_OFFSET,
    where,
    "requested_outputs_offset",
  );
  reader.check(outputsAt, outputCount * STR.SIZE, where, "requested outputs");
  const requestedOutputNames: string[] = new Array(outputCount);
  for (let j = 0; j < outputCount; j++) {
    requestedOutputNames[j] = reader.str(
      outputsAt + j * STR.SIZE,
      where,
      j,
      MAX_NAME_LENGTH,
    );
  }
  const parametersJson = reader.str(
    at + REQUEST.PARAMETERS_JSON,
    where,
    "parameters_json",
    Infinity,
  );
  const timeoutMicros = Number(reader.view.getBigUint64(at + REQUEST.TIMEOUT_US, true));
  return { id, correlationId, flags, inputs, requestedOutputNames, parametersJson, timeoutMicros };
}

// ---- Writing a RESULT -------------------------------------------------------
//
// Layout, from a 64-aligned base the allocator hands out (after everything
// the batch already allocated): `tdn_result_header`; `tdn_response[n]`; the
// `tdn_tensor`s of response 0, then of response 1, ...; every tensor's shape
// (int64[rank]) in the same order; the strings (per response: the error
// message, then each output name); then the data of each tensor that is not
// in the arena yet, each at the next 64-byte boundary. The layout is fixed
// so that `tests/wire/golden/result_v3.bin` pins it.
//
// An output whose bytes already are a 64-aligned view of the arena that the
// allocator says the parent may read (allocated through it during
// `execute`, or an input passed through) is referenced, not copied; any
// other data is copied once.

/**
 * Where a result is written: an arena scope (runtime/wire/stub_arena.ts) or,
 * in tests, a {@linkcode BumpAllocator}.
 */
export interface ResultAllocator {
  /** The arena. */
  readonly arena: ArrayBuffer;
  /** Takes `byteLength` bytes at a 64-byte boundary and returns their offset. */
  reserve(byteLength: number): number;
  /** True if the parent may read [offset, offset + length) when it takes the result. */
  canReference(offset: number, length: number): boolean;
}

/** An output tensor ready for the wire. */
export interface ResultOutput {
  /** Tensor name. */
  name: string;
  /** `TRITONSERVER_DataType` code. */
  datatypeCode: number;
  /** Dimensions. */
  shape: readonly number[];
  /** The data in wire layout (BYTES: u32 length + bytes per element). */
  bytes: Uint8Array;
  /**
   * Set by the producer when the data lives in the arena; advisory only: the
   * writer itself checks whether `bytes` is a referenceable arena view.
   */
  arenaOffset?: number | undefined;
}

/**
 * One response: outputs, or an error. `reschedule` (with no outputs and no
 * parameters) says the request has no response this time: the parent
 * releases it with RESCHEDULE (`TDN_RESPONSE_RESCHEDULE`).
 */
export type ResultResponse =
  | { ok: true; outputs: readonly ResultOutput[]; parameters?: string; reschedule?: boolean }
  | { ok: false; code: number; message: string; parameters?: string };

/** Where the RESULT payload was written (the record's offset and length). */
export interface WrittenResult {
  /** Arena offset of the `tdn_result_header`. */
  offset: number;
  /** Bytes from the header to the end of the last data. */
  length: number;
}

/** A response the wire format cannot carry; the message names the field. */
export class ResultFormatError extends Error {
  /** @param message What is wrong. */
  constructor(message: string) {
    super(message);
    this.name = "ResultFormatError";
  }
}

const utf8Encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

interface PlannedOutput {
  output: ResultOutput;
  name: Uint8Array;
  /** Arena offset when referenced in place, else undefined (copied). */
  inPlace: number | undefined;
  /** Offset of the copied data relative to the base. */
  dataAt: number;
}

interface PlannedResponse {
  response: ResultResponse;
  message: Uint8Array;
  /** parameters_json in the wire form (runtime/api/parameters.ts), empty when none. */
  parameters: Uint8Array;
  outputs: PlannedOutput[];
}

/**
 * Writes `responses` (one per request, in order) as a RESULT payload.
 *
 * @param allocator Where the result goes, and which arena bytes it may refer to.
 * @param responses The responses.
 * @returns The payload's offset and length.
 * @throws {ResultFormatError} If a response exceeds a wire limit.
 * @throws {ArenaExhaustedError} If the arena cannot hold the result.
 */
export function writeResult(
  allocator: ResultAllocator,
  responses: readonly ResultResponse[],
): WrittenResult {
  const arena = allocator.arena;
  let tensorCount = 0;
  let dimCount = 0;
  let stringBytes = 0;
  const plan: PlannedResponse[] = responses.map((response, r) => {
    const parameters = response.parameters ? utf8Encoder.encode(response.parameters) : EMPTY;
    stringBytes += parameters.byteLength;
    if (response.ok) {
      if (
        response.reschedule === true && (response.outputs.length > 0 || parameters.byteLength > 0)
      ) {
        throw new ResultFormatError(
          `response ${r} reschedules its request and carries outputs or parameters`,
        );
      }
      if (response.outputs.length > MAX_OUTPUTS) {
        throw new ResultFormatError(
          `response ${r} has ${response.outputs.length} outputs, more than ${MAX_OUTPUTS}`,
        );
      }
      const outputs = response.outputs.map((output, o): PlannedOutput => {
        const name = encodeName(output.name);
        checkOutput(output, name, `response ${r} output ${o}`);
        stringBytes += name.byteLength;
        dimCount += output.shape.length;
        const bytes = output.bytes;
        const inPlace = bytes.buffer === arena &&
            bytes.byteOffset % 64 === 0 &&
            allocator.canReference(bytes.byteOffset, bytes.byteLength)
          ? bytes.byteOffset
          : undefined;
        return { output, name, inPlace, dataAt: 0 };
      });
      tensorCount += outputs.length;
      return { response, message: EMPTY, parameters, outputs };
    }
    const message = truncateUtf8(utf8Encoder.encode(response.message), MAX_ERROR_LENGTH);
    stringBytes += message.byteLength;
    return { response, message, parameters, outputs: [] };
  });

  // Offsets relative to the (64-aligned) base.
  const responsesAt = RESULT_HEADER.SIZE;
  const tensorsAt = responsesAt + responses.length * RESPONSE.SIZE;
  const shapesAt = tensorsAt + tensorCount * TENSOR.SIZE;
  const stringsAt = shapesAt + dimCount * 8;
  let end = stringsAt + stringBytes;
  for (const planned of plan) {
    for (const output of planned.outputs) {
      if (output.inPlace !== undefined) continue;
      output.dataAt = alignUp(end);
      end = output.dataAt + output.output.bytes.byteLength;
    }
  }

  const base = allocator.reserve(end);
  const view = new DataView(arena, base, end);
  const bytes = new Uint8Array(arena, base, end);
  view.setUint32(RESULT_HEADER.RESPONSE_COUNT, responses.length, true);
  view.setUint32(RESULT_HEADER.RESERVED, 0, true);
  setU64(view, RESULT_HEADER.RESPONSES_OFFSET, base + responsesAt);

  let tensorAt = tensorsAt;
  let shapeAt = shapesAt;
  let stringAt = stringsAt;
  const writeString = (at: number, text: Uint8Array): void => {
    setU64(view, at + STR.OFFSET, base + stringAt);
    view.setUint32(at + STR.LENGTH, text.byteLength, true);
    view.setUint32(at + STR.RESERVED, 0, true);
    bytes.set(text, stringAt);
    stringAt += text.byteLength;
  };

  plan.forEach((planned, r) => {
    const at = responsesAt + r * RESPONSE.SIZE;
    const { response } = planned;
    view.setUint32(at + RESPONSE.STATUS, response.ok ? STATUS.OK : STATUS.ERROR, true);
    view.setUint32(at + RESPONSE.ERROR_CODE, response.ok ? 0 : response.code >>> 0, true);
    writeString(at + RESPONSE.ERROR_MESSAGE, planned.message);
    view.setUint32(at + RESPONSE.OUTPUT_COUNT, planned.outputs.length, true);
    view.setUint32(
      at + RESPONSE.FLAGS,
      response.ok && response.reschedule === true ? RESPONSE_FLAG.RESCHEDULE : 0,
      true,
    );
    setU64(view, at + RESPONSE.OUTPUTS_OFFSET, base + tensorAt);
    if (planned.parameters.byteLength > 0) {
      writeString(at + RESPONSE.PARAMETERS_JSON, planned.parameters);
    } else {
      setU64(view, at + RESPONSE.PARAMETERS_JSON + STR.OFFSET, 0);
      view.setUint32(at + RESPONSE.PARAMETERS_JSON + STR.LENGTH, 0, true);
      view.setUint32(at + RESPONSE.PARAMETERS_JSON + STR.RESERVED, 0, true);
    }

    for (const { output, name, inPlace, dataAt } of planned.outputs) {
      writeString(tensorAt + TENSOR.NAME, name);
      view.setUint32(tensorAt + TENSOR.DATATYPE, output.datatypeCode, true);
      view.setUint32(tensorAt + TENSOR.RANK, output.shape.length, true);
      setU64(view, tensorAt + TENSOR.SHAPE_OFFSET, base + shapeAt);
      for (const dim of output.shape) {
        setU64(view, shapeAt, dim); // checked: a non-negative safe integer
        shapeAt += 8;
      }
      let dataOffset: number;
      if (inPlace !== undefined) {
        dataOffset = inPlace;
      } else {
        dataOffset = base + dataAt;
        bytes.set(output.bytes, dataAt);
      }
      setU64(view, tensorAt + TENSOR.DATA_OFFSET, dataOffset);
      setU64(view, tensorAt + TENSOR.DATA_SIZE, output.bytes.byteLength);
      tensorAt += TENSOR.SIZE;
    }
  });
  return { offset: base, length: end };
}

function checkOutput(output: ResultOutput, name: Uint8Array, where: string): void {
  if (name.byteLength === 0 || name.byteLength > MAX_NAME_LENGTH) {
    throw new ResultFormatError(
      `${where} name is ${name.byteLength} bytes; it must be 1 to ${MAX_NAME_LENGTH}`,
    );
  }
  if (!Number.isInteger(output.datatypeCode) || output.datatypeCode < 0) {
    throw new ResultFormatError(`${where} (${output.name}) has datatype ${output.datatypeCode}`);
  }
  if (output.shape.length > MAX_RANK) {
    throw new ResultFormatError(
      `${where} (${output.name}) has rank ${output.shape.length}, more than ${MAX_RANK}`,
    );
  }
  for (const dim of output.shape) {
    if (!Number.isSafeInteger(dim) || dim < 0) {
      throw new ResultFormatError(`${where} (${output.name}) has dimension ${dim}`);
    }
  }
}

// Output names repeat batch after batch: keep their UTF-8 form.
const encodedNames = new Map<string, Uint8Array>();
const MAX_CACHED_NAMES = 1024;

function encodeName(name: string): Uint8Array {
  let encoded = encodedNames.get(name);
  if (encoded === undefined) {
    encoded = utf8Encoder.encode(name);
    if (encodedNames.size >= MAX_CACHED_NAMES) encodedNames.clear();
    encodedNames.set(name, encoded);
  }
  return encoded;
}

/** Cuts UTF-8 text to at most `max` bytes without splitting a character. */
function truncateUtf8(text: Uint8Array, max: number): Uint8Array {
  if (text.byteLength <= max) return text;
  let end = max;
  // Step back over continuation bytes (10xxxxxx) to a character start.
  while (end > 0 && (text[end] & 0xc0) === 0x80) end--;
  return text.subarray(0, end);
}

function setU64(view: DataView, at: number, value: number): void {
  view.setUint32(at, value % TWO_TO_32, true);
  view.setUint32(at + 4, Math.floor(value / TWO_TO_32), true);
}

// ---- Reading a BLS_RESPONSE -------------------------------------------------
//
// Its payload is a one-response RESULT that the parent wrote in its half of
// the arena, whose output data Triton wrote in place beside it. The views
// returned alias the arena: the parent reuses those blocks once the record is
// done (the Inbox marks it so after its handler ran), so a caller copies what
// it keeps before returning.

/** One output of a BLS response; `data` views the arena while the record is handled. */
export type BlsResponseOutput = WireTensor;

/** A decoded BLS_RESPONSE payload. */
export interface DecodedBlsResponse {
  /** Set when the called model (or Triton) failed the request. */
  error: { code: number; message: string } | undefined;
  /** The outputs. */
  outputs: BlsResponseOutput[];
  /** The parameters in the wire's object form ("" for none). */
  parametersJson: string;
}

/**
 * Decodes the BLS_RESPONSE payload at arena [offset, offset + length).
 *
 * @param arena The arena (both halves).
 * @param offset The record's offset.
 * @param length The record's length.
 * @returns The response.
 * @throws {PayloadFormatError} Naming the first field out of bounds or invalid.
 */
export function readBlsResponse(
  arena: ArrayBuffer,
  offset: number,
  length: number,
): DecodedBlsResponse {
  const where = "BLS_RESPONSE";
  if (length < RESULT_HEADER.SIZE) {
    throw new PayloadFormatError(`${where} of ${length} bytes holds no result header`);
  }
  const reader = new Reader(arena, arena.byteLength);
  reader.check(offset, RESULT_HEADER.SIZE, where, "result header");
  const count = reader.u32(offset + RESULT_HEADER.RESPONSE_COUNT);
  if (count !== 1) throw new PayloadFormatError(`${where} response_count is ${count}, not 1`);
  const at = reader.u64(offset + RESULT_HEADER.RESPONSES_OFFSET, where, "responses_offset");
  reader.check(at, RESPONSE.SIZE, where, "response");
  const text = (field: string, fieldAt: number) =>
    reader.str(fieldAt, where, field, Infinity, lenientUtf8);
  const error = reader.u32(at + RESPONSE.STATUS) === STATUS.OK ? undefined : {
    code: reader.u32(at + RESPONSE.ERROR_CODE),
    message: text("error_message", at + RESPONSE.ERROR_MESSAGE),
  };
  const outputCount = reader.u32(at + RESPONSE.OUTPUT_COUNT);
  if (outputCount > MAX_OUTPUTS) {
    throw new PayloadFormatError(`${where} output_count is ${outputCount}; at most ${MAX_OUTPUTS}`);
  }
  const tensorsAt = reader.u64(at + RESPONSE.OUTPUTS_OFFSET, where, "outputs_offset");
  const outputs = readTensors(reader, tensorsAt, outputCount, where, "output", BLS_OUTPUT);
  const parametersJson = text("parameters_json", at + RESPONSE.PARAMETERS_JSON);
  return { error, outputs, parametersJson };
}

// ---- Reading, shared by both readers ---------------------------------------

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
// What Triton and another model wrote is passed on as it is, invalid bytes replaced.
const lenientUtf8 = new TextDecoder();

/**
 * How a tensor is read: an EXECUTE's inputs lie at 64-byte boundaries and
 * have names the wire bounds; a BLS_RESPONSE's outputs lie where Triton put
 * them, with the names the called model gave them.
 */
interface TensorRules {
  aligned: boolean;
  maxNameLength: number;
  decoder: TextDecoder;
}

const EXECUTE_INPUT: TensorRules = {
  aligned: true,
  maxNameLength: MAX_NAME_LENGTH,
  decoder: strictUtf8,
};
const BLS_OUTPUT: TensorRules = { aligned: false, maxNameLength: Infinity, decoder: lenientUtf8 };

/** Reads the `count` consecutive `tdn_tensor`s at `at`: a request's inputs, a response's outputs. */
function readTensors(
  reader: Reader,
  at: number,
  count: number,
  where: string,
  role: "input" | "output",
  rules: TensorRules,
): WireTensor[] {
  reader.check(at, count * TENSOR.SIZE, where, role === "input" ? "inputs" : "outputs");
  const tensors: WireTensor[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const tensorWhere = new TensorWhere(where, role, i);
    tensors[i] = readTensor(reader, at + i * TENSOR.SIZE, tensorWhere, rules);
  }
  return tensors;
}

function readTensor(
  reader: Reader,
  at: number,
  where: TensorWhere,
  rules: TensorRules,
): WireTensor {
  const name = reader.str(at + TENSOR.NAME, where, "name", rules.maxNameLength, rules.decoder);
  where.name = name;
  const datatype = reader.u32(at + TENSOR.DATATYPE);
  if (datatype <= DATATYPE.INVALID || datatype > DATATYPE.BF16) {
    throw new PayloadFormatError(`${where.named()} has unknown datatype ${datatype}`);
  }
  const rank = reader.u32(at + TENSOR.RANK);
  if (rank > MAX_RANK) {
    throw new PayloadFormatError(`${where.named()} rank ${rank} exceeds ${MAX_RANK}`);
  }
  const shapeAt = reader.u64(at + TENSOR.SHAPE_OFFSET, where, "shape_offset");
  reader.check(shapeAt, rank * 8, where, "shape");
  const shape: number[] = new Array(rank);
  let elements = 1;
  for (let d = 0; d < rank; d++) {
    const low = reader.view.getUint32(shapeAt + d * 8, true);
    const high = reader.view.getInt32(shapeAt + d * 8 + 4, true);
    if (high < 0 || high >= 0x20_0000) {
      const dim = reader.view.getBigInt64(shapeAt + d * 8, true);
      throw new PayloadFormatError(`${where.named()} dimension ${d} is ${dim}`);
    }
    shape[d] = high * TWO_TO_32 + low;
    elements *= shape[d];
  }
  const dataOffset = reader.u64(at + TENSOR.DATA_OFFSET, where, "data_offset");
  const dataSize = reader.u64(at + TENSOR.DATA_SIZE, where, "data_size");
  if (rules.aligned && dataOffset % TENSOR_ALIGN !== 0) {
    throw new PayloadFormatError(`${where.named()} data_offset ${dataOffset} is not 64-aligned`);
  }
  reader.check(dataOffset, dataSize, where, "data");
  const elementSize = DATATYPE_ELEMENT_SIZE[datatype];
  // BYTES elements are length-prefixed; their walk belongs to the tensor API.
  if (elementSize !== 0 && elements * elementSize !== dataSize) {
    throw new PayloadFormatError(
      `${where.named()} has ${dataSize} data bytes, shape [${shape}] needs ${
        elements * elementSize
      }`,
    );
  }
  const data = new Uint8Array(reader.arena, dataOffset, dataSize);
  return { name, datatype, shape, dataOffset, dataSize, data };
}

/**
 * Where a tensor is, for messages: "request 0 input 1 (INPUT1)". Put into
 * words only when an error is thrown (a batch is read on every request).
 */
class TensorWhere {
  readonly owner: string;
  readonly role: "input" | "output";
  readonly index: number;
  name: string | undefined;

  constructor(owner: string, role: "input" | "output", index: number) {
    this.owner = owner;
    this.role = role;
    this.index = index;
  }

  /** The tensor, with its name once read. */
  named(): string {
    const tensor = `${this.owner} ${this.role} ${this.index}`;
    return this.name === undefined ? tensor : `${tensor} (${this.name})`;
  }
}

/** A place in the batch and a field of it, put into words on error only. */
type Where = string | TensorWhere;

function describe(where: Where, field: string | number): string {
  const place = typeof where === "string" ? where : where.named();
  if (typeof field === "number") return `${place} requested output ${field}`;
  return field === "" ? place : field.startsWith("[") ? `${place}${field}` : `${place} ${field}`;
}

/** Bounds-checked reads below `limit`. */
class Reader {
  readonly arena: ArrayBuffer;
  readonly view: DataView;
  readonly limit: number;

  constructor(arena: ArrayBuffer, limit: number) {
    this.arena = arena;
    this.limit = limit;
    this.view = new DataView(arena, 0, limit);
  }

  /** Throws unless `[offset, offset + size)` lies within the limit. */
  check(offset: number, size: number, where: Where, field: string): void {
    if (
      !Number.isSafeInteger(offset) || !Number.isSafeInteger(size) ||
      offset < 0 || size < 0 || offset > this.limit || size > this.limit - offset
    ) {
      throw new PayloadFormatError(
        `${
          describe(where, field)
        } [${offset}, +${size}) lies outside the payload's ${this.limit} bytes`,
      );
    }
  }

  u32(at: number): number {
    return this.view.getUint32(at, true);
  }

  u64(at: number, where: Where, field: string): number {
    const low = this.view.getUint32(at, true);
    const high = this.view.getUint32(at + 4, true);
    if (high >= 0x20_0000) {
      throw new PayloadFormatError(`${describe(where, field)} exceeds 2^53`);
    }
    return high * TWO_TO_32 + low;
  }

  /** Reads a `tdn_str` (`field`: a requested output's index, or a name). */
  str(
    at: number,
    where: Where,
    field: string | number,
    maxLength: number,
    decoder: TextDecoder = strictUtf8,
  ): string {
    const low = this.view.getUint32(at + STR.OFFSET, true);
    const high = this.view.getUint32(at + STR.OFFSET + 4, true);
    if (high >= 0x20_0000) {
      throw new PayloadFormatError(`${describe(where, field)} offset exceeds 2^53`);
    }
    const offset = high * TWO_TO_32 + low;
    const length = this.u32(at + STR.LENGTH);
    if (length > maxLength) {
      throw new PayloadFormatError(
        `${describe(where, field)} is ${length} bytes, more than ${maxLength}`,
      );
    }
    this.check(
      offset,
      length,
      where,
      typeof field === "number" ? `requested output ${field}` : field,
    );
    if (length === 0) return "";
    const bytes = new Uint8Array(this.arena, offset, length);
    // Names and ids are short and nearly always ASCII: skip TextDecoder's setup cost.
    if (length <= 64) {
      let ascii = "";
      for (let i = 0; i < length; i++) {
        const byte = bytes[i];
        if (byte >= 0x80) {
          ascii = "";
          break;
        }
        ascii += String.fromCharCode(byte);
        if (i === length - 1) return ascii;
      }
    }
    try {
      return decoder.decode(bytes);
    } catch {
      throw new PayloadFormatError(`${describe(where, field)} is not valid UTF-8`);
    }
  }
}
