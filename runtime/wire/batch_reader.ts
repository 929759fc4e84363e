/**
 * Decodes an EXECUTE payload (`tdn_batch_header`, `tdn_request`s,
 * `tdn_tensor`s, shapes, strings) from the arena into plain objects whose
 * tensor data are zero-copy views of the arena.
 *
 * The parent is trusted, but every offset, count and length is still checked
 * against the batch's bounds before use: it costs a few comparisons and turns
 * a bug on either side into a clear error instead of garbage. Everything the
 * parent wrote must lie below the batch's `arena_used` (it writes the payload
 * from offset 0 upward and records its end), and `arena_used` must lie
 * within the arena.
 *
 * @example Decode a batch
 * ```ts ignore
 * import { readBatch } from "./batch_reader.ts";
 *
 * const batch = readBatch(arena, arenaSize, record.offset, record.length);
 * for (const request of batch.requests) console.log(request.id, request.inputs.length);
 * ```
 *
 * @module
 */

import {
  BATCH_HEADER,
  DATATYPE,
  DATATYPE_ELEMENT_SIZE,
  MAX_NAME_LENGTH,
  MAX_RANK,
  REQUEST,
  STR,
  TENSOR,
  TENSOR_ALIGN,
} from "./layout.ts";

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
export class BatchFormatError extends Error {
  /** @param message What is wrong, naming the field. */
  constructor(message: string) {
    super(message);
    this.name = "BatchFormatError";
  }
}

const TWO_TO_32 = 0x1_0000_0000;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Decodes the EXECUTE payload whose `tdn_batch_header` is at `offset`.
 *
 * @param arena The arena (the region past the control page); may be larger
 * than `arenaSize` (the mapped window), only `[0, arenaSize)` is read.
 * @param arenaSize The current arena size in bytes.
 * @param offset The EXECUTE record's offset.
 * @param length The EXECUTE record's length (at least the header).
 * @returns The batch.
 * @throws {BatchFormatError} Naming the first field that is out of bounds or invalid.
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
    throw new BatchFormatError(
      `arena size ${arenaSize} exceeds the mapped arena (${arena.byteLength} bytes)`,
    );
  }
  if (length < BATCH_HEADER.SIZE) {
    throw new BatchFormatError(
      `EXECUTE length ${length} is smaller than a batch header`,
    );
  }
  const whole = new Reader(arena, arenaSize);
  whole.check(offset, BATCH_HEADER.SIZE, "batch header", "");
  const arenaUsed = whole.u64(offset + BATCH_HEADER.ARENA_USED, "arena_used", "");
  if (arenaUsed > arenaSize || arenaUsed % TENSOR_ALIGN !== 0) {
    throw new BatchFormatError(
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
  reader.check(inputsAt, inputCount * TENSOR.SIZE, where, "inputs");
  const inputs: WireTensor[] = new Array(inputCount);
  for (let j = 0; j < inputCount; j++) {
    inputs[j] = readTensor(reader, inputsAt + j * TENSOR.SIZE, where, j);
  }

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

function readTensor(reader: Reader, at: number, request: string, index: number): WireTensor {
  const where = new TensorWhere(request, index);
  const name = reader.str(at + TENSOR.NAME, where, "name", MAX_NAME_LENGTH);
  where.name = name;
  const datatype = reader.u32(at + TENSOR.DATATYPE);
  if (datatype <= DATATYPE.INVALID || datatype > DATATYPE.BF16) {
    throw new BatchFormatError(`${where.named()} has unknown datatype ${datatype}`);
  }
  const rank = reader.u32(at + TENSOR.RANK);
  if (rank > MAX_RANK) {
    throw new BatchFormatError(`${where.named()} rank ${rank} exceeds ${MAX_RANK}`);
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
      throw new BatchFormatError(`${where.named()} dimension ${d} is ${dim}`);
    }
    shape[d] = high * TWO_TO_32 + low;
    elements *= shape[d];
  }
  const dataOffset = reader.u64(at + TENSOR.DATA_OFFSET, where, "data_offset");
  const dataSize = reader.u64(at + TENSOR.DATA_SIZE, where, "data_size");
  if (dataOffset % TENSOR_ALIGN !== 0) {
    throw new BatchFormatError(`${where.named()} data_offset ${dataOffset} is not 64-aligned`);
  }
  reader.check(dataOffset, dataSize, where, "data");
  const elementSize = DATATYPE_ELEMENT_SIZE[datatype];
  // BYTES elements are length-prefixed; their walk belongs to the tensor API.
  if (elementSize !== 0 && elements * elementSize !== dataSize) {
    throw new BatchFormatError(
      `${where.named()} has ${dataSize} data bytes, shape [${shape}] needs ${
        elements * elementSize
      }`,
    );
  }
  const data = new Uint8Array(reader.arena, dataOffset, dataSize);
  return { name, datatype, shape, dataOffset, dataSize, data };
}

/** Where a tensor is, for messages: "request 0 input 1 (INPUT1)". */
class TensorWhere {
  readonly request: string;
  readonly index: number;
  name: string | undefined;

  constructor(request: string, index: number) {
    this.request = request;
    this.index = index;
  }

  /** The tensor, with its name once read. */
  named(): string {
    const tensor = `${this.request} input ${this.index}`;
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
      throw new BatchFormatError(
        `${
          describe(where, field)
        } [${offset}, +${size}) lies outside the batch (${this.limit} bytes)`,
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
      throw new BatchFormatError(`${describe(where, field)} exceeds 2^53`);
    }
    return high * TWO_TO_32 + low;
  }

  /** Reads a `tdn_str` (`field`: a requested output's index, or a name). */
  str(at: number, where: Where, field: string | number, maxLength: number): string {
    const low = this.view.getUint32(at + STR.OFFSET, true);
    const high = this.view.getUint32(at + STR.OFFSET + 4, true);
    if (high >= 0x20_0000) {
      throw new BatchFormatError(`${describe(where, field)} offset exceeds 2^53`);
    }
    const offset = high * TWO_TO_32 + low;
    const length = this.u32(at + STR.LENGTH);
    if (length > maxLength) {
      throw new BatchFormatError(
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
      return utf8.decode(bytes);
    } catch {
      throw new BatchFormatError(`${describe(where, field)} is not valid UTF-8`);
    }
  }
}
