/**
 * The RESULT record family, both directions: the Worker writes a batch's
 * responses as a RESULT payload (and a decoupled response as a RESPONSE
 * payload) and reads the parent's BLS_RESPONSE payloads, which have the same
 * layout with one response. The parent's side is ffi/src/batch_codec.c.
 *
 * Writing. Layout, from a 64-aligned base the allocator hands out (after
 * everything the batch already allocated): `tdn_result_header`; `tdn_response[n]`; the
 * `tdn_tensor`s of response 0, then of response 1, ...; every tensor's shape
 * (int64[rank]) in the same order; the strings (per response: the error
 * message, then each output name); then the data of each tensor that is not
 * in the arena yet, each at the next 64-byte boundary. The layout is fixed so
 * that `tests/wire/golden/result_v3.bin` pins it.
 *
 * An output whose bytes already are a 64-aligned view of the arena that the
 * allocator says the parent may read (allocated through it during
 * `execute`, or an input passed through) is referenced, not copied; any
 * other data is copied once.
 *
 * @example Write one OK response
 * ```ts
 * import { BumpAllocator } from "./arena_allocator.ts";
 * import { writeResult } from "./result_codec.ts";
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
 * Reading a BLS_RESPONSE. Its payload is a one-response RESULT the parent
 * wrote in its half of the arena (`tdn_result_header`, `tdn_response`,
 * `tdn_tensor`s, shapes, strings), whose output data Triton wrote in place
 * beside it. The views returned alias the arena: the parent reuses those
 * blocks once the record is done (the Inbox marks it so after its handler
 * ran), so a caller copies what it keeps before returning.
 *
 * The parent is trusted, but every offset and size is still checked: it
 * turns a bug on either side into a clear error instead of garbage.
 *
 * @example Read a BLS_RESPONSE
 * ```ts ignore
 * import { readBlsResponse } from "./result_codec.ts";
 *
 * const response = readBlsResponse(arena, record.offset, record.length);
 * for (const output of response.outputs) console.log(output.name, output.data.byteLength);
 * ```
 *
 * @module
 */

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
import {
  alignUp,
  DATATYPE,
  DATATYPE_ELEMENT_SIZE,
  MAX_ERROR_LENGTH,
  MAX_NAME_LENGTH,
  MAX_OUTPUTS,
  MAX_RANK,
  RESPONSE,
  RESPONSE_FLAG,
  RESULT_HEADER,
  STATUS,
  STR,
  TENSOR,
} from "./layout.ts";

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

const TWO_TO_32 = 0x1_0000_0000;
const utf8 = new TextEncoder();
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
    const parameters = response.parameters ? utf8.encode(response.parameters) : EMPTY;
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
    const message = truncateUtf8(utf8.encode(response.message), MAX_ERROR_LENGTH);
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
    encoded = utf8.encode(name);
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

// ---- Reading a BLS_RESPONSE ----------------------------------------------

/** One output of the response; `data` views the arena. */
export interface BlsResponseOutput {
  /** The output's name. */
  name: string;
  /** `TRITONSERVER_DataType` code. */
  datatype: number;
  /** Dimensions. */
  shape: number[];
  /** The data (a view of the arena, valid only while the record is handled). */
  data: Uint8Array;
}

/** A decoded BLS_RESPONSE payload. */
export interface DecodedBlsResponse {
  /** Set when the called model (or Triton) failed the request. */
  error: { code: number; message: string } | undefined;
  /** The outputs. */
  outputs: BlsResponseOutput[];
  /** The parameters in the wire's object form ("" for none). */
  parametersJson: string;
}

/** A malformed payload; the message names the field. */
export class BlsResponseFormatError extends Error {
  /** @param message What is wrong. */
  constructor(message: string) {
    super(message);
    this.name = "BlsResponseFormatError";
  }
}

const lenient = new TextDecoder();

/**
 * Decodes the BLS_RESPONSE payload at arena [offset, offset + length).
 *
 * @param arena The arena (both halves).
 * @param offset The record's offset.
 * @param length The record's length.
 * @returns The response.
 * @throws {BlsResponseFormatError} Naming the first field out of bounds.
 */
