/**
 * Golden tests of the wire format: the TypeScript writer and reader against
 * bytes the other side wrote or reads.
 *
 * - `golden/result_v3.bin` is the TypeScript result writer's encoding of the
 *   SAMPLE RESULT below (arena bytes [0, end), header at 0). Regenerate it
 *   only on purpose: `TDN_WRITE_GOLDEN=1 deno test -A tests/wire/wire_test.ts`.
 * - `golden/batch_v3.bin` is the C batch encoder's encoding (ffi/src/batch_codec.c) of
 *   the SAMPLE BATCH (tests/wire/golden_c.c); the TypeScript batch reader must decode it.
 * - The C reader decodes `result_v3.bin` and the C writer re-checks
 *   `batch_v3.bin` (through `build/golden_c`, which `make build` builds: the
 *   C half fails, never skips, when it is missing).
 * - `golden/bls_response_v3.bin` is the parent's BLS_RESPONSE encoder's
 *   output (`golden_c write-bls-response`); the Worker's reader must decode it.
 * - `golden/metrics_v3.bin` is a METRICS payload the model API's queue
 *   produced for the SAMPLE METRICS; the parent's reader must read every item.
 * - `golden_c layout` prints every field offset of tdn_wire.h's structs;
 *   `runtime/wire/layout.ts` must hold the same numbers.
 * - `golden/stub_records_v3.bin` is the TypeScript ring's encoding of the
 *   SAMPLE STUB RECORDS, one of every stub -> parent kind (regenerated like
 *   result_v3.bin); the C side reads them with the parent's own checks.
 *   `golden/parent_records_v3.bin` is the C side's encoding of one of every
 *   parent -> stub kind (`golden_c write-records`); the TypeScript ring must
 *   read them.
 *
 * @module
 */

import { assertEquals, assertStringIncludes } from "../../runtime/api/_test_assert.ts";
import { BumpAllocator } from "../../runtime/wire/arena_allocator.ts";
import {
  readBatch,
  readBlsResponse,
  type ResultResponse,
  writeResult,
} from "../../runtime/wire/batch_codec.ts";
import { requestParameters } from "../../runtime/worker/run_batch.ts";
import * as layout from "../../runtime/wire/layout.ts";
import {
  CONTROL,
  CONTROL_OP,
  CONTROL_SIZE,
  DATATYPE,
  ERROR_CODE,
  LOG_LEVEL,
  METRICS_HEADER,
  MSG,
  PROGRESS_PHASE,
  READY_FLAG,
  RECORD,
  RECORD_FLAG,
  RESPONSE,
  RESULT_HEADER,
  RING,
  STR,
  TENSOR,
  TRACE_EVENT,
} from "../../runtime/wire/layout.ts";
import { drainMetricOps, MetricFamily } from "../../runtime/api/metrics.ts";
import { encodeMetricBatch, type MetricBatch } from "../../runtime/wire/metrics_codec.ts";
import { atomicsWaiter, Ring, type WireRecord } from "../../runtime/wire/ring.ts";
import { goldenCReads, runGoldenC } from "../harness/golden_c.ts";

const root = new URL("../../", import.meta.url);
const resultGolden = new URL("tests/wire/golden/result_v3.bin", root);
const batchGolden = new URL("tests/wire/golden/batch_v3.bin", root);
const stubRecordsGolden = new URL("tests/wire/golden/stub_records_v3.bin", root);
const parentRecordsGolden = new URL("tests/wire/golden/parent_records_v3.bin", root);
const bls_responseGolden = new URL("tests/wire/golden/bls_response_v3.bin", root);
const metricsGolden = new URL("tests/wire/golden/metrics_v3.bin", root);

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
  // A rescheduled request: no response this time.
  { ok: true, outputs: [], reschedule: true },
];

