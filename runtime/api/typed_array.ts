/**
 * Reads typed-array facts through the engine's own getters, captured when
 * this module loads. Model code can subclass a typed array or patch
 * `%TypedArray%.prototype`; these reads still report the real kind, buffer,
 * offset and length.
 *
 * @module
 */

const typedArrayPrototype: object = Object.getPrototypeOf(Uint8Array.prototype);

function intrinsicGetter(name: PropertyKey): (this: unknown) => unknown {
  const getter = Object.getOwnPropertyDescriptor(typedArrayPrototype, name)?.get;
  if (getter === undefined) throw new Error(`%TypedArray%.prototype has no ${String(name)} getter`);
  return getter;
}

const getTag = intrinsicGetter(Symbol.toStringTag);
const getBuffer = intrinsicGetter("buffer");
const getByteOffset = intrinsicGetter("byteOffset");
const getByteLength = intrinsicGetter("byteLength");
const getLength = intrinsicGetter("length");

/** What a typed array really is, read without calling any user code. */
export interface TypedArrayFacts {
  /** The constructor name from the engine, e.g. `"Float32Array"`. */
  readonly kind: string;
  /** The underlying buffer. */
  readonly buffer: ArrayBufferLike;
  /** Offset of the view in `buffer`, in bytes. */
  readonly byteOffset: number;
  /** Length of the view in bytes (0 once the buffer is detached). */
  readonly byteLength: number;
  /** Length of the view in elements. */
  readonly length: number;
}

/**
 * The facts about `value` if it is a typed array (not a `DataView`), else
 * `undefined`. Never throws and never runs user code.
 *
 * @example
 * ```ts
 * import { typedArrayFacts } from "./typed_array.ts";
 *
 * console.log(typedArrayFacts(new Float32Array(2))?.byteLength); // 8
 * ```
 */
export function typedArrayFacts(value: unknown): TypedArrayFacts | undefined {
  // The tag getter returns undefined for anything that is not a typed array.
  const kind = getTag.call(value);
  if (typeof kind !== "string") return undefined;
  return {
    kind,
    buffer: getBuffer.call(value) as ArrayBufferLike,
    byteOffset: getByteOffset.call(value) as number,
    byteLength: getByteLength.call(value) as number,
    length: getLength.call(value) as number,
  };
}
