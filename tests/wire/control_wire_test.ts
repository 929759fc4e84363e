/**
 * The CONTROL payload across the two languages: what the Worker's writer
 * (`writeControlRequest`, runtime/wire/bls_request_writer.ts) puts in the
 * stub's half for a load with a configuration and files, or an unload of a
 * model and its dependents, as the parent's decoder (ffi/src/bls_request.c,
 * through build/golden_c) reads it, and the tampering the parent refuses.
 *
 * @module
 */

import { assert, assertEquals, assertStringIncludes } from "../../runtime/api/_test_assert.ts";
import { BumpAllocator } from "../../runtime/wire/arena_allocator.ts";
import {
  BlsRequestFormatError,
  type ControlRequestOptions,
  writeControlRequest,
} from "../../runtime/wire/bls_request_writer.ts";
import { CONTROL_FILE, CONTROL_OP, CONTROL_REQUEST } from "../../runtime/wire/layout.ts";
import { assertThrows } from "../harness/assert.ts";
import { goldenCReads } from "../harness/golden_c.ts";

const HALF = 4096;
const utf8 = new TextEncoder();

/** An arena of two halves with the request at the start of the stub's half. */
function controlArena(name: string, version: number, options: ControlRequestOptions): Uint8Array {
  const arena = new ArrayBuffer(2 * HALF);
  new Uint8Array(arena).fill(0xa5); // stale bytes: the writer must set every byte it uses
  const allocator = new BumpAllocator({ arena, start: HALF, arenaSize: () => 2 * HALF });
  const written = writeControlRequest(
    arena,
    (bytes) => allocator.reserve(bytes),
    name,
    version,
    options,
  );
  assertEquals(written.offset, HALF);
  return new Uint8Array(arena);
}

/** Runs `golden_c read-control` on the arena: the JSON it prints, or its complaint. */
function parentReads(arena: Uint8Array, operation: number): Promise<{ ok: boolean; text: string }> {
  return goldenCReads("read-control", arena, [String(HALF), String(operation)]);
}

const LOAD: ControlRequestOptions = {
  config: '{"backend":"deno"}',
  files: [
    { path: "1/model.ts", bytes: utf8.encode("ok") },
    { path: "1/empty.json", bytes: new Uint8Array(0) },
  ],
};

Deno.test("control wire: the parent reads a load's configuration and files as the Worker wrote them", async () => {
  const read = await parentReads(controlArena("made", -1, LOAD), CONTROL_OP.LOAD);
  assert(read.ok, read.text);
  assertEquals(JSON.parse(read.text), {
    model: "made",
    version: -1,
    config: '{"backend":"deno"}',
    unload_dependents: false,
    files: [{ path: "1/model.ts", data_hex: "6f6b" }, { path: "1/empty.json", data_hex: "" }],
  });
  const unload = await parentReads(
    controlArena("made", -1, { unloadDependents: true }),
    CONTROL_OP.UNLOAD,
  );
  assert(unload.ok, unload.text);
  assertEquals(JSON.parse(unload.text).unload_dependents, true);
  const ready = await parentReads(controlArena("made", 4, {}), CONTROL_OP.IS_READY);
  assertEquals(JSON.parse(ready.text), {
    model: "made",
    version: 4,
    config: null,
    unload_dependents: false,
    files: [],
  });
});

Deno.test("control wire: the parent refuses a tampered request, naming what is wrong", async () => {
  const table = HALF + CONTROL_REQUEST.SIZE;
  const cases: [string, number, (view: DataView, arena: Uint8Array) => void, string][] = [
    ["a configuration on an unload", CONTROL_OP.UNLOAD, () => {}, "only a load takes"],
    [
      "flags on a load",
      CONTROL_OP.LOAD,
      (view) => view.setUint32(HALF + CONTROL_REQUEST.FLAGS, 1, true),
      "flags 1 are not valid",
    ],
    [
      "files without a configuration",
      CONTROL_OP.LOAD,
      (view) => view.setUint32(HALF + CONTROL_REQUEST.CONFIG + 8, 0, true),
      "without a configuration",
    ],
    [
      "a path out of the model's directory",
      CONTROL_OP.LOAD,
      (view, arena) => {
        const at = Number(view.getBigUint64(table + CONTROL_FILE.PATH, true));
        arena.set(utf8.encode("../x.ts   "), at);
      },
      "must be relative to the model's directory",
    ],
    [
      "an absolute path",
      CONTROL_OP.LOAD,
      (view, arena) => {
        const at = Number(view.getBigUint64(table + CONTROL_FILE.PATH, true));
        arena.set(utf8.encode("/etc/passwd"), at);
        view.setUint32(table + CONTROL_FILE.PATH + 8, 11, true);
      },
      "must be relative",
    ],
    [
      "file data in the parent's half",
      CONTROL_OP.LOAD,
      (view) => view.setBigUint64(table + CONTROL_FILE.DATA_OFFSET, 16n, true),
      "outside the stub's half",
    ],
    [
      "file data past the arena",
      CONTROL_OP.LOAD,
      (view) => view.setBigUint64(table + CONTROL_FILE.DATA_SIZE, 1n << 40n, true),
      "outside the stub's half",
    ],
    [
      "a file table past the arena",
      CONTROL_OP.LOAD,
      (view) => view.setBigUint64(HALF + CONTROL_REQUEST.FILES_OFFSET, 1n << 40n, true),
      "outside the arena",
    ],
    [
      "the same path twice",
      CONTROL_OP.LOAD,
      (view, arena) => {
        const first = Number(view.getBigUint64(table + CONTROL_FILE.PATH, true));
        const second = table + CONTROL_FILE.SIZE + CONTROL_FILE.PATH;
        view.setBigUint64(second, BigInt(first), true);
        view.setUint32(second + 8, arena.indexOf(0x74, first) - first + 2, true); // "1/model.ts"
      },
      "given twice",
    ],
  ];
  for (const [what, operation, tamper, expected] of cases) {
    const arena = controlArena("made", -1, LOAD);
    tamper(new DataView(arena.buffer), arena);
    const read = await parentReads(arena, operation);
    assert(!read.ok, `${what}: accepted`);
    assertStringIncludes(read.text, expected, what);
  }
});

Deno.test("control wire: the Worker refuses what the wire cannot carry before sending it", () => {
  const write = (options: ControlRequestOptions) => () => controlArena("m", -1, options);
  assertThrows(write({ files: LOAD.files }), BlsRequestFormatError, "without a configuration");
  assertThrows(
    write({ config: "{}", files: [{ path: "a\0b", bytes: new Uint8Array(0) }] }),
    BlsRequestFormatError,
    "NUL",
  );
  assertThrows(write({ config: "" }), BlsRequestFormatError, "the configuration is 0 bytes");
});
