import { assert, assertEquals, assertThrows } from "../api/_test_assert.ts";
import { ArenaExhaustedError, BumpAllocator } from "./arena_allocator.ts";
import {
  PayloadFormatError,
  readBatch,
  readBlsResponse,
  ResultFormatError,
  type ResultResponse,
  writeResult,
} from "./batch_codec.ts";
import {
  DATATYPE,
  MAX_ERROR_LENGTH,
  MAX_OUTPUTS,
  RESPONSE,
  RESULT_HEADER,
  STR,
  TENSOR,
} from "./layout.ts";

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

Deno.test("batch codec, EXECUTE: decodes the golden batch with zero-copy input views", () => {
  const arena = arenaWith();
  const batch = readBatch(arena, arena.byteLength, 0, 16);
  assertEquals(batch.requests.map((r) => r.id), ["req-0", ""]);
  const input = batch.requests[0].inputs[0];
  assertEquals(input.datatype, DATATYPE.FP32);
  new Float32Array(arena, input.dataOffset, 1)[0] = 9;
  assertEquals(new Float32Array(input.data.buffer, input.data.byteOffset, 1)[0], 9);
});

Deno.test("batch codec, EXECUTE: arena_used beyond the arena is refused", () => {
  const arena = arenaWith((v) => v.setBigUint64(8, BigInt(golden.byteLength + 64), true));
  assertThrows(() => readBatch(arena, golden.byteLength, 0, 16), PayloadFormatError, "arena_used");
});

Deno.test("batch codec, EXECUTE: a request offset past arena_used is refused", () => {
  const arena = arenaWith((v) => v.setBigUint64(16, BigInt(golden.byteLength - 8), true));
  assertThrows(
    () => readBatch(arena, arena.byteLength, 0, 16),
    PayloadFormatError,
    "request 0 [",
  );
});

Deno.test("batch codec, EXECUTE: an input's data outside the batch names the input", () => {
  const arena = arenaWith((v) => v.setBigUint64(inputs0 + 40, 1n << 40n, true));
  assertThrows(
    () => readBatch(arena, arena.byteLength, 0, 16),
    PayloadFormatError,
    "request 0 input 0 (INPUT0) data",
  );
});

Deno.test("batch codec, EXECUTE: misaligned data, bad datatype, rank and size are refused", () => {
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
    assertThrows(() => readBatch(arena, arena.byteLength, 0, 16), PayloadFormatError, message);
  }
});

Deno.test("batch codec, EXECUTE: a name that is not UTF-8 is refused", () => {
  const nameAt = Number(view.getBigUint64(inputs0, true));
  const arena = arenaWith((v) => v.setUint8(nameAt, 0xff));
  assertThrows(() => readBatch(arena, arena.byteLength, 0, 16), PayloadFormatError, "UTF-8");
});

Deno.test("batch codec, EXECUTE: a record shorter than a header, or an arena larger than the mapping", () => {
  const arena = arenaWith();
  assertThrows(() => readBatch(arena, arena.byteLength, 0, 8), PayloadFormatError, "smaller");
  assertThrows(() => readBatch(arena, arena.byteLength + 1, 0, 16), PayloadFormatError, "exceeds");
});

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

