import { assertEquals, assertThrows } from "./_test_assert.ts";
import { assembleBody, BinaryCursor, splitBody } from "./binary_body.ts";
import { ServeError } from "./errors.ts";

const encoder = new TextEncoder();

Deno.test("binary_body: split by Inference-Header-Content-Length", () => {
  const body = encoder.encode('{"a":1}\x01\x02\x03');
  const split = splitBody(body, "7");
  assertEquals(new TextDecoder().decode(split.header), '{"a":1}');
  assertEquals([...split.binary], [1, 2, 3]);
  const whole = splitBody(body, null);
  assertEquals(whole.header.byteLength, body.byteLength);
  assertEquals(whole.binary.byteLength, 0);
});

Deno.test("binary_body: bad header lengths are 400s", () => {
  const body = encoder.encode("{}");
  assertThrows(() => splitBody(body, "abc"), ServeError, "Unable to parse");
  assertThrows(() => splitBody(body, "-1"), ServeError, "Unable to parse");
  assertThrows(() => splitBody(body, "3"), ServeError, "should be in range (0, 2)");
  // Zero: Triton's raw binary request, the whole body binary.
  assertEquals(splitBody(body, "0").header.byteLength, 0);
  assertEquals(splitBody(body, "0").binary, body);
});

Deno.test("binary_body: the cursor hands out slices and checks leftovers", () => {
  const cursor = new BinaryCursor(new Uint8Array([1, 2, 3, 4]), "m");
  assertEquals([...cursor.take(3, "X")], [1, 2, 3]);
  assertThrows(() => cursor.take(2, "Y"), ServeError, "expecting 1 additional bytes for model 'm'");
  const leftover = new BinaryCursor(new Uint8Array([1, 2]), "m");
  leftover.take(1, "X");
  assertThrows(() => leftover.finish(), ServeError, "unexpected additional input data");
});

Deno.test("binary_body: assemble puts the JSON first, then the parts in order", () => {
  const { body, headerLength } = assembleBody('{"x":0}', [
    { byteSize: 2, write: (d) => d.set([9, 8]) },
    { byteSize: 1, write: (d) => d.set([7]) },
  ]);
  assertEquals(headerLength, 7);
  assertEquals([...body.subarray(7)], [9, 8, 7]);
  assertEquals(new TextDecoder().decode(body.subarray(0, 7)), '{"x":0}');
});
