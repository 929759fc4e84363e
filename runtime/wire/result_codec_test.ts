import { assert, assertEquals, assertThrows } from "../api/_test_assert.ts";
import { ArenaExhaustedError, BumpAllocator } from "./arena_allocator.ts";
import { DATATYPE, MAX_ERROR_LENGTH, RESPONSE, STR, TENSOR } from "./layout.ts";
import { ResultFormatError, type ResultResponse, writeResult } from "./result_codec.ts";

interface DecodedOutput {
  name: string;
  datatype: number;
  shape: number[];
  dataOffset: number;
  data: number[];
}
type Decoded = { status: number; code: number; message: string; outputs: DecodedOutput[] };

/** A small reader of the RESULT layout, for checking what the writer wrote. */
function decode(arena: ArrayBuffer, offset: number): Decoded[] {
  const view = new DataView(arena);
  const u64 = (at: number) => Number(view.getBigUint64(at, true));
  const str = (at: number) =>
    new TextDecoder().decode(new Uint8Array(arena, u64(at), view.getUint32(at + STR.LENGTH, true)));
  const count = view.getUint32(offset, true);
  const responses = u64(offset + 8);
  return Array.from({ length: count }, (_, r) => {
    const at = responses + r * RESPONSE.SIZE;
    const outputs = u64(at + RESPONSE.OUTPUTS_OFFSET);
    return {
      status: view.getUint32(at, true),
      code: view.getUint32(at + 4, true),
      message: str(at + RESPONSE.ERROR_MESSAGE),
      outputs: Array.from({ length: view.getUint32(at + RESPONSE.OUTPUT_COUNT, true) }, (_, o) => {
        const t = outputs + o * TENSOR.SIZE;
        const rank = view.getUint32(t + TENSOR.RANK, true);
        const shapeAt = u64(t + TENSOR.SHAPE_OFFSET);
        const dataOffset = u64(t + TENSOR.DATA_OFFSET);
        return {
          name: str(t),
          datatype: view.getUint32(t + TENSOR.DATATYPE, true),
          shape: Array.from({ length: rank }, (_, d) => u64(shapeAt + 8 * d)),
          dataOffset,
          data: Array.from(new Uint8Array(arena, dataOffset, u64(t + TENSOR.DATA_SIZE))),
        };
      }),
    };
  });
}

function setup(size = 4096, start = 0) {
  const arena = new ArrayBuffer(size);
  const allocator = new BumpAllocator({ arena, start, arenaSize: () => size });
  return { arena, allocator };
}

Deno.test("result writer: outputs allocated in the arena are referenced, others copied", () => {
  const { arena, allocator } = setup(4096, 128);
  const block = allocator.allocate(4);
  block.bytes.set([1, 2, 3, 4]);
  const responses: ResultResponse[] = [{
    ok: true,
    outputs: [
      { name: "A", datatypeCode: DATATYPE.UINT8, shape: [4], bytes: block.bytes },
      { name: "B", datatypeCode: DATATYPE.UINT8, shape: [2], bytes: new Uint8Array([7, 8]) },
    ],
  }];
  const { offset } = writeResult(allocator, responses);
  assert(offset >= 192 && offset % 64 === 0, "the result follows the allocation");
  const [decoded] = decode(arena, offset);
  assertEquals(decoded.outputs[0].dataOffset, block.offset);
  assertEquals(decoded.outputs[0].data, [1, 2, 3, 4]);
  assert(decoded.outputs[1].dataOffset > offset && decoded.outputs[1].dataOffset % 64 === 0);
  assertEquals(decoded.outputs[1].data, [7, 8]);
});

Deno.test("result writer: an input passed through is referenced where it is", () => {
  const { arena, allocator } = setup(4096, 256);
  const input = new Uint8Array(arena, 64, 3);
  input.set([5, 6, 7]);
  const { offset } = writeResult(allocator, [{
    ok: true,
    outputs: [{ name: "Y", datatypeCode: DATATYPE.INT8, shape: [3], bytes: input }],
  }]);
  assertEquals(decode(arena, offset)[0].outputs[0].dataOffset, 64);
});

Deno.test("result writer: a view of the arena above the result start is copied", () => {
  const { arena, allocator } = setup(4096, 0);
  const stray = new Uint8Array(arena, 2048, 2);
  stray.set([9, 9]);
  const { offset } = writeResult(allocator, [{
    ok: true,
    outputs: [{ name: "Y", datatypeCode: DATATYPE.INT8, shape: [2], bytes: stray }],
  }]);
  const [decoded] = decode(arena, offset);
  assert(decoded.outputs[0].dataOffset !== 2048);
  assertEquals(decoded.outputs[0].data, [9, 9]);
});

Deno.test("result writer: a result that does not fit fails clearly", () => {
  const big = new Uint8Array(2000);
  const output = { name: "Y", datatypeCode: DATATYPE.UINT8, shape: [2000], bytes: big };
  const window = setup(1024, 0);
  assertThrows(
    () => writeResult(window.allocator, [{ ok: true, outputs: [output] }]),
    ArenaExhaustedError,
  );
});

Deno.test("result writer: a long error message is cut on a character boundary", () => {
  const { arena, allocator } = setup(1 << 18);
  const message = "é".repeat(MAX_ERROR_LENGTH); // 2 bytes each
  const { offset } = writeResult(allocator, [{ ok: false, code: 1, message }]);
  const [decoded] = decode(arena, offset);
  assertEquals(decoded.status, 1);
  assertEquals(new TextEncoder().encode(decoded.message).byteLength, MAX_ERROR_LENGTH);
  assert(!decoded.message.includes("\ufffd"));
});

Deno.test("result writer: outputs beyond the wire's limits are refused", () => {
  const { allocator } = setup();
  const bytes = new Uint8Array(1);
  const bad = (output: Partial<{ name: string; shape: number[] }>) =>
    writeResult(allocator, [{
      ok: true,
      outputs: [{ name: "Y", datatypeCode: DATATYPE.UINT8, shape: [1], bytes, ...output }],
    }]);
  assertThrows(() => bad({ shape: new Array(65).fill(1) }), ResultFormatError, "rank 65");
  assertThrows(() => bad({ shape: [-1] }), ResultFormatError, "dimension -1");
  assertThrows(() => bad({ name: "" }), ResultFormatError, "name");
});

Deno.test("result writer: a rescheduled response carries no outputs or parameters", () => {
  const arena = new ArrayBuffer(4096);
  const allocator = new BumpAllocator({ arena, start: 0, arenaSize: () => 4096 });
  const output = { name: "X", datatypeCode: DATATYPE.UINT8, shape: [1], bytes: new Uint8Array(1) };
  assertThrows(
    () => writeResult(allocator, [{ ok: true, outputs: [output], reschedule: true }]),
    ResultFormatError,
    "response 0 reschedules its request and carries outputs or parameters",
  );
  assertThrows(
    () => writeResult(allocator, [{ ok: true, outputs: [], parameters: "{}", reschedule: true }]),
    ResultFormatError,
  );
});