/** The SAMPLE RESULT as `golden_c read-result` prints it. */
const SAMPLE_RESULT_JSON = {
  responses: [
    {
      status: 0,
      error_code: 0,
      reschedule: false,
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
    {
      status: 1,
      error_code: 3,
      reschedule: false,
      error: "bad input",
      parameters: [],
      outputs: [],
    },
    { status: 0, error_code: 0, reschedule: true, error: "", parameters: [], outputs: [] },
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

Deno.test("the TypeScript result writer reproduces result_v3.bin byte for byte", async () => {
  const encoded = encodeSampleResult();
  if (Deno.env.get("TDN_WRITE_GOLDEN") === "1") {
    await Deno.writeFile(resultGolden, encoded);
  }
  const golden = await Deno.readFile(resultGolden);
  assertEquals(encoded.byteLength, golden.byteLength);
  assertEquals(encoded, golden);
});

Deno.test("the TypeScript batch reader decodes the C writer's batch_v3.bin", async () => {
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
  assertEquals(first.timeoutMicros, 1_500_000);
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
  assertEquals(second.timeoutMicros, 0);
  assertEquals(second.requestedOutputNames, []);
  assertEquals(second.parametersJson, "");
  assertEquals(second.inputs.length, 1);
  const [input] = second.inputs;
  assertEquals([input.name, input.datatype, input.shape], ["INPUT0", DATATYPE.INT32, [3]]);
  assertEquals(Array.from(new Int32Array(arena, input.dataOffset, 3)), [-1, 0, 7]);
});

Deno.test({
  name: "the C result reader decodes result_v3.bin as the sample",
  async fn() {
    const output = await runGoldenC(["read-result", resultGolden.pathname]);
    const stderr = new TextDecoder().decode(output.stderr);
    assertEquals(output.code, 0, stderr);
    assertEquals(JSON.parse(new TextDecoder().decode(output.stdout)), SAMPLE_RESULT_JSON);
  },
});

Deno.test({
  name: "the C result reader refuses a tampered RESULT, naming the field (the stub is untrusted)",
  async fn() {
    const golden = await Deno.readFile(resultGolden);
    // Offsets in the sample: response 0 has OUTPUT0 (FP32 [1, 4]) and
    // OUTPUT1 (BYTES [1]); response 1 is an error.
    const view = new DataView(golden.buffer);
    const u64 = (at: number) => Number(view.getBigUint64(at, true));
    const response = (r: number) => u64(RESULT_HEADER.RESPONSES_OFFSET) + r * RESPONSE.SIZE;
    const output = (o: number) => u64(response(0) + RESPONSE.OUTPUTS_OFFSET) + o * TENSOR.SIZE;
    const cases: [string, (view: DataView) => void, string][] = [
      [
        "a response count that is not the batch's",
        (v) => v.setUint32(RESULT_HEADER.RESPONSE_COUNT, 2, true),
        "response_count 2 for a batch of 3",
      ],
      ["an unknown status", (v) => v.setUint32(response(1) + RESPONSE.STATUS, 2, true), "status 2"],
      [
        "an unknown error code",
        (v) => v.setUint32(response(1) + RESPONSE.ERROR_CODE, 99, true),
        "error_code 99",
      ],
      [
        "more outputs than the wire allows",
        (v) => v.setUint32(response(0) + RESPONSE.OUTPUT_COUNT, 5000, true),
        "5000 outputs",
      ],
      [
        "an unknown datatype",
        (v) => v.setUint32(output(0) + TENSOR.DATATYPE, 99, true),
        "'OUTPUT0' with datatype 99",
      ],
      ["a rank above the limit", (v) => v.setUint32(output(0) + TENSOR.RANK, 65, true), "rank 65"],
      [
        "a negative dimension",
        (v) => v.setBigInt64(u64(output(0) + TENSOR.SHAPE_OFFSET), -1n, true),
        "dimension 0 = -1",
      ],
      [
        "data outside the arena",
        (v) => v.setBigUint64(output(0) + TENSOR.DATA_OFFSET, 1n << 40n, true),
        "outside the",
      ],
      [
        "data off the tensor alignment",
        (v) =>
          v.setBigUint64(
            output(0) + TENSOR.DATA_OFFSET,
            BigInt(u64(output(0) + TENSOR.DATA_OFFSET) + 4),
            true,
          ),
        "expected a multiple of 64",
      ],
      [
        "a size that does not match the shape",
        (v) => v.setBigUint64(output(0) + TENSOR.DATA_SIZE, 12n, true),
        "data_size 12, expected 16",
      ],
      [
        "BYTES lengths that overrun the data",
        (v) => v.setUint32(u64(output(1) + TENSOR.DATA_OFFSET), 200, true),
        "length-prefixed",
      ],
      [
        "a name that is not UTF-8",
        (v) => v.setUint8(u64(output(0) + TENSOR.NAME + STR.OFFSET), 0xff),
        "not UTF-8",
      ],
      [
        "the same output twice",
        (v) => v.setUint8(u64(output(1) + TENSOR.NAME + STR.OFFSET) + 6, "0".charCodeAt(0)),
        "'OUTPUT0' twice",
      ],
    ];
    for (const [what, tamper, expected] of cases) {
      const bytes = golden.slice();
      tamper(new DataView(bytes.buffer));
      const read = await goldenCReads("read-result", bytes);
      assertEquals(read.ok, false, `${what}: the parent accepted it`);
      assertStringIncludes(read.text, expected, what);
    }
  },
});

Deno.test({
  name: "the C batch encoder still reproduces batch_v3.bin",
  async fn() {
    const output = await runGoldenC(["check-batch", batchGolden.pathname]);
    assertEquals(output.code, 0, new TextDecoder().decode(output.stderr));
  },
});

/** The SAMPLE STUB RECORDS: one of every stub -> parent kind, as the stub sends it. */
const SAMPLE_STUB_RECORDS: WireRecord[] = [
  // READY from a model with an isReady() hook.
  { kind: MSG.READY, flags: 0, aux: READY_FLAG.HAS_IS_READY, id: 0n, offset: 0, length: 0 },
  // Batch 5 failed as a whole: INVALID_ARG, a 9-byte message.
  { kind: MSG.ERROR, flags: 0, aux: ERROR_CODE.INVALID_ARG, id: 5n, offset: 4096, length: 9 },
  { kind: MSG.RESULT, flags: 0, aux: 0, id: 6n, offset: 4160, length: 518 },
  { kind: MSG.FINALIZED, flags: 0, aux: 1, id: 0n, offset: 0, length: 0 },
  { kind: MSG.LOG, flags: 0, aux: LOG_LEVEL.WARN, id: 0n, offset: 4736, length: 12 },
  // Request 0 of decoupled batch 3: its last response.
  { kind: MSG.RESPONSE, flags: RECORD_FLAG.FINAL, aux: 0, id: 3n, offset: 4800, length: 96 },
  // Request 1 of decoupled batch 3 rescheduled: no payload, no FINAL.
  { kind: MSG.RESPONSE, flags: RECORD_FLAG.RESCHEDULE, aux: 1, id: 3n, offset: 0, length: 0 },
  { kind: MSG.EXECUTE_DONE, flags: 0, aux: 0, id: 3n, offset: 0, length: 0 },
  { kind: MSG.METRICS, flags: 0, aux: 0, id: 0n, offset: 4928, length: 200 },
  { kind: MSG.BLS_REQUEST, flags: 0, aux: 0, id: 9n, offset: 5184, length: 300 },
  { kind: MSG.BLS_CANCEL, flags: 0, aux: 0, id: 9n, offset: 0, length: 0 },
  { kind: MSG.CONTROL, flags: 0, aux: CONTROL_OP.LOAD, id: 10n, offset: 5504, length: 31 },
  // A model without autoCompleteConfig: no payload.
  { kind: MSG.CONFIG, flags: 0, aux: 0, id: 0n, offset: 0, length: 0 },
  {
    kind: MSG.TRACE,
    flags: 0,
    aux: TRACE_EVENT.EXECUTE_TAKEN,
    id: 1_700_000_000_123_456_789n,
    offset: 5,
    length: 0,
  },
  { kind: MSG.PROGRESS, flags: 0, aux: PROGRESS_PHASE.CHECKING, id: 0n, offset: 0, length: 0 },
  // Probe 7's answer: not ready, with a 12-byte reason at arena offset 4096.
  { kind: MSG.READINESS, flags: 0, aux: 1, id: 7n, offset: 4096, length: 12 },
];

/** The SAMPLE STUB RECORDS as `golden_c read-records` prints them. */
const SAMPLE_STUB_RECORDS_JSON = SAMPLE_STUB_RECORDS.map((record) => ({
  kind: record.kind,
  flags: record.flags,
  aux: record.aux,
  id: String(record.id),
  offset: String(record.offset),
  length: String(record.length),
}));

/** The C side's sample records (golden_c.c), one of every parent -> stub kind. */
const PARENT_RECORDS: WireRecord[] = [
  { kind: MSG.INIT, flags: 0, aux: 0, id: 0n, offset: 0, length: 120 },
  { kind: MSG.EXECUTE, flags: 0, aux: 0, id: 5n, offset: 64, length: 24 },
  { kind: MSG.FINALIZE, flags: 0, aux: 0, id: 0n, offset: 0, length: 0 },
  { kind: MSG.CANCEL, flags: RECORD_FLAG.CLOSED, aux: 1, id: 5n, offset: 0, length: 0 },
  { kind: MSG.BLS_RESPONSE, flags: RECORD_FLAG.FINAL, aux: 0, id: 9n, offset: 128, length: 268 },
  {
    kind: MSG.CONTROL_DONE,
    flags: 0,
    aux: ERROR_CODE.NOT_FOUND,
    id: 10n,
    offset: 640,
    length: 9,
  },
  { kind: MSG.INSTANCE, flags: 0, aux: 0, id: 0n, offset: 0, length: 300 },
  { kind: MSG.IS_READY, flags: 0, aux: 0, id: 7n, offset: 0, length: 0 },
];

/** A ring in a control page of ordinary memory, never waited on. */
function scratchRing(): { ring: Ring; page: ArrayBuffer } {
  const page = new ArrayBuffer(CONTROL_SIZE);
  return { ring: new Ring(page, CONTROL.TO_PARENT, atomicsWaiter), page };
}

Deno.test("the TypeScript ring writes the sample stub records as stub_records_v3.bin", async () => {
  const { ring, page } = scratchRing();
  for (const record of SAMPLE_STUB_RECORDS) assertEquals(ring.tryPush(record), true);
  const start = CONTROL.TO_PARENT + RING.RECORDS;
  const encoded = new Uint8Array(page, start, SAMPLE_STUB_RECORDS.length * RECORD.SIZE);
  if (Deno.env.get("TDN_WRITE_GOLDEN") === "1") {
    await Deno.writeFile(stubRecordsGolden, encoded);
  }
  assertEquals(encoded, await Deno.readFile(stubRecordsGolden));
});

Deno.test("the TypeScript ring reads the C side's parent_records_v3.bin, every kind", async () => {
  const file = await Deno.readFile(parentRecordsGolden);
  const { ring, page } = scratchRing();
  new Uint8Array(page, CONTROL.TO_PARENT + RING.RECORDS, file.byteLength).set(file);
  new DataView(page).setUint32(CONTROL.TO_PARENT + RING.TAIL, file.byteLength / RECORD.SIZE, true);
  const kinds = new Set<number>();
  for (const expected of PARENT_RECORDS) {
    assertEquals(ring.tryPop(), expected);
    kinds.add(expected.kind);
  }
  assertEquals(ring.tryPop(), undefined);
  const parentKinds = Object.values(MSG).filter((kind) => kind < 64);
  assertEquals([...kinds].sort((a, b) => a - b), parentKinds.sort((a, b) => a - b));
});

Deno.test("the C side still writes parent_records_v3.bin byte for byte", async () => {
  const file = await Deno.makeTempFile({ prefix: "tdn_parent_records_" });
  try {
    const output = await runGoldenC(["write-records", file]);
    assertEquals(output.code, 0, new TextDecoder().decode(output.stderr));
    assertEquals(await Deno.readFile(file), await Deno.readFile(parentRecordsGolden));
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("the stub sample holds every stub -> parent kind", () => {
  const kinds = new Set(SAMPLE_STUB_RECORDS.map((record) => record.kind));
  const stubKinds = Object.values(MSG).filter((kind) => kind >= 64);
  assertEquals([...kinds].sort((a, b) => a - b), stubKinds.sort((a, b) => a - b));
});

Deno.test({
  name: "the C side reads stub_records_v3.bin with the parent's checks",
  async fn() {
    const output = await runGoldenC(["read-records", stubRecordsGolden.pathname]);
    assertEquals(output.code, 0, new TextDecoder().decode(output.stderr));
    assertEquals(JSON.parse(new TextDecoder().decode(output.stdout)), SAMPLE_STUB_RECORDS_JSON);
  },
});

Deno.test({
  name: "the parent's checks refuse impossible uses of this version's records",
  async fn() {
    const bad: [WireRecord, string][] = [
      [{ kind: MSG.READY, flags: 0, aux: 2, id: 0n, offset: 0, length: 0 }, "unknown aux bits"],
      [{ kind: MSG.READINESS, flags: 0, aux: 2, id: 7n, offset: 0, length: 0 }, "aux 2"],
      [{ kind: MSG.READINESS, flags: 0, aux: 0, id: 0n, offset: 0, length: 0 }, "probe id 0"],
      [{ kind: MSG.READINESS, flags: 0, aux: 0, id: 1n, offset: 0, length: 1025 }, "1025 bytes"],
      [
        {
          kind: MSG.RESPONSE,
          flags: RECORD_FLAG.RESCHEDULE | RECORD_FLAG.FINAL,
          aux: 0,
          id: 1n,
          offset: 0,
          length: 0,
        },
        "flags 5",
      ],
      [
        {
          kind: MSG.RESPONSE,
          flags: RECORD_FLAG.RESCHEDULE,
          aux: 0,
          id: 1n,
          offset: 64,
          length: 56,
        },
        "flags 4 and 56 bytes",
      ],
      [{ kind: MSG.RESPONSE, flags: 4, aux: 0, id: 1n, offset: 64, length: 56 }, "flags 4"],
    ];
    const file = await Deno.makeTempFile();
    try {
      for (const [record, complaint] of bad) {
        const { ring, page } = scratchRing();
        ring.tryPush(record);
        await Deno.writeFile(
          file,
          new Uint8Array(page, CONTROL.TO_PARENT + RING.RECORDS, RECORD.SIZE),
        );
        const output = await runGoldenC(["read-records", file]);
        const stderr = new TextDecoder().decode(output.stderr);
        assertEquals(output.code, 1, `accepted: ${JSON.stringify(record, (_, v) => String(v))}`);
        assertStringIncludes(stderr, complaint);
      }
    } finally {
      await Deno.remove(file);
    }
  },
});

Deno.test("every struct field offset and size of tdn_wire.h matches layout.ts", async () => {
  const output = await runGoldenC(["layout"]);
  assertEquals(output.code, 0, new TextDecoder().decode(output.stderr));
  const c: Record<string, Record<string, number>> = JSON.parse(
    new TextDecoder().decode(output.stdout),
  );
  assertEquals(Object.keys(c).length, 13);
  for (const [struct, fields] of Object.entries(c)) {
    const mirror = (layout as unknown as Record<string, Record<string, number>>)[struct];
    // Both ways: every C field in the mirror, every mirror field in C.
    assertEquals(mirror, fields, `${struct}: layout.ts differs from tdn_wire.h`);
  }
});

Deno.test("the Worker's reader decodes the parent's bls_response_v3.bin", async () => {
  const file = await Deno.readFile(bls_responseGolden);
  const arena = new ArrayBuffer(file.byteLength);
  new Uint8Array(arena).set(file);
  const decoded = readBlsResponse(arena, 128, file.byteLength - 128);
  assertEquals(decoded.error, undefined);
  assertEquals(decoded.outputs.map((output) => [output.name, output.datatype, output.shape]), [
    ["OUT0", DATATYPE.FP32, [1, 2]],
    ["TEXT", DATATYPE.BYTES, [2]],
  ]);
  assertEquals(Array.from(new Float32Array(decoded.outputs[0].data.slice().buffer)), [0.5, -2]);
  assertEquals(decoded.outputs[0].data.byteOffset, 0); // in place, not a copy
  assertEquals(decoded.outputs[1].data, bytesTensor(["ab", ""]));
  assertEquals(
    decoded.parametersJson,
    '{"k":{"type":"BOOL","value":"true"},"n":{"type":"INT","value":"-4"}}',
  );
});

Deno.test("the parent's BLS_RESPONSE encoder still writes bls_response_v3.bin", async () => {
  const output = await runGoldenC(["check-bls-response", bls_responseGolden.pathname]);
  assertEquals(output.code, 0, new TextDecoder().decode(output.stderr));
});

/**
 * The SAMPLE METRICS: one batch of the model API's queue holding every kind
 * of item (a new family and metric with labels and buckets, updates of each
 * operation, deleted metrics and families).
 */
function sampleMetrics(): Uint8Array {
  drainMetricOps(); // nothing from other tests
  const requests = new MetricFamily({
    name: "golden_requests_total",
    description: "Requests",
    kind: "counter",
  });
  const route = requests.metric({ labels: { route: "/a" } });
  const gone = new MetricFamily({ name: "golden_gone", description: "d", kind: "gauge" });
  const gauge = gone.metric();
  drainMetricOps(); // the parent knows these now
  route.increment(2);
  gauge.set(-1.5);
  gauge.delete();
  gone.delete();
  const latency = new MetricFamily({
    name: "golden_latency_ms",
    description: 'Latency "wall"',
    kind: "histogram",
  });
  const histogram = latency.metric({ labels: { model: "m\u00e9", b: "" }, buckets: [0.5, 1, 2.5] });
  histogram.observe(0.75);
  const batch = drainMetricOps();
  requests.delete();
  latency.delete();
  drainMetricOps();
  if (batch === undefined) throw new Error("the queue sent no METRICS batch");
  return encodeMetricBatch(batch);
}

/** The SAMPLE METRICS as `golden_c read-metrics` prints them. */
const SAMPLE_METRICS_JSON = {
  families: [{
    id: 5,
    name: "golden_latency_ms",
    description: 'Latency "wall"',
    kind: "histogram",
  }],
  metrics: [{
    id: 6,
    family: 5,
    labels: [["model", "m\u00e9"], ["b", ""]],
    buckets: [0.5, 1, 2.5],
  }],
  updates: [[2, "inc", 2], [6, "observe", 0.75]],
  deletes: { metrics: [4], families: [3] },
};

Deno.test("the model API's METRICS batch is metrics_v3.bin byte for byte", async () => {
  const encoded = sampleMetrics();
  if (Deno.env.get("TDN_WRITE_GOLDEN") === "1") {
    await Deno.writeFile(metricsGolden, encoded);
  }
  assertEquals(encoded, await Deno.readFile(metricsGolden));
});

Deno.test("the parent reads every item of metrics_v3.bin with its own checks", async () => {
  const output = await runGoldenC(["read-metrics", metricsGolden.pathname]);
  assertEquals(output.code, 0, new TextDecoder().decode(output.stderr));
  assertEquals(JSON.parse(new TextDecoder().decode(output.stdout)), SAMPLE_METRICS_JSON);
});

/** Runs `golden_c read-metrics` on `bytes`: its exit code and complaint. */
async function parentReadsMetrics(bytes: Uint8Array): Promise<{ code: number; stderr: string }> {
  const file = await Deno.makeTempFile({ prefix: "tdn_metrics_" });
  try {
    await Deno.writeFile(file, bytes);
    const output = await runGoldenC(["read-metrics", file]);
    return { code: output.code, stderr: new TextDecoder().decode(output.stderr) };
  } finally {
    await Deno.remove(file);
  }
}

const NO_DELETES = { metrics: [], families: [] };

Deno.test("the parent refuses a METRICS payload that does not frame, whole", async () => {
  const valid = encodeMetricBatch({
    families: [{ id: 1, name: "f", description: "d", kind: "gauge" }],
    metrics: [{ id: 2, family: 1, labels: { a: "b" }, buckets: [1] }],
    updates: [[2, "set", 1]],
    deletes: { metrics: [3], families: [4] },
  });
  assertEquals((await parentReadsMetrics(valid)).code, 0);
  const tampered = (change: (view: DataView) => void): Uint8Array => {
    const copy = valid.slice();
    change(new DataView(copy.buffer));
    return copy;
  };
  const cases: [string, Uint8Array, string][] = [
    ["shorter than a header", valid.subarray(0, 10), "shorter than its 24-byte header"],
    ["cut inside an item", valid.subarray(0, valid.byteLength - 4), "ends inside"],
    ["a byte too many", new Uint8Array([...valid, 0]), "1 bytes after its last item"],
    [
      "more families than the bytes hold",
      tampered((view) => view.setUint32(METRICS_HEADER.FAMILY_COUNT, 1000, true)),
      "need at least",
    ],
    [
      "a count over the limit",
      tampered((view) => view.setUint32(METRICS_HEADER.UPDATE_COUNT, 70000, true)),
      "at most 65536",
    ],
    [
      "the reserved word set",
      tampered((view) => view.setUint32(METRICS_HEADER.RESERVED, 1, true)),
      "reserved word is 1",
    ],
    [
      "a name longer than the batch",
      tampered((view) => view.setUint32(METRICS_HEADER.SIZE + 12, 60000, true)),
      "ends inside the name of family 0",
    ],
  ];
  for (const [what, bytes, complaint] of cases) {
    const read = await parentReadsMetrics(bytes);
    assertEquals(read.code, 1, `${what}: accepted`);
    assertStringIncludes(read.stderr, complaint, what);
  }
});

Deno.test("the parent refuses forged METRICS items, naming each", async () => {
  const batch = (parts: Partial<MetricBatch>): MetricBatch => ({
    families: [],
    metrics: [],
    updates: [],
    deletes: NO_DELETES,
    ...parts,
  });
  const family = (name: string) => ({ id: 1, name, description: "", kind: "gauge" as const });
  const cases: [string, Uint8Array, string][] = [
    ["a bad family name", encodeMetricBatch(batch({ families: [family("1bad")] })), "must match"],
    [
      "a NUL in a name",
      encodeMetricBatch(batch({ families: [family("a\0b")] })),
      "the name holds a NUL byte",
    ],
    [
      "an unknown kind",
      (() => {
        const bytes = encodeMetricBatch(batch({ families: [family("g")] }));
        new DataView(bytes.buffer).setUint32(METRICS_HEADER.SIZE + 8, 7, true);
        return bytes;
      })(),
      "kind 7 is not counter (0), gauge (1) or histogram (2)",
    ],
    [
      "id 0",
      encodeMetricBatch(batch({ families: [{ ...family("g"), id: 0 }] })),
      "id 0 is not a whole number",
    ],
    [
      "an id past 2^53",
      encodeMetricBatch(batch({ updates: [[2 ** 53, "inc", 1]] })),
      "id 9007199254740992 is not a whole number",
    ],
    [
      "a bad label name",
      encodeMetricBatch(batch({ metrics: [{ id: 2, family: 1, labels: { "bad-name": "v" } }] })),
      "label name 'bad-name' must match",
    ],
    [
      "buckets out of order",
      encodeMetricBatch(batch({ metrics: [{ id: 2, family: 1, labels: {}, buckets: [2, 1] }] })),
      "buckets must be strictly increasing",
    ],
    [
      "an infinite value",
      encodeMetricBatch(batch({ updates: [[2, "inc", Infinity]] })),
      "the value inf is not a finite number",
    ],
    [
      "an unknown operation",
      (() => {
        const bytes = encodeMetricBatch(batch({ updates: [[2, "inc", 1]] }));
        new DataView(bytes.buffer).setUint32(METRICS_HEADER.SIZE + 8, 9, true);
        return bytes;
      })(),
      "operation 9 is not inc (1), set (2) or observe (3)",
    ],
    [
      "a deleted id 0",
      encodeMetricBatch(batch({ deletes: { metrics: [0], families: [] } })),
      "id 0 is not a whole number",
    ],
  ];
  for (const [what, bytes, complaint] of cases) {
    const read = await parentReadsMetrics(bytes);
    assertEquals(read.code, 1, `${what}: accepted`);
    assertStringIncludes(read.stderr, complaint, what);
  }
});
