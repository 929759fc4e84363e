import { assertEquals, assertThrows } from "../../runtime/api/_test_assert.ts";
import { decodeSandboxRecord, encodeSandboxRecord, type SandboxRecord } from "./sandbox_record.ts";

const RECORD: SandboxRecord = {
  read: ["/models/m", "/srv/shared"],
  write: [],
  net: ["api.internal:8080"],
  env: [],
  sys: ["hostname"],
  gpu: false,
  models: ["add_sub", "bls_*"],
  modelControl: [],
  heapMb: 1024,
  memoryMb: 4096,
  dataLimitMb: 6656,
  openFiles: 1024,
  streamIdleTimeoutMs: 60000,
  executeTimeoutMs: 60000,
  maxOutputBytes: 1073741824,
  importMap: "",
  decoupled: true,
  maxBatchesInFlight: 4,
  maxBatchSize: 8,
};

Deno.test("sandbox record: what is encoded decodes to the same", () => {
  assertEquals(decodeSandboxRecord(encodeSandboxRecord(RECORD)), RECORD);
});

Deno.test("sandbox record: each malformed field is named", () => {
  const encoded = JSON.parse(encodeSandboxRecord(RECORD));
  const cases: [Record<string, unknown>, string][] = [
    [{ ...encoded, status: "error" }, 'status: must be "ok"'],
    [{ ...encoded, read: "/a\n/b" }, "read: must hold no control characters"],
    [{ ...encoded, heap_mb: "01" }, "heap_mb: must be a decimal integer"],
    [{ ...encoded, heap_mb: 1024 }, "heap_mb: Expected string"],
    [{ ...encoded, gpu: "yes" }, 'gpu: must be "0" or "1"'],
    [{ ...encoded, extra: "1" }, "extra: unknown field"],
    [{ ...encoded, import_map: undefined }, "import_map: Required"],
  ];
  for (const [value, message] of cases) {
    assertThrows(
      () => decodeSandboxRecord(JSON.stringify(value)),
      Error,
      `invalid sandbox record: ${message}`,
    );
  }
  assertThrows(() => decodeSandboxRecord("[]"), Error, "(the whole object): Expected object");
});
