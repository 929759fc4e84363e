/**
 * The BLS payloads across the two languages: what the Worker's writer
 * (runtime/wire/bls_request_writer.ts) puts in the stub's half, as the
 * parent's own decoder (ffi/src/bls_request.c, through build/golden_c)
 * reads it, and the stub tampering with it the ways the parent refuses.
 * The answers go the other way in the RESULT layout, which the Worker's
 * reader (runtime/wire/batch_codec.ts) takes.
 *
 * @module
 */

import { assert, assertEquals, assertStringIncludes } from "../../runtime/api/_test_assert.ts";
import { BumpAllocator } from "../../runtime/wire/arena_allocator.ts";
import {
  type BlsRequestData,
  BlsRequestFormatError,
  writeBlsRequest,
} from "../../runtime/wire/bls_request_writer.ts";
import { BLS_REQUEST, DATATYPE, ERROR_CODE, TENSOR } from "../../runtime/wire/layout.ts";
import { readBlsResponse, writeResult } from "../../runtime/wire/batch_codec.ts";
import { goldenCReads } from "../harness/golden_c.ts";

const HALF = 4096;

/** "ab", "" in Triton's BYTES layout. */
const BYTES_AB = new Uint8Array([2, 0, 0, 0, 0x61, 0x62, 0, 0, 0, 0]);

const SAMPLE: BlsRequestData = {
  modelName: "add_sub",
  modelVersion: 3,
  inputs: [
    {
      name: "INPUT0",
      datatypeCode: DATATYPE.FP32,
      shape: [1, 2],
      bytes: new Uint8Array(new Float32Array([1, 2]).buffer),
    },
    { name: "TEXT", datatypeCode: DATATYPE.BYTES, shape: [2], bytes: BYTES_AB },
  ],
  requestedOutputNames: ["OUTPUT0", "OUTPUT1"],
  requestId: "inner-1",
  correlationId: 42n,
  flags: 3,
  timeoutMicros: 5000n,
  parametersJson: '{"n":{"type":"INT","value":"7"},"s":{"type":"STRING","value":"x"}}',
};

/** An arena of two halves with the sample request at the start of the stub's half. */
function sampleArena(request: BlsRequestData = SAMPLE): Uint8Array {
  const arena = new ArrayBuffer(2 * HALF);
  new Uint8Array(arena).fill(0xa5); // stale bytes: the writer must set every byte it uses
  const allocator = new BumpAllocator({ arena, start: HALF, arenaSize: () => 2 * HALF });
  const written = writeBlsRequest(arena, (bytes) => allocator.reserve(bytes), request);
  assertEquals(written.offset, HALF);
  return new Uint8Array(arena);
}

/** Runs `golden_c read-bls` on the arena: the JSON it prints, or its complaint. */
function parentReads(arena: Uint8Array): Promise<{ ok: boolean; text: string }> {
  return goldenCReads("read-bls", arena, [String(HALF)]);
}

Deno.test({
  name: "BLS wire: the parent decodes every field the Worker writes",
  fn: async () => {
    const read = await parentReads(sampleArena());
    assert(read.ok, read.text);
    assertEquals(JSON.parse(read.text), {
      model: "add_sub",
      version: 3,
      id: "inner-1",
      correlation_string: null,
      correlation: "42",
      flags: 3,
      timeout_us: "5000",
      inputs: [
        {
          name: "INPUT0",
          datatype: 11,
          shape: [1, 2],
          copied: false,
          data_hex: "0000803f00000040",
        },
        { name: "TEXT", datatype: 13, shape: [2], copied: true, data_hex: "02000000616200000000" },
      ],
      outputs: ["OUTPUT0", "OUTPUT1"],
      parameters: [{ key: "n", int: "7" }, { key: "s", string: "x" }],
    });
    const stringId = await parentReads(sampleArena({ ...SAMPLE, correlationId: "seq-A" }));
    assertEquals(JSON.parse(stringId.text).correlation_string, "seq-A");
  },
});

/** Offset of a field of input `index`'s tdn_tensor in the sample arena. */
function tensorField(arena: Uint8Array, index: number, field: number): number {
  const view = new DataView(arena.buffer);
  const inputs = Number(view.getBigUint64(HALF + BLS_REQUEST.INPUTS_OFFSET, true));
  return inputs + index * TENSOR.SIZE + field;
}

