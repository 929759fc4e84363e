/**
 * Typed views of the Deno std assertions used by the server's tests (the
 * `deno-std` npm package ships JavaScript without declarations).
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

/** Asserts that `expr` is truthy, narrowing its type. */
export const assert: (expr: unknown, msg?: string) => asserts expr = std.assert;

/** Asserts deep equality. */
export const assertEquals: <T>(actual: T, expected: T, msg?: string) => void = std.assertEquals;

/** Asserts that `fn` throws an instance of `errorClass` whose message contains `messageIncludes`. */
export const assertThrows: <E extends Error>(
  fn: () => unknown,
  errorClass: abstract new (...args: never[]) => E,
  messageIncludes?: string,
  msg?: string,
) => E = std.assertThrows;

/** Asserts that the promise `fn` returns rejects like {@linkcode assertThrows}. */
export const assertRejects: <E extends Error>(
  fn: () => PromiseLike<unknown>,
  errorClass: abstract new (...args: never[]) => E,
  messageIncludes?: string,
  msg?: string,
) => Promise<E> = std.assertRejects;

/** Asserts that `actual` contains `expected`. */
export const assertStringIncludes: (actual: string, expected: string, msg?: string) => void =
  std.assertStringIncludes;
