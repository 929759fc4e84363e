/**
 * Decodes the payload of a BLS_RESPONSE: a one-response RESULT the parent
 * wrote in its half of the arena (`tdn_result_header`, `tdn_response`,
 * `tdn_tensor`s, shapes, strings), whose output data Triton wrote in place
 * beside it. The views returned alias the arena: the parent reuses those
 * blocks once the record is done (the Inbox marks it so after its handler
 * ran), so a caller copies what it keeps before returning.
 *
 * The parent is trusted, but every offset and size is still checked: it
 * turns a bug on either side into a clear error instead of garbage.
 *
 * @example
 * ```ts ignore
 * import { readBlsResponse } from "./bls_response_reader.ts";
 *
 * const response = readBlsResponse(arena, record.offset, record.length);
 * for (const output of response.outputs) console.log(output.name, output.data.byteLength);
 * ```
 *
 * @module
 */

import {
  DATATYPE,
  DATATYPE_ELEMENT_SIZE,
  MAX_OUTPUTS,
  MAX_RANK,
  RESPONSE,
  RESULT_HEADER,
  STATUS,
  STR,
  TENSOR,
} from "./layout.ts";

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

const TWO_TO_32 = 0x1_0000_0000;
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
