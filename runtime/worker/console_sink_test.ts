import { assertEquals } from "../api/_test_assert.ts";
import { runProbe } from "./testdata/run_probe.ts";

Deno.test("console sink: every way of printing reaches the sink, a line per call", async () => {
  const seen = await runProbe<{ lines: unknown; replaced: string; sameWritable: boolean }>(
    "console_probe.ts",
  );
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
