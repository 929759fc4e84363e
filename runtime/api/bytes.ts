/**
 * Triton's serialized layout for `BYTES` tensors: for each element, its length
 * as a little-endian u32, then its bytes. Encoding sizes the result first and
 * writes every element in place, so a tensor of a million strings costs one
 * allocation.
 *
 * @module
 */

import { describeValue } from "./describe.ts";
import { ErrorCode, TritonError } from "./error.ts";

const LENGTH_PREFIX_BYTES = 4;
const MAX_ELEMENT_BYTES = 0xffff_ffff;

const encoder = new TextEncoder();

/**
 * Serializes byte strings into Triton's `BYTES` layout. Strings are encoded
 * as UTF-8 (a lone surrogate becomes U+FFFD, as `TextEncoder` does).
 *
 * @param elements The elements, in row-major order.
 * @returns One buffer holding every element with its length prefix.
 * @throws {TritonError} `INVALID_ARG` if an element is neither a string nor a
 * `Uint8Array`, or is longer than 4 GiB - 1 bytes.
 *
 * @example
 * ```ts
 * import { decodeBytesTensor, encodeBytesTensor } from "@triton/deno";
 *
 * const data = encodeBytesTensor(["hi", new Uint8Array([0xff])]);
 * console.log(data); // Uint8Array [2, 0, 0, 0, 104, 105, 1, 0, 0, 0, 255]
 * console.log(decodeBytesTensor(data).length); // 2
 * ```
 */
export function encodeBytesTensor(
  elements: readonly (string | Uint8Array)[],
): Uint8Array<ArrayBuffer> {
  const count = elements.length;
  // Copy the elements and their sizes first: the caller's array is read once.
  const items: (string | Uint8Array)[] = new Array(count);
  const sizes = new Float64Array(count);
  let total = 0;
  for (let i = 0; i < count; i++) {
    const element = elements[i];
    let size: number;
    if (typeof element === "string") {
      size = utf8Length(element);
    } else if (element instanceof Uint8Array) {
      size = element.byteLength;
    } else {
      throw new TritonError(
        `BYTES element ${i} must be a string or a Uint8Array, got ${describeValue(element)}`,
        ErrorCode.INVALID_ARG,
      );
    }
    if (size > MAX_ELEMENT_BYTES) {
      throw new TritonError(
        `BYTES element ${i} has ${size} bytes; the limit is ${MAX_ELEMENT_BYTES}`,
        ErrorCode.INVALID_ARG,
      );
    }
    items[i] = element;
    sizes[i] = size;
    total += LENGTH_PREFIX_BYTES + size;
  }

  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let position = 0;
  for (let i = 0; i < count; i++) {
    const element = items[i];
    const size = sizes[i];
    view.setUint32(position, size, true);
    position += LENGTH_PREFIX_BYTES;
    if (typeof element === "string") {
      const { written } = encoder.encodeInto(element, out.subarray(position, position + size));
      // utf8Length mirrors TextEncoder; a difference is a bug here, not bad input.
      if (written !== size) {
        throw new TritonError(`BYTES element ${i}: UTF-8 size ${written} != computed ${size}`);
      }
    } else {
      out.set(element.subarray(0, size), position);
    }
    position += size;
  }
  return out;
}

/**
 * Splits Triton's `BYTES` layout into its elements. The elements are views
 * into `data` (no copy): they change if `data` changes.
 *
 * @param data The serialized tensor.
 * @param expectedCount If given, the number of elements `data` must hold.
 * @returns One view per element.
 * @throws {TritonError} `INVALID_ARG` if the layout is malformed: a length
 * prefix runs past the end, an element is cut short, or the count differs.
 *
 * @example
 * ```ts
 * import { decodeBytesTensor, encodeBytesTensor } from "@triton/deno";
 *
 * const [first] = decodeBytesTensor(encodeBytesTensor(["héllo"]));
 * console.log(new TextDecoder().decode(first)); // "héllo"
 * ```
 */
export function decodeBytesTensor(data: Uint8Array, expectedCount?: number): Uint8Array[] {
  const elements: Uint8Array[] = [];
  const problem = walkBytesLayout(data, (start, end) => {
    elements.push(data.subarray(start, end));
  });
  if (problem !== undefined) throw new TritonError(problem, ErrorCode.INVALID_ARG);
  checkCount(elements.length, expectedCount);
  return elements;
}

/**
 * Counts the elements of a serialized `BYTES` tensor without creating views,
 * or explains why the layout is malformed.
 *
 * @returns The element count, or a message (a string) describing the fault.
 */
export function countBytesElements(data: Uint8Array): number | string {
  let count = 0;
  const problem = walkBytesLayout(data, () => {
    count++;
  });
  return problem ?? count;
}

/** Calls `visit(start, end)` per element; returns a message if the layout is malformed. */
function walkBytesLayout(
  data: Uint8Array,
  visit: (start: number, end: number) => void,
): string | undefined {
  const length = data.byteLength;
  const view = new DataView(data.buffer, data.byteOffset, length);
  let position = 0;
  let index = 0;
  while (position < length) {
    if (length - position < LENGTH_PREFIX_BYTES) {
      return `malformed BYTES data: element ${index} starts at byte ${position} ` +
        `but only ${length - position} bytes remain for its 4-byte length`;
    }
    const size = view.getUint32(position, true);
    const start = position + LENGTH_PREFIX_BYTES;
    if (size > length - start) {
      return `malformed BYTES data: element ${index} declares ${size} bytes ` +
        `but only ${length - start} remain`;
    }
    visit(start, start + size);
    position = start + size;
    index++;
  }
  return undefined;
}

function checkCount(actual: number, expected: number | undefined): void {
  if (expected !== undefined && actual !== expected) {
    throw new TritonError(
      `BYTES data holds ${actual} elements but the shape needs ${expected}`,
      ErrorCode.INVALID_ARG,
    );
  }
}

/**
 * The number of bytes `TextEncoder` produces for `text`, computed without
 * encoding: 1-3 bytes per UTF-16 unit, 4 per surrogate pair, and 3 for a
 * lone surrogate (it becomes U+FFFD).
 */
function utf8Length(text: string): number {
  let bytes = 0;
  const units = text.length;
  for (let i = 0; i < units; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) {
      bytes += 1;
    } else if (unit < 0x800) {
      bytes += 2;
    } else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < units) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else {
        bytes += 3;
      }
    } else {
      bytes += 3;
    }
  }
  return bytes;
}