export function readBlsResponse(
  arena: ArrayBuffer,
  offset: number,
  length: number,
): DecodedBlsResponse {
  const view = new DataView(arena);
  const check = (at: number, size: number, what: string): void => {
    if (
      !Number.isSafeInteger(at) || !Number.isSafeInteger(size) || at < 0 || size < 0 ||
      at + size > arena.byteLength
    ) {
      throw new BlsResponseFormatError(`${what} [${at}, +${size}) lies outside the arena`);
    }
  };
  const u64 = (at: number, what: string): number => {
    const high = view.getUint32(at + 4, true);
    if (high >= 0x20_0000) throw new BlsResponseFormatError(`${what} exceeds 2^53`);
    return high * TWO_TO_32 + view.getUint32(at, true);
  };
  const str = (at: number, what: string): string => {
    const start = u64(at + STR.OFFSET, what);
    const size = view.getUint32(at + STR.LENGTH, true);
    if (size === 0) return "";
    check(start, size, what);
    return lenient.decode(new Uint8Array(arena, start, size));
  };

  if (length < RESULT_HEADER.SIZE) {
    throw new BlsResponseFormatError(`a payload of ${length} bytes holds no result header`);
  }
  check(offset, RESULT_HEADER.SIZE, "the result header");
  const count = view.getUint32(offset + RESULT_HEADER.RESPONSE_COUNT, true);
  if (count !== 1) throw new BlsResponseFormatError(`response_count is ${count}, not 1`);
  const at = u64(offset + RESULT_HEADER.RESPONSES_OFFSET, "responses_offset");
  check(at, RESPONSE.SIZE, "the response");
  const status = view.getUint32(at + RESPONSE.STATUS, true);
  const error = status === STATUS.OK ? undefined : {
    code: view.getUint32(at + RESPONSE.ERROR_CODE, true),
    message: str(at + RESPONSE.ERROR_MESSAGE, "error_message"),
  };
  const outputCount = view.getUint32(at + RESPONSE.OUTPUT_COUNT, true);
  if (outputCount > MAX_OUTPUTS) {
    throw new BlsResponseFormatError(`output_count is ${outputCount}; at most ${MAX_OUTPUTS}`);
  }
  const tensorsAt = u64(at + RESPONSE.OUTPUTS_OFFSET, "outputs_offset");
  check(tensorsAt, outputCount * TENSOR.SIZE, "the outputs");
  const outputs: BlsResponseOutput[] = [];
  for (let i = 0; i < outputCount; i++) {
    const tensorAt = tensorsAt + i * TENSOR.SIZE;
    const name = str(tensorAt + TENSOR.NAME, `output ${i} name`);
    const datatype = view.getUint32(tensorAt + TENSOR.DATATYPE, true);
    if (datatype <= DATATYPE.INVALID || datatype > DATATYPE.BF16) {
      throw new BlsResponseFormatError(`output '${name}' has datatype ${datatype}`);
    }
    const rank = view.getUint32(tensorAt + TENSOR.RANK, true);
    if (rank > MAX_RANK) throw new BlsResponseFormatError(`output '${name}' has rank ${rank}`);
    const shapeAt = u64(tensorAt + TENSOR.SHAPE_OFFSET, `output '${name}' shape_offset`);
    check(shapeAt, rank * 8, `output '${name}' shape`);
    const shape: number[] = [];
    let elements = 1;
    for (let d = 0; d < rank; d++) {
      const dim = view.getBigInt64(shapeAt + d * 8, true);
      if (dim < 0n || dim > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw new BlsResponseFormatError(`output '${name}' has dimension ${dim}`);
      }
      shape.push(Number(dim));
      elements *= Number(dim);
    }
    const dataAt = u64(tensorAt + TENSOR.DATA_OFFSET, `output '${name}' data_offset`);
    const size = u64(tensorAt + TENSOR.DATA_SIZE, `output '${name}' data_size`);
    check(dataAt, size, `output '${name}' data`);
    const elementSize = DATATYPE_ELEMENT_SIZE[datatype];
    if (elementSize !== 0 && elements * elementSize !== size) {
      throw new BlsResponseFormatError(
        `output '${name}' has ${size} data bytes; shape [${shape}] needs ${elements * elementSize}`,
      );
    }
    outputs.push({ name, datatype, shape, data: new Uint8Array(arena, dataAt, size) });
  }
  const parametersJson = str(at + RESPONSE.PARAMETERS_JSON, "parameters_json");
  return { error, outputs, parametersJson };
}
