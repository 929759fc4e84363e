/**
 * Golden tests of the wire format: the TypeScript writer and reader against
 * bytes the other side wrote or reads.
 *
 * - `golden/result_v2.bin` is the TypeScript result writer's encoding of the
 *   SAMPLE RESULT below (arena bytes [0, end), header at 0). Regenerate it
 *   only on purpose: `TDN_WRITE_GOLDEN=1 deno test -A tests/wire/wire_test.ts`.
 * - `golden/batch_v2.bin` is the C batch writer's encoding of the SAMPLE
 *   BATCH (tests/wire/golden_c.c); the TypeScript batch reader must decode it.
 * - When `build/golden_c` exists, the C reader decodes `result_v2.bin` and the
 *   C writer re-checks `batch_v2.bin`.
 *
 * @module
 */

import { assertEquals } from "../../runtime/api/_test_assert.ts";
import { BumpAllocator } from "../../runtime/wire/arena_allocator.ts";
import { readBatch } from "../../runtime/wire/batch_reader.ts";
import { requestParameters } from "../../runtime/wire/parameters_wire.ts";
import { DATATYPE, ERROR_CODE } from "../../runtime/wire/layout.ts";
import { type ResultResponse, writeResult } from "../../runtime/wire/result_writer.ts";

const root = new URL("../../", import.meta.url);
const resultGolden = new URL("tests/wire/golden/result_v2.bin", root);
const batchGolden = new URL("tests/wire/golden/batch_v2.bin", root);
const goldenC = new URL("build/golden_c", root);

/** BYTES elements in Triton's layout: u32 little-endian length, then the bytes. */
function bytesTensor(elements: string[]): Uint8Array {
  const encoded = elements.map((element) => new TextEncoder().encode(element));
  const out = new Uint8Array(encoded.reduce((sum, e) => sum + 4 + e.byteLength, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const element of encoded) {
    view.setUint32(at, element.byteLength, true);
    out.set(element, at + 4);
    at += 4 + element.byteLength;
  }
  return out;
}

/** The SAMPLE RESULT. */
const SAMPLE_RESULT: ResultResponse[] = [
  {
    ok: true,
    outputs: [
      {
        name: "OUTPUT0",
        datatypeCode: DATATYPE.FP32,
        shape: [1, 4],
        bytes: new Uint8Array(new Float32Array([2, 4, 6, 8]).buffer),
      },
      {
        name: "OUTPUT1",
        datatypeCode: DATATYPE.BYTES,
        shape: [1],
        bytes: bytesTensor(["hi"]),
      },
    ],
    parameters: '{"index":{"type":"INT","value":"7"},"label":{"type":"STRING","value":"cat"}}',
  },
  { ok: false, code: ERROR_CODE.INVALID_ARG, message: "bad input" },
];

/** The SAMPLE RESULT as `golden_c read-result` prints it. */
const SAMPLE_RESULT_JSON = {
  responses: [
    {
      status: 0,
      error_code: 0,
      error: "",
      parameters: [["index", "INT", 7], ["label", "STRING", "cat"]],
      outputs: [
        {
          name: "OUTPUT0",
          datatype: 11,
          shape: [1, 4],
          data_hex: "00000040000080400000c04000000041",
        },
        { name: "OUTPUT1", datatype: 13, shape: [1], data_hex: "020000006869" },
      ],
    },
    { status: 1, error_code: 3, error: "bad input", parameters: [], outputs: [] },
  ],
};

function encodeSampleResult(): Uint8Array {
  const arena = new ArrayBuffer(4096);
  const allocator = new BumpAllocator({ arena, start: 0, arenaSize: () => 4096 });
  const { offset, length } = writeResult(allocator, SAMPLE_RESULT);
  assertEquals(offset, 0);
  return new Uint8Array(arena, 0, length);
}

async function exists(url: URL): Promise<boolean> {
  try {
    await Deno.stat(url);
    return true;
  } catch {
    return false;
  }
}

Deno.test("the TypeScript result writer reproduces result_v2.bin byte for byte", async () => {
  const encoded = encodeSampleResult();
  if (Deno.env.get("TDN_WRITE_GOLDEN") === "1") {
    await Deno.writeFile(resultGolden, encoded);
  }
  const golden = await Deno.readFile(resultGolden);
  assertEquals(encoded.byteLength, golden.byteLength);
  assertEquals(encoded, golden);
});

Deno.test("the TypeScript batch reader decodes the C writer's batch_v2.bin", async () => {
  // The C side writes this file; it may still be on its way.
  for (let i = 0; i < 60 && !(await exists(batchGolden)); i++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  const file = await Deno.readFile(batchGolden);
  const arena = new ArrayBuffer(file.byteLength);
  new Uint8Array(arena).set(file);
  const batch = readBatch(arena, arena.byteLength, 0, 16);
  assertEquals(batch.arenaUsed, file.byteLength);
  assertEquals(batch.requests.length, 2);

  const [first, second] = batch.requests;
  assertEquals(first.id, "req-0");
  assertEquals(first.correlationId, 42n);
  assertEquals(first.flags, 0);
  assertEquals(first.requestedOutputNames, ["OUTPUT0"]);
  assertEquals(requestParameters(first.parametersJson), { n: 3, temperature: 0.5 });
  assertEquals(first.inputs.length, 2);
  const [input0, input1] = first.inputs;
  assertEquals([input0.name, input0.datatype, input0.shape], ["INPUT0", DATATYPE.FP32, [1, 4]]);
  assertEquals(
    Array.from(new Float32Array(arena, input0.dataOffset, 4)),
    [1, 2, 3, 4],
  );
  assertEquals(input0.data.buffer, arena); // a view, not a copy
  assertEquals([input1.name, input1.datatype, input1.shape], ["INPUT1", DATATYPE.BYTES, [2]]);
  assertEquals(input1.data, bytesTensor(["ab", ""]));

  assertEquals(second.id, "");
  assertEquals(second.correlationId, "seq-A");
  assertEquals(second.flags, 3);
  assertEquals(second.requestedOutputNames, []);
  assertEquals(second.parametersJson, "");
  assertEquals(second.inputs.length, 1);
  const [input] = second.inputs;
  assertEquals([input.name, input.datatype, input.shape], ["INPUT0", DATATYPE.INT32, [3]]);
  assertEquals(Array.from(new Int32Array(arena, input.dataOffset, 3)), [-1, 0, 7]);
});

Deno.test({
  name: "the C result reader decodes result_v2.bin as the sample",
  ignore: !(await exists(goldenC)),
  async fn() {
    const output = await new Deno.Command(goldenC, {
      args: ["read-result", resultGolden.pathname],
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assertEquals(output.code, 0, stderr);
    assertEquals(JSON.parse(new TextDecoder().decode(output.stdout)), SAMPLE_RESULT_JSON);
  },
});

Deno.test({
  name: "the C batch writer still reproduces batch_v2.bin",
  ignore: !(await exists(goldenC)),
  async fn() {
    const output = await new Deno.Command(goldenC, {
      args: ["check-batch", batchGolden.pathname],
    }).output();
    assertEquals(output.code, 0, new TextDecoder().decode(output.stderr));
  },
});
