/**
 * The tensor: a name, a datatype, a shape and the typed array holding the
 * elements. Inputs view shared memory directly; outputs either view shared
 * memory (`request.allocateOutput`) or any array the model builds.
 *
 * @module
 */

import { decodeBytesTensor } from "./bytes.ts";
import { DATA_TYPE_NAMES, type DataTypeName, isDataTypeName, type TensorData } from "./datatype.ts";
import { describeValue } from "./describe.ts";
import { ErrorCode, TritonError } from "./error.ts";
import { checkShape, TensorOwner } from "./shape.ts";
import { type TensorValues, toTensorData } from "./values.ts";

/**
 * What the runtime reads from a tensor: the constructor's checked values,
 * taken from private fields, so that nothing a model does to the object or its
 * prototype changes them.
 *
 * @internal Used by the Worker runtime through internal.ts.
 */
export interface TensorSnapshot {
  /** The tensor's name. */
  readonly name: string;
  /** The tensor's datatype. */
  readonly datatype: DataTypeName;
  /** The frozen shape. */
  readonly shape: readonly number[];
  /** The typed array given at construction (its contents may have changed since). */
  readonly data: TensorData;
  /** The product of the shape. */
  readonly elementCount: number;
  /** Where the data starts in the arena, for tensors from `allocateOutput`. */
  readonly arenaOffset: number | undefined;
}

let snapshot: (value: unknown) => TensorSnapshot | undefined;
let markInArena: (tensor: Tensor, arenaOffset: number) => void;

const textDecoder = new TextDecoder();

/**
 * A tensor. `Tensor<"FP32">` has `data: Float32Array`; a plain `Tensor` (any
 * datatype) has the union of the typed arrays, narrowed by
 * {@linkcode Tensor.isDataType} or by asking for the datatype with
 * `request.input(name, "FP32")`.
 *
 * The data is kept, not copied: a typed array passed to the constructor
 * becomes the tensor's `data`, and input tensors view shared memory. Treat
 * input data as read-only.
 *
 * @typeParam D The datatype name.
 *
 * @example Build outputs from plain arrays or typed arrays
 * ```ts
 * import { Tensor } from "@triton/deno";
 *
 * const scores = new Tensor("SCORES", "FP32", [2, 2], new Float32Array([0.1, 0.9, 0.7, 0.3]));
 * const labels = new Tensor("LABELS", "BYTES", [2], ["cat", "dog"]);
 * const ids = new Tensor("IDS", "INT64", [2], [7, 9n]);
 * console.log(scores.data[3], labels.strings(), ids.data); // 0.30000001192092896 ["cat", "dog"] BigInt64Array [7n, 9n]
 * ```
 */
export class Tensor<D extends DataTypeName = DataTypeName> {
  readonly #name: string;
  readonly #datatype: D;
  readonly #shape: readonly number[];
  readonly #data: TensorData<D>;
  readonly #elementCount: number;
  #arenaOffset: number | undefined;

  /**
   * Creates a tensor, checking that the data suits the datatype and the shape.
   *
   * @param name The tensor's name, as declared in config.pbtxt.
   * @param datatype The datatype name, e.g. `"FP32"`.
   * @param shape Non-negative integer dimensions (copied).
   * @param data The elements in row-major order: see {@linkcode TensorValues}.
   * @throws {TritonError} `INVALID_ARG` naming the tensor if the datatype is
   * unknown, a dimension is invalid, the data is the wrong kind of array, a
   * value does not fit the datatype, or the element count differs from the shape's.
   */
  constructor(name: string, datatype: D, shape: readonly number[], data: TensorValues<D>) {
    if (typeof name !== "string" || name.length === 0) {
      throw new TritonError(
        `a tensor name must be a non-empty string, got ${describeValue(name)}`,
        ErrorCode.INVALID_ARG,
      );
    }
    const owner = new TensorOwner("tensor", name);
    if (!isDataTypeName(datatype)) {
      throw new TritonError(
        `${owner}: unknown datatype ${describeValue(datatype)}; use one of ${
          DATA_TYPE_NAMES.join(", ")
        }`,
        ErrorCode.INVALID_ARG,
      );
    }
    const checked = checkShape(owner, shape);
    this.#name = name;
    this.#datatype = datatype;
    this.#shape = checked.dims;
    this.#elementCount = checked.elementCount;
    this.#data = toTensorData(owner, datatype, checked.elementCount, data);
    this.#arenaOffset = undefined;
  }

  /** The tensor's name. */
  get name(): string {
    return this.#name;
  }

  /** The datatype name, e.g. `"FP32"`. */
  get datatype(): D {
    return this.#datatype;
  }

  /** The dimensions (frozen). */
  get shape(): readonly number[] {
    return this.#shape;
  }

