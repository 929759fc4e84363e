/**
 * Builds input tensors over the arena the parent wrote them into, without
 * copying.
 *
 * @module
 */

import {
  dataTypeArrayType,
  dataTypeByteSize,
  dataTypeFromCode,
  type TensorData,
} from "./datatype.ts";
import { ErrorCode, TritonError } from "./error.ts";
import { checkShape, formatShape, TensorOwner } from "./shape.ts";
import { Tensor } from "./tensor.ts";
import { type TensorValues, viewOf } from "./values.ts";

/**
 * An input tensor whose data views `arena` at `offset` (no copy). The wire
 * aligns tensor data to 64 bytes; should an offset not suit the element type,
 * the data is copied instead.
 *
 * @param name The input's name.
 * @param datatypeCode Its `TRITONSERVER_DataType` code.
 * @param shape Its dimensions.
 * @param arena The arena the parent wrote the batch into.
 * @param offset Arena-relative offset of the data.
 * @param byteLength Size of the data in bytes.
 * @throws {TritonError} `INVALID_ARG` naming the input if the datatype code is
 * unknown, the range falls outside the arena, the size does not match the
 * shape, or a `BYTES` layout is malformed.
 *
 * @example
 * ```ts
 * import { tensorFromWire } from "./wire_tensor.ts";
 *
 * const arena = new ArrayBuffer(128);
 * new Float32Array(arena, 64, 2).set([1, 2]);
 * console.log(tensorFromWire("INPUT0", 11, [2], arena, 64, 8).data); // Float32Array [1, 2]
 * ```
 */
export function tensorFromWire(
  name: string,
  datatypeCode: number,
  shape: number[],
  arena: ArrayBufferLike,
  offset: number,
  byteLength: number,
): Tensor {
  const owner = new TensorOwner("input", name);
  const datatype = dataTypeFromCode(datatypeCode);
  if (datatype === undefined) {
    throw new TritonError(
      `${owner} has unknown datatype code ${datatypeCode}`,
      ErrorCode.INVALID_ARG,
    );
  }
  if (
    !Number.isSafeInteger(offset) || !Number.isSafeInteger(byteLength) || offset < 0 ||
    byteLength < 0 || offset + byteLength > arena.byteLength
  ) {
    throw new TritonError(
      `${owner}: data at [${offset}, ${offset} + ${byteLength}) lies outside the ` +
        `${arena.byteLength}-byte arena`,
      ErrorCode.INVALID_ARG,
    );
  }
  const { elementCount } = checkShape(owner, shape);
  let data: TensorData;
  if (datatype === "BYTES") {
    data = new Uint8Array(arena, offset, byteLength);
  } else {
    const elementSize = dataTypeByteSize(datatype);
    if (byteLength !== elementCount * elementSize) {
      throw new TritonError(
        `${owner} has ${byteLength} bytes of data but shape ${formatShape(shape)} of ` +
          `${datatype} needs ${elementCount * elementSize}`,
        ErrorCode.INVALID_ARG,
      );
    }
    const arrayType = dataTypeArrayType(datatype);
    if (offset % elementSize === 0) {
      data = viewOf(arrayType, arena, offset, elementCount);
    } else {
      const copy = new ArrayBuffer(byteLength);
      new Uint8Array(copy).set(new Uint8Array(arena, offset, byteLength));
      data = viewOf(arrayType, copy, 0, elementCount);
    }
  }
  return new Tensor(name, datatype, shape, data as TensorValues<typeof datatype>);
}
