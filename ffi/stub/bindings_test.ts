import { assert, assertEquals, assertStrictEquals } from "../../runtime/api/_test_assert.ts";
import { CONTROL, CONTROL_SIZE, WIRE_MAGIC, WIRE_VERSION } from "../../runtime/wire/layout.ts";
import { openStubLibrary, type StubLibrary } from "./bindings.ts";

const root = new URL("../../", import.meta.url).pathname;

/** The built helper library, or a fresh build of ffi/stub/*.c when there is none. */
async function libraryPath(): Promise<string> {
  const built = `${root}build/deno/libtriton_deno_stub.so`;
  if (await Deno.stat(built).then(() => true, () => false)) return built;
  const out = `${await Deno.makeTempDir({ prefix: "tdn_stub_lib_" })}/libtriton_deno_stub.so`;
  const sources = [...Deno.readDirSync(`${root}ffi/stub`)]
    .filter((entry) => entry.name.endsWith(".c"))
    .map((entry) => `${root}ffi/stub/${entry.name}`);
  const gcc = await new Deno.Command("gcc", {
    args: [
      "-std=c11",
      "-Wall",
      "-Wextra",
      "-Werror",
      "-fPIC",
      "-fvisibility=hidden",
      "-D_GNU_SOURCE",
      `-I${root}ffi/include`,
      "-shared",
      ...sources,
      "-o",
      out,
    ],
  }).output();
  assertEquals(gcc.code, 0, new TextDecoder().decode(gcc.stderr));
  return out;
}

const library: StubLibrary = openStubLibrary(await libraryPath());
const libc = Deno.dlopen("libc.so.6", {
  open: { parameters: ["buffer", "i32"], result: "i32" },
  pipe: { parameters: ["buffer"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
});
const O_RDWR = 2;

/** A region file with the given header; returns an open descriptor to it. */
async function regionFd(magic: number, arenaSize: number, windowSize: number): Promise<number> {
  const path = await Deno.makeTempFile({ prefix: "tdn_region_" });
  const header = new DataView(new ArrayBuffer(CONTROL_SIZE));
  header.setUint32(CONTROL.MAGIC, magic, true);
  header.setUint32(CONTROL.VERSION, WIRE_VERSION, true);
  header.setBigUint64(CONTROL.WINDOW_SIZE, BigInt(windowSize), true);
  header.setBigUint64(CONTROL.ARENA_SIZE, BigInt(arenaSize), true);
  header.setUint32(CONTROL.PARENT_PID, Deno.pid, true);
  await Deno.writeFile(path, new Uint8Array(header.buffer));
  await Deno.truncate(path, CONTROL_SIZE + arenaSize);
  const fd = libc.symbols.open(new TextEncoder().encode(`${path}\0`), O_RDWR);
  await Deno.remove(path);
  assert(fd >= 0, "open failed");
  return fd;
}

Deno.test("bindings: attach maps a region and its futex words wait and wake", async () => {
  const region = library.attach(await regionFd(WIRE_MAGIC, 65536, 1 << 20));
  assert(region !== undefined, "attach refused a valid region");
  assertEquals(region.windowSize, 1 << 20);
  const control = new DataView(Deno.UnsafePointerView.getArrayBuffer(region.base, CONTROL_SIZE));
  assertEquals(control.getUint32(CONTROL.MAGIC, true), WIRE_MAGIC);

  const word = Deno.UnsafePointer.offset(region.base, CONTROL.TO_STUB);
  assert(word !== null);
  assertEquals(library.futexWait(word, 1, 1000), "woken", "the value differs: no sleep");
  const started = performance.now();
  assertEquals(library.futexWait(word, 0, 30), "timed-out");
  assert(performance.now() - started >= 25);
  library.futexWake(word);
});

Deno.test("bindings: attach refuses a wrong magic and impossible sizes", async () => {
  assertStrictEquals(library.attach(await regionFd(0x1234, 65536, 1 << 20)), undefined);
  assertStrictEquals(library.attach(await regionFd(WIRE_MAGIC, 1 << 20, 65536)), undefined);
  assertStrictEquals(library.attach(-1), undefined);
});

Deno.test("bindings: parentPid is this process's parent", () => {
  assertEquals(library.parentPid(), Deno.ppid);
});

Deno.test("bindings: disableWebGpu leaves no adapter for any later Worker", async () => {
  const script = `
    import { openStubLibrary } from ${
    JSON.stringify(new URL("./bindings.ts", import.meta.url).href)
  };
    if (Deno.args[1] !== "keep") openStubLibrary(Deno.args[0]).disableWebGpu();
    const probe = "postMessage(String(await navigator.gpu.requestAdapter()))";
    const worker = new Worker("data:application/javascript," + encodeURIComponent(probe), { type: "module" });
    worker.onmessage = (event) => { console.log(event.data); Deno.exit(0); };`;
  const path = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(path, script);
  const adapter = async (mode: string) => {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-config", path, await libraryPath(), mode],
      env: { NO_COLOR: "1" },
    }).output();
    return new TextDecoder().decode(output.stdout).trim();
  };
  try {
    // Without the call the probe finds an adapter (llvmpipe on a machine without a GPU);
    // where there is none at all, the probe cannot tell and the check is moot.
    if ((await adapter("keep")) === "null") {
      console.log("no WebGPU adapter on this machine: nothing to disable");
      return;
    }
    assertEquals(await adapter("disable"), "null");
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("bindings: releaseFilePages drops touched binary pages, which fault back when used", () => {
  const rssFile = () =>
    Number(/^RssFile:\s+(\d+) kB/m.exec(Deno.readTextFileSync("/proc/self/status"))?.[1]);
  const before = rssFile();
  const released = library.releaseFilePages();
  const after = rssFile();
  assert(released > 0, `nothing released (${released})`);
  assert(after < before, `file-backed RSS did not drop: ${before} kB -> ${after} kB`);
  // Code runs on as before: the pages come back from the page cache.
  assertEquals(JSON.parse(JSON.stringify({ sum: [1, 2, 3].reduce((a, b) => a + b) })), { sum: 6 });
  assertEquals(new TextDecoder().decode(new TextEncoder().encode("still alive")), "still alive");
});

Deno.test("bindings: parentExit settles once the pipe's reading end is gone, not before", async () => {
  const ends = new Int32Array(2);
  assertEquals(libc.symbols.pipe(ends), 0);
  const [reading, writing] = ends;
  try {
    let settled: boolean | undefined;
    const exit = library.parentExit(writing).then((gone) => settled = gone);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assertStrictEquals(settled, undefined, "the reader (the parent) is still there");
    libc.symbols.close(reading);
    await exit;
    assertStrictEquals(settled, true);
  } finally {
    libc.symbols.close(writing);
  }
  assertStrictEquals(await library.parentExit(-1), false, "a descriptor it cannot watch");
});
