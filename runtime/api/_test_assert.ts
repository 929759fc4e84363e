/**
 * Typed views of the Deno std assertions used by this folder's tests (and the
 * example models' tests). The `deno-std` npm package ships JavaScript without
 * declarations, so its exports would type as `any` and lose the narrowing
 * `assert` provides; these re-exports restore `@std/assert`'s signatures.
 *
 * @example
 * ```ts
 * import { assertEquals } from "./_test_assert.ts";
 *
 * assertEquals([1, 2], [1, 2]);
 * ```
 *
 * @module
 */

import * as std from "npm:deno-std@1.4.0/assert/mod.js";

/**
 * Asserts that `expr` is truthy, narrowing its type.
 *
 * @example
 * ```ts
 * import { assert } from "./_test_assert.ts";
 *
 * assert(1 < 2);
 * ```
 */
export const assert: (expr: unknown, msg?: string) => asserts expr = std.assert;

/**
 * Asserts deep equality.
 *
 * @example
 * ```ts
 * import { assertEquals } from "./_test_assert.ts";
 *
 * assertEquals({ a: 1n }, { a: 1n });
 * ```
 */
export const assertEquals: <T>(actual: T, expected: T, msg?: string) => void = std.assertEquals;

/**
 * Asserts `Object.is` identity.
 *
 * @example
 * ```ts
 * import { assertStrictEquals } from "./_test_assert.ts";
 *
 * const a = {};
 * assertStrictEquals(a, a);
 * ```
 */
export const assertStrictEquals: <T>(actual: unknown, expected: T, msg?: string) => void =
  std.assertStrictEquals;

/**
 * Asserts that `fn` throws an instance of `errorClass` whose message contains
 * `messageIncludes`, and returns the error.
 *
 * @example
 * ```ts
 * import { assertThrows } from "./_test_assert.ts";
 *
 * const error = assertThrows(() => {
 *   throw new RangeError("too big");
 * }, RangeError, "big");
 * console.log(error.message); // "too big"
 * ```
 */
export const assertThrows: <E extends Error>(
  fn: () => unknown,
  errorClass: abstract new (...args: never[]) => E,
  messageIncludes?: string,
  msg?: string,
) => E = std.assertThrows;

/**
 * Asserts that `actual` contains `expected`.
 *
 * @example
 * ```ts
 * import { assertStringIncludes } from "./_test_assert.ts";
 *
 * assertStringIncludes("output 'Y'", "'Y'");
 * ```
 */
export const assertStringIncludes: (actual: string, expected: string, msg?: string) => void =
  std.assertStringIncludes;
