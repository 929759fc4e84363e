import { assertEquals, assertStringIncludes } from "../api/_test_assert.ts";
import { describeError, formatError } from "./describe_error.ts";

class CodedError extends Error {
  constructor(message: string, readonly code: number) {
    super(message);
  }
}
const isCoded = (value: unknown): value is CodedError => value instanceof CodedError;

Deno.test("describe error: message and frames are separated; file:line survives", () => {
  const description = describeError(new Error("boom\nsecond line"));
  assertEquals(description.message, "boom\nsecond line");
  assertStringIncludes(description.frames, "describe_error_test.ts:");
  assertEquals(formatError(description), `boom\nsecond line\n${description.frames}`);
});

Deno.test("describe error: a code is taken only from recognized errors with a known code", () => {
  assertEquals(describeError(new CodedError("x", 3), isCoded).code, 3);
  assertEquals(describeError(new CodedError("x", 99), isCoded).code, undefined);
  assertEquals(describeError(new CodedError("x", 3)).code, undefined);
});

Deno.test("describe error: hostile thrown values do not escape", () => {
  const hostile = new Proxy(new Error("x"), {
    get() {
      throw new Error("gotcha");
    },
  });
  assertEquals(typeof describeError(hostile).message, "string");
  const unprintable = {
    [Symbol.toPrimitive]: () => {
      throw new Error("no");
    },
  };
  assertStringIncludes(describeError(unprintable).message, "cannot be converted");
  assertEquals(describeError("plain string"), {
    message: "plain string",
    frames: "",
    code: undefined,
  });
});