  /**
   * The elements as the datatype's typed array (see {@linkcode TensorDataMap}).
   * For `BYTES`, the serialized layout; use {@linkcode Tensor.strings} or
   * {@linkcode Tensor.byteElements} to read the elements.
   */
  get data(): TensorData<D> {
    return this.#data;
  }

  /** The number of elements: the product of the shape. */
  get elementCount(): number {
    return this.#elementCount;
  }

  /** The size of `data` in bytes (for `BYTES`, of the serialized layout). */
  get byteLength(): number {
    return this.#data.byteLength;
  }

  /**
   * Whether the tensor's data is in host (CPU) memory, as python_backend's
   * `Tensor.is_cpu()`. Always true: a model's tensors are typed arrays, and
   * an input Triton held in GPU memory was copied to the host before the
   * model saw it.
   *
   * @example
   * ```ts
   * import { Tensor } from "@triton/deno";
   *
   * console.log(new Tensor("X", "FP32", [1], [0.5]).isCpu()); // true
   * ```
   */
  isCpu(): boolean {
    return true;
  }

  /**
   * Whether the tensor has datatype `datatype`; narrows its type.
   *
   * @example
   * ```ts
   * import { Tensor } from "@triton/deno";
   *
   * const tensor: Tensor = new Tensor("X", "INT32", [2], [1, 2]);
   * if (tensor.isDataType("INT32")) console.log(tensor.data); // Int32Array [1, 2]
   * ```
   */
  isDataType<T extends DataTypeName>(datatype: T): this is Tensor<T> {
    return (this.#datatype as DataTypeName) === datatype;
  }

  /**
   * The elements of a `BYTES` tensor decoded as UTF-8 strings (invalid UTF-8
   * becomes U+FFFD).
   *
   * @throws {TritonError} `INVALID_ARG` if the datatype is not `BYTES`.
   *
   * @example
   * ```ts
   * import { Tensor } from "@triton/deno";
   *
   * console.log(new Tensor("T", "BYTES", [2], ["a", "é"]).strings()); // ["a", "é"]
   * ```
   */
  strings(): string[] {
    return this.byteElements().map((element) => textDecoder.decode(element));
  }

  /**
   * The elements of a `BYTES` tensor as views into `data` (no copy).
   *
   * @throws {TritonError} `INVALID_ARG` if the datatype is not `BYTES`.
   *
   * @example
   * ```ts
   * import { Tensor } from "@triton/deno";
   *
   * const [first] = new Tensor("T", "BYTES", [1], [new Uint8Array([1, 2])]).byteElements();
   * console.log(first); // Uint8Array [1, 2]
   * ```
   */
  byteElements(): Uint8Array[] {
    if (this.#datatype !== "BYTES") {
      throw new TritonError(
        `tensor '${this.#name}' has datatype ${this.#datatype}; only BYTES tensors have ` +
          "byte-string elements",
        ErrorCode.INVALID_ARG,
      );
    }
    return decodeBytesTensor(this.#data as Uint8Array, this.#elementCount);
  }

  /** Shows name, datatype, shape and data in `console.log`. */
  [Symbol.for("Deno.customInspect")](inspect: (value: unknown) => string): string {
    return `Tensor ${
      inspect({
        name: this.#name,
        datatype: this.#datatype,
        shape: this.#shape,
        data: this.#datatype === "BYTES" ? this.strings() : this.#data,
      })
    }`;
  }

  static {
    snapshot = (value) => {
      if (typeof value !== "object" || value === null || !(#name in value)) return undefined;
      return {
        name: value.#name,
        datatype: value.#datatype,
        shape: value.#shape,
        data: value.#data,
        elementCount: value.#elementCount,
        arenaOffset: value.#arenaOffset,
      };
    };
    markInArena = (tensor, arenaOffset) => {
      tensor.#arenaOffset = arenaOffset;
    };
  }
}

/**
 * Reads a tensor's checked values from its private fields, or returns
 * `undefined` if `value` was not made by the {@linkcode Tensor} constructor.
 * Never runs model code (a Proxy has no private fields).
 *
 * @internal Used by the Worker runtime through internal.ts.
 *
 * @example
 * ```ts
 * import { snapshotTensor, Tensor } from "./tensor.ts";
 *
 * console.log(snapshotTensor(new Tensor("X", "UINT8", [1], [7]))?.name); // "X"
 * console.log(snapshotTensor({ name: "X" })); // undefined
 * ```
 */
export function snapshotTensor(value: unknown): TensorSnapshot | undefined {
  return snapshot(value);
}

/**
 * Records that `tensor`'s data lives in the arena at `arenaOffset`, so the
 * runtime can hand it to Triton without a copy.
 *
 * @internal Used by `InferenceRequest.allocateOutput`.
 */
export function markTensorInArena(tensor: Tensor, arenaOffset: number): void {
  markInArena(tensor, arenaOffset);
}
