import { assertEquals } from "../api/_test_assert.ts";

Deno.test("console sink: every way of printing reaches the sink, a line per call", async () => {
  const worker = new Worker(new URL("./testdata/console_probe.ts", import.meta.url), {
    type: "module",
    deno: { permissions: "none" },
  });
  const seen = await new Promise<{ lines: unknown; replaced: string; sameWritable: boolean }>(
    (resolve, reject) => {
      worker.onmessage = (event) => resolve(event.data);
      worker.onerror = (event) => {
        event.preventDefault();
        reject(new Error(event.message));
      };
    },
  );
  worker.terminate();
  assertEquals(seen.lines, [
    [0, "log 1 { a: 2 }"],
    [0, "info"],
    [1, "warn"],
    [2, "error"],
    [2, "Assertion failed: assert"],
    [0, "stdout write"],
    [2, "stderr writeSync"],
    [0, "stdout writable"],
    [0, "process stdout"],
    [2, "process stderr"],
  ]);
  assertEquals(seen.replaced, "no");
  assertEquals(seen.sameWritable, true);
});
