/**
 * Validation and formatting of tensor shapes.
 *
 * @module
 */

import { describeValue } from "./describe.ts";
import { ErrorCode, TritonError } from "./error.ts";
import { MAX_RANK } from "./limits.ts";

/** A validated shape: a frozen copy of the dimensions and their product. */
/**
 * What an error names: a string, or a {@linkcode TensorOwner} that becomes
 * one only when a message is written (tensors are checked on every request).
 */
export type Owner = string | TensorOwner;

/**
 * A tensor named in error messages, e.g. "tensor 'OUTPUT0'", put into words
 * only when an error needs it.
 *
 * @example
 * ```ts
 * import { TensorOwner } from "./shape.ts";
 *
 * console.log(`${new TensorOwner("input", "INPUT0")}`); // input 'INPUT0'
 * ```
 */
export class TensorOwner {
  /** "tensor", "input" or "output". */
  readonly kind: string;
  /** The tensor's name. */
  readonly name: string;

  /**
   * @param kind "tensor", "input" or "output".
   * @param name The tensor's name.
   */
  constructor(kind: string, name: string) {
    this.kind = kind;
    this.name = name;
  }

  /** "kind 'name'". */
  toString(): string {
    return `${this.kind} '${this.name}'`;
  }
}

export interface CheckedShape {
  /** The dimensions, copied and frozen. */
  readonly dims: readonly number[];
  /** The number of elements: the product of `dims` (1 for a scalar). */
  readonly elementCount: number;
}

/**
 * Copies and checks a shape: an array of at most {@linkcode MAX_RANK}
 * non-negative safe integers whose product is a safe integer.
 *
 * @param owner Names the tensor in errors, e.g. `"tensor 'OUTPUT0'"`.
 * @param shape The shape as given (read once, element by element).
 * @throws {TritonError} `INVALID_ARG` naming `owner` and the faulty dimension.
 *
 * @example
 * ```ts
 * import { checkShape } from "./shape.ts";
 *
 * console.log(checkShape("tensor 'X'", [2, 3]).elementCount); // 6
 * ```
 */
export function checkShape(owner: Owner, shape: unknown): CheckedShape {
  if (!Array.isArray(shape)) {
    throw new TritonError(
      `${owner}: shape must be an array of dimensions, got ${describeValue(shape)}`,
      ErrorCode.INVALID_ARG,
    );
  }
  const rank: number = shape.length;
  if (rank > MAX_RANK) {
    throw new TritonError(
      `${owner}: shape has ${rank} dimensions; at most ${MAX_RANK} are supported`,
      ErrorCode.INVALID_ARG,
    );
  }
  const dims: number[] = new Array(rank);
  let elementCount = 1;
  for (let i = 0; i < rank; i++) {
    const dim: unknown = shape[i];
    if (typeof dim !== "number" || !Number.isSafeInteger(dim) || dim < 0) {
      throw new TritonError(
        `${owner}: dimension ${i} must be a non-negative integer, got ${describeValue(dim)}`,
        ErrorCode.INVALID_ARG,
      );
    }
    dims[i] = dim;
    elementCount *= dim;
    if (!Number.isSafeInteger(elementCount)) {
      throw new TritonError(
        `${owner}: shape ${formatShape(dims.slice(0, i + 1))}... has too many elements`,
        ErrorCode.INVALID_ARG,
      );
    }
  }
  return { dims: Object.freeze(dims), elementCount };
}

/**
 * Formats a shape the way messages show it: `[2,3]`, `[]` for a scalar.
 *
 * @example
 * ```ts
 * import { formatShape } from "./shape.ts";
 *
 * console.log(formatShape([-1, 3])); // "[-1,3]"
 * ```
 */
export function formatShape(shape: readonly (number | bigint)[]): string {
  return `[${shape.join(",")}]`;
}