Deno.test({
  name: "BLS wire: the parent refuses a tampered request, naming the field",
  fn: async () => {
    const cases: [string, (arena: Uint8Array, view: DataView) => void, string][] = [
      ["unknown flags", (_, view) => view.setUint32(HALF + BLS_REQUEST.FLAGS, 4, true), "flags"],
      [
        "a version below -1",
        (_, view) => view.setBigInt64(HALF + BLS_REQUEST.MODEL_VERSION, -2n, true),
        "model_version",
      ],
      [
        "input data in the parent's half",
        (arena, view) => view.setBigUint64(tensorField(arena, 0, TENSOR.DATA_OFFSET), 64n, true),
        "outside the stub's half",
      ],
      [
        "a size that does not match the shape",
        (arena, view) => view.setBigUint64(tensorField(arena, 0, TENSOR.DATA_SIZE), 4n, true),
        "data_size 4, expected 8",
      ],
      [
        "BYTES lengths that overrun the data",
        (arena, view) => {
          const at = Number(view.getBigUint64(tensorField(arena, 1, TENSOR.DATA_OFFSET), true));
          view.setUint32(at, 200, true);
        },
        "length-prefixed",
      ],
      [
        "an unknown datatype",
        (arena, view) => view.setUint32(tensorField(arena, 0, TENSOR.DATATYPE), 99, true),
        "datatype 99",
      ],
      [
        "too many inputs",
        (_, view) => view.setUint32(HALF + BLS_REQUEST.INPUT_COUNT, 5000, true),
        "input_count",
      ],
    ];
    for (const [what, tamper, expected] of cases) {
      const arena = sampleArena();
      tamper(arena, new DataView(arena.buffer));
      const read = await parentReads(arena);
      assert(!read.ok, `${what}: the parent accepted it`);
      assertStringIncludes(read.text, expected, what);
    }
  },
});

Deno.test("BLS wire: the Worker refuses what the wire cannot carry before sending it", () => {
  const arena = new ArrayBuffer(2 * HALF);
  const allocator = new BumpAllocator({ arena, start: HALF, arenaSize: () => 2 * HALF });
  const reserve = (bytes: number) => allocator.reserve(bytes);
  const refused = (request: BlsRequestData, expected: string) => {
    try {
      writeBlsRequest(arena, reserve, request);
    } catch (error) {
      assert(error instanceof BlsRequestFormatError, String(error));
      assertStringIncludes(error.message, expected);
      return;
    }
    throw new Error(`accepted a request with ${expected}`);
  };
  refused({ ...SAMPLE, modelName: "" }, "the model name");
  refused({ ...SAMPLE, modelName: "a\0b" }, "NUL");
  refused({ ...SAMPLE, correlationId: 2n ** 64n }, "the correlation id");
  refused({ ...SAMPLE, requestedOutputNames: ["x".repeat(2000)] }, "requested output");
});

Deno.test("BLS wire: a one-response RESULT is read back with its outputs and error", () => {
  const arena = new ArrayBuffer(4096);
  const allocator = new BumpAllocator({ arena, start: 0, arenaSize: () => 4096 });
  const ok = writeResult(allocator, [{
    ok: true,
    outputs: [{
      name: "OUT",
      datatypeCode: DATATYPE.INT32,
      shape: [2],
      bytes: new Uint8Array(new Int32Array([5, -6]).buffer),
    }],
    parameters: '{"k":{"type":"BOOL","value":"true"}}',
  }]);
  const decoded = readBlsResponse(arena, ok.offset, ok.length);
  assertEquals(decoded.error, undefined);
  assertEquals(decoded.outputs.map((output) => [output.name, output.datatype, output.shape]), [
    ["OUT", DATATYPE.INT32, [2]],
  ]);
  assertEquals(Array.from(new Int32Array(decoded.outputs[0].data.slice().buffer)), [5, -6]);
  assertEquals(decoded.parametersJson, '{"k":{"type":"BOOL","value":"true"}}');

  const failed = writeResult(allocator, [
    { ok: false, code: ERROR_CODE.INVALID_ARG, message: "bad shape" },
  ]);
  assertEquals(readBlsResponse(arena, failed.offset, failed.length).error, {
    code: ERROR_CODE.INVALID_ARG,
    message: "bad shape",
  });
});
