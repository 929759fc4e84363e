/**
 * Typed views of the Deno std assertions the end-to-end tests use. The
 * `deno-std` npm package ships JavaScript without declarations, so its
 * exports would type as `any` and lose the narrowing `assert` provides.
 *
 * @example
 * ```ts
 * import { assertEquals } from "./assert.ts";
 *
 * assertEquals([1, 2], [1, 2]);
 * ```
 *
 * @module
 */

import * as std from "npm:deno-std@1.4.0/assert/mod.js";

/** Asserts that `expr` is truthy, narrowing its type. */
export const assert: (expr: unknown, msg?: string) => asserts expr = std.assert;

/** Asserts deep equality. */
export const assertEquals: <T>(actual: T, expected: T, msg?: string) => void = std.assertEquals;

/** Asserts that a value is neither null nor undefined, narrowing its type. */
export const assertExists: <T>(actual: T, msg?: string) => asserts actual is NonNullable<T> =
  std.assertExists;

/** Asserts that `actual` contains `expected`. */
export const assertStringIncludes: (actual: string, expected: string, msg?: string) => void =
  std.assertStringIncludes;

/** Asserts that `actual` matches the regular expression. */
export const assertMatch: (actual: string, expected: RegExp, msg?: string) => void =
  std.assertMatch;

/** Asserts that `fn` throws an error of `ErrorClass` whose message includes `msgIncludes`. */
export const assertThrows: <E extends Error = Error>(
  fn: () => unknown,
  ErrorClass: abstract new (...args: never[]) => E,
  msgIncludes?: string,
  msg?: string,
) => E = std.assertThrows;

/** Asserts that `actual` and `expected` differ. */
export const assertNotEquals: <T>(actual: T, expected: T, msg?: string) => void =
  std.assertNotEquals;
