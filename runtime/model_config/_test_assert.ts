// Dependencies are pinned inline as `npm:` specifiers, the same ones the
// generated model_config_pb.ts uses, so these modules resolve on their own
// whether or not the project's deno.json (or an import map) is in effect.
/**
 * Typed views of the Deno std assertions used by this folder's tests.
 *
 * The `deno-std` npm package ships JavaScript without declarations, so its
 * exports type as `any`; that would silently disable type checking of the
 * assertions and, worse, the narrowing that `assert` and `assertInstanceOf`
 * provide. These re-exports restore the signatures of `@std/assert`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "./_test_assert.ts";
 *
 * assertEquals(1 + 1, 2);
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
 * assert("non-empty");
 * ```
 */
export const assert: (expr: unknown, msg?: string) => asserts expr = std.assert;

/**
 * Asserts deep equality of `actual` and `expected`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "./_test_assert.ts";
 *
 * assertEquals({ a: [1n] }, { a: [1n] });
 * ```
 */
export const assertEquals: <T>(actual: T, expected: T, msg?: string) => void = std.assertEquals;

/**
 * Asserts that `actual` is an instance of `expectedType`, narrowing its type.
 *
 * @example
 * ```ts
 * import { assertInstanceOf } from "./_test_assert.ts";
 *
 * assertInstanceOf(new RangeError("x"), Error);
 * ```
 */
export const assertInstanceOf: <T>(
  actual: unknown,
  expectedType: abstract new (...args: never[]) => T,
  msg?: string,
) => asserts actual is T = std.assertInstanceOf;

/**
 * Asserts that `actual` contains `expected`.
 *
 * @example
 * ```ts
 * import { assertStringIncludes } from "./_test_assert.ts";
 *
 * assertStringIncludes("config.pbtxt:1:1", ":1:1");
 * ```
 */
export const assertStringIncludes: (
  actual: string,
  expected: string,
  msg?: string,
) => void = std.assertStringIncludes;
