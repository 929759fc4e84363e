/**
 * Short, safe descriptions of arbitrary values for error messages. Model code
 * can hand the API anything (including Proxies that throw), so describing a
 * value never calls user code beyond what `typeof` and `Array.isArray` do, and
 * never throws.
 *
 * @module
 */

/**
 * Describes what kind of value `value` is: `"null"`, `"an array"`,
 * `"a number (3)"`, `"an object (Float64Array)"`, ...
 *
 * @example
 * ```ts
 * import { describeValue } from "./describe.ts";
 *
 * console.log(describeValue(new Float64Array(1))); // "a Float64Array"
 * ```
 */
export function describeValue(value: unknown): string {
  try {
    switch (typeof value) {
      case "undefined":
        return "undefined";
      case "string":
        return `a string (${JSON.stringify(clip(value))})`;
      case "number":
      case "boolean":
        return `a ${typeof value} (${String(value)})`;
      case "bigint":
        return `a bigint (${value}n)`;
      case "symbol":
        return "a symbol";
      case "function":
        return "a function";
    }
    if (value === null) return "null";
    if (Array.isArray(value)) return "an array";
    if (ArrayBuffer.isView(value)) return `a ${typedArrayName(value)}`;
    if (value instanceof Promise) return "a Promise (missing await?)";
    return "an object that is not one of this API's classes";
  } catch {
    return "a value that cannot be inspected";
  }
}

// The intrinsic getter cannot be fooled by an own or inherited `constructor`.
const typedArrayToStringTag = Object.getOwnPropertyDescriptor(
  Object.getPrototypeOf(Uint8Array.prototype),
  Symbol.toStringTag,
)?.get;

function typedArrayName(view: ArrayBufferView): string {
  const tag: unknown = typedArrayToStringTag?.call(view);
  return typeof tag === "string" ? tag : "DataView";
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}
