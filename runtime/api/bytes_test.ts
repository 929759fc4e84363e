import { assertEquals, assertThrows } from "./_test_assert.ts";
import { countBytesElements, decodeBytesTensor, encodeBytesTensor } from "./bytes.ts";
import { ErrorCode, TritonError } from "./error.ts";

const decoder = new TextDecoder();

Deno.test("encodeBytesTensor writes a little-endian u32 length before each element", () => {
  const data = encodeBytesTensor(["ab", new Uint8Array([0, 255]), ""]);
  assertEquals(Array.from(data), [2, 0, 0, 0, 97, 98, 2, 0, 0, 0, 0, 255, 0, 0, 0, 0]);
  assertEquals(encodeBytesTensor([]).byteLength, 0);
});

Deno.test("BYTES round-trips empty strings, UTF-8 and binary data", () => {
  const strings = ["", "plain", "héllo wörld", "日本語", "emoji 😀 pair", "", "\u0000nul"];
  const decoded = decodeBytesTensor(encodeBytesTensor(strings));
  assertEquals(decoded.map((element) => decoder.decode(element)), strings);

  const binary = [new Uint8Array([]), new Uint8Array([0xff, 0xfe, 0x00]), new Uint8Array(300)];
  assertEquals(decodeBytesTensor(encodeBytesTensor(binary)), binary);
});

Deno.test("encodeBytesTensor sizes UTF-8 exactly like TextEncoder, lone surrogates included", () => {
  const encoder = new TextEncoder();
  for (const text of ["\ud800", "a\udc00b", "\ud83d\ude00", "\ud83d", "x\ud83dy", "߿ࠀ￿"]) {
    const [element] = decodeBytesTensor(encodeBytesTensor([text]));
    assertEquals(element, encoder.encode(text), JSON.stringify(text));
  }
});

Deno.test("decodeBytesTensor returns views into the data, not copies", () => {
  const data = encodeBytesTensor(["abc"]);
  const [element] = decodeBytesTensor(data);
  data[4] = 0x7a;
  assertEquals(decoder.decode(element), "zbc");
  assertEquals(element.buffer, data.buffer);
});

Deno.test("decodeBytesTensor works on a view at an unaligned offset", () => {
  const inner = encodeBytesTensor(["x", "yz"]);
  const outer = new Uint8Array(inner.byteLength + 3);
  outer.set(inner, 3);
  const elements = decodeBytesTensor(outer.subarray(3), 2);
  assertEquals(elements.map((element) => decoder.decode(element)), ["x", "yz"]);
});

Deno.test("decodeBytesTensor rejects malformed layouts with the element named", () => {
  const cut = assertThrows(
    () => decodeBytesTensor(new Uint8Array([5, 0, 0, 0, 1, 2])),
    TritonError,
    "element 0 declares 5 bytes but only 2 remain",
  );
  assertEquals(cut.code, ErrorCode.INVALID_ARG);
  assertThrows(
    () => decodeBytesTensor(new Uint8Array([1, 0, 0, 0, 9, 1, 0])),
    TritonError,
    "element 1 starts at byte 5 but only 2 bytes remain for its 4-byte length",
  );
  assertThrows(
    () => decodeBytesTensor(encodeBytesTensor(["a", "b"]), 3),
    TritonError,
    "BYTES data holds 2 elements but the shape needs 3",
  );
  assertEquals(
    countBytesElements(new Uint8Array([1, 0])),
    "malformed BYTES data: element 0 starts at byte 0 but only 2 bytes remain for its 4-byte length",
  );
  assertEquals(countBytesElements(encodeBytesTensor(["", "", ""])), 3);
});

Deno.test("encodeBytesTensor rejects elements that are not strings or Uint8Arrays", () => {
  assertThrows(
    () => encodeBytesTensor(["ok", 42 as unknown as string]),
    TritonError,
    "BYTES element 1 must be a string or a Uint8Array, got a number (42)",
  );
});