Deno.test("batch codec, RESULT: outputs allocated in the arena are referenced, others copied", () => {
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

Deno.test("batch codec, RESULT: an input passed through is referenced where it is", () => {
  const { arena, allocator } = setup(4096, 256);
  const input = new Uint8Array(arena, 64, 3);
  input.set([5, 6, 7]);
  const { offset } = writeResult(allocator, [{
    ok: true,
    outputs: [{ name: "Y", datatypeCode: DATATYPE.INT8, shape: [3], bytes: input }],
  }]);
  assertEquals(decode(arena, offset)[0].outputs[0].dataOffset, 64);
});

Deno.test("batch codec, RESULT: a view of the arena above the result start is copied", () => {
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

Deno.test("batch codec, RESULT: a result that does not fit fails clearly", () => {
  const big = new Uint8Array(2000);
  const output = { name: "Y", datatypeCode: DATATYPE.UINT8, shape: [2000], bytes: big };
  const window = setup(1024, 0);
  assertThrows(
    () => writeResult(window.allocator, [{ ok: true, outputs: [output] }]),
    ArenaExhaustedError,
  );
});

Deno.test("batch codec, RESULT: a long error message is cut on a character boundary", () => {
  const { arena, allocator } = setup(1 << 18);
  const message = "é".repeat(MAX_ERROR_LENGTH); // 2 bytes each
  const { offset } = writeResult(allocator, [{ ok: false, code: 1, message }]);
  const [decoded] = decode(arena, offset);
  assertEquals(decoded.status, 1);
  assertEquals(new TextEncoder().encode(decoded.message).byteLength, MAX_ERROR_LENGTH);
  assert(!decoded.message.includes("\ufffd"));
});

Deno.test("batch codec, RESULT: outputs beyond the wire's limits are refused", () => {
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

Deno.test("batch codec, RESULT: a rescheduled response carries no outputs or parameters", () => {
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

/** A one-response RESULT as the parent writes a BLS_RESPONSE: one FP32 output "OUT" [2]. */
function blsPayload(): { arena: ArrayBuffer; offset: number; length: number } {
  const arena = new ArrayBuffer(4096);
  const allocator = new BumpAllocator({ arena, start: 0, arenaSize: () => 4096 });
  const written = writeResult(allocator, [{
    ok: true,
    outputs: [{
      name: "OUT",
      datatypeCode: DATATYPE.FP32,
      shape: [2],
      bytes: new Uint8Array(new Float32Array([1.5, -2]).buffer),
    }],
    parameters: '{"k":{"type":"STRING","value":"v"}}',
  }]);
  return { arena, ...written };
}

Deno.test("batch codec, BLS_RESPONSE: reads what the RESULT writer wrote, data in place", () => {
  const { arena, offset, length } = blsPayload();
  const response = readBlsResponse(arena, offset, length);
  assertEquals(response.error, undefined);
  assertEquals(response.parametersJson, '{"k":{"type":"STRING","value":"v"}}');
  assertEquals(response.outputs.length, 1);
  const [output] = response.outputs;
  assertEquals([output.name, output.datatype, output.shape], ["OUT", DATATYPE.FP32, [2]]);
  assert(output.data.buffer === arena, "the data is a view of the arena");
  assertEquals([...new Float32Array(output.data.slice().buffer)], [1.5, -2]);
});

Deno.test("batch codec, BLS_RESPONSE: a malformed payload names its field", () => {
  const cases: [string, (view: DataView, response: number, tensor: number) => void][] = [
    [
      "response_count is 2",
      (view, _r, _t) => view.setUint32(RESULT_HEADER.RESPONSE_COUNT, 2, true),
    ],
    [
      "output 0 (OUT) data",
      (view, _r, tensor) => view.setBigUint64(tensor + TENSOR.DATA_OFFSET, 1n << 40n, true),
    ],
    ["output 0 (OUT) has 8 data bytes", (view, _r, tensor) => {
      const shapeAt = Number(view.getBigUint64(tensor + TENSOR.SHAPE_OFFSET, true));
      view.setBigInt64(shapeAt, 3n, true);
    }],
    [
      "output 0 (OUT) has unknown datatype 99",
      (view, _r, tensor) => view.setUint32(tensor + TENSOR.DATATYPE, 99, true),
    ],
    [
      `output_count is ${MAX_OUTPUTS + 1}`,
      (view, response, _t) =>
        view.setUint32(response + RESPONSE.OUTPUT_COUNT, MAX_OUTPUTS + 1, true),
    ],
  ];
  for (const [message, edit] of cases) {
    const { arena, offset, length } = blsPayload();
    const view = new DataView(arena);
    const response = Number(view.getBigUint64(offset + RESULT_HEADER.RESPONSES_OFFSET, true));
    const tensor = Number(view.getBigUint64(response + RESPONSE.OUTPUTS_OFFSET, true));
    edit(view, response, tensor);
    assertThrows(() => readBlsResponse(arena, offset, length), PayloadFormatError, message);
  }
  const { arena, offset } = blsPayload();
  assertThrows(() => readBlsResponse(arena, offset, 8), PayloadFormatError, "no result header");
});
