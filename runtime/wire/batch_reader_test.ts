import { assertEquals, assertThrows } from "../api/_test_assert.ts";
import { BatchFormatError, readBatch } from "./batch_reader.ts";
import { DATATYPE } from "./layout.ts";

// The C writer's encoding of the sample batch (see tests/wire/wire_test.ts).
const golden = await Deno.readFile(
  new URL("../../tests/wire/golden/batch_v3.bin", import.meta.url),
);

/** The golden batch in an arena of `size` bytes, with `edit` applied. */
function arenaWith(edit: (view: DataView) => void = () => {}, size = golden.byteLength) {
  const arena = new ArrayBuffer(size);
  new Uint8Array(arena).set(golden);
  edit(new DataView(arena));
  return arena;
}

// Offsets inside the golden file (from its header and request table).
const view = new DataView(arenaWith());
const request0 = Number(view.getBigUint64(16, true));
const inputs0 = Number(view.getBigUint64(request0 + 48, true));

Deno.test("batch reader: decodes the golden batch with zero-copy input views", () => {
  const arena = arenaWith();
  const batch = readBatch(arena, arena.byteLength, 0, 16);
  assertEquals(batch.requests.map((r) => r.id), ["req-0", ""]);
  const input = batch.requests[0].inputs[0];
  assertEquals(input.datatype, DATATYPE.FP32);
  new Float32Array(arena, input.dataOffset, 1)[0] = 9;
  assertEquals(new Float32Array(input.data.buffer, input.data.byteOffset, 1)[0], 9);
});

Deno.test("batch reader: arena_used beyond the arena is refused", () => {
  const arena = arenaWith((v) => v.setBigUint64(8, BigInt(golden.byteLength + 64), true));
  assertThrows(() => readBatch(arena, golden.byteLength, 0, 16), BatchFormatError, "arena_used");
});

Deno.test("batch reader: a request offset past arena_used is refused", () => {
  const arena = arenaWith((v) => v.setBigUint64(16, BigInt(golden.byteLength - 8), true));
  assertThrows(
    () => readBatch(arena, arena.byteLength, 0, 16),
    BatchFormatError,
    "request 0 [",
  );
});

Deno.test("batch reader: an input's data outside the batch names the input", () => {
  const arena = arenaWith((v) => v.setBigUint64(inputs0 + 40, 1n << 40n, true));
  assertThrows(
    () => readBatch(arena, arena.byteLength, 0, 16),
    BatchFormatError,
    "request 0 input 0 (INPUT0) data",
  );
});

Deno.test("batch reader: misaligned data, bad datatype, rank and size are refused", () => {
  const cases: [string, (v: DataView) => void][] = [
    [
      "not 64-aligned",
      (v) => v.setBigUint64(inputs0 + 32, BigInt(v.getBigUint64(inputs0 + 32, true) + 4n), true),
    ],
    ["unknown datatype 99", (v) => v.setUint32(inputs0 + 16, 99, true)],
    ["rank 65", (v) => v.setUint32(inputs0 + 20, 65, true)],
    ["shape [1,4] needs 16", (v) => v.setBigUint64(inputs0 + 40, 12n, true)],
  ];
  for (const [message, edit] of cases) {
    const arena = arenaWith(edit);
    assertThrows(() => readBatch(arena, arena.byteLength, 0, 16), BatchFormatError, message);
  }
});

Deno.test("batch reader: a name that is not UTF-8 is refused", () => {
  const nameAt = Number(view.getBigUint64(inputs0, true));
  const arena = arenaWith((v) => v.setUint8(nameAt, 0xff));
  assertThrows(() => readBatch(arena, arena.byteLength, 0, 16), BatchFormatError, "UTF-8");
});

Deno.test("batch reader: a record shorter than a header, or an arena larger than the mapping", () => {
  const arena = arenaWith();
  assertThrows(() => readBatch(arena, arena.byteLength, 0, 8), BatchFormatError, "smaller");
  assertThrows(() => readBatch(arena, arena.byteLength + 1, 0, 16), BatchFormatError, "exceeds");
});
