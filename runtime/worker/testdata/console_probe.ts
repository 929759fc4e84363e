/**
 * Test Worker for console_sink_test.ts: redirects its output, prints in
 * every way it knows, and posts the lines the sink received.
 *
 * @module
 */

import process from "node:process";
import { redirectOutput } from "../console_sink.ts";

const lines: [number, string][] = [];
redirectOutput((level, text) => lines.push([level, text]));

console.log("log", 1, { a: 2 });
console.info("info");
console.warn("warn");
console.error("error");
console.assert(false, "assert");
console.group("quiet");
await Deno.stdout.write(new TextEncoder().encode("stdout write\n"));
Deno.stderr.writeSync(new TextEncoder().encode("stderr writeSync"));
// Made on first use, then the same stream each time.
const sameWritable = Deno.stdout.writable === Deno.stdout.writable;
const writer = Deno.stdout.writable.getWriter();
await writer.write(new TextEncoder().encode("stdout writable"));
process.stdout.write("process stdout");
process.stderr.write("process stderr\n");
let replaced = "no";
try {
  // deno-lint-ignore no-global-assign
  console = { log: () => {} } as unknown as Console;
  replaced = "yes";
} catch {
  replaced = "no";
}
(globalThis as unknown as { postMessage(message: unknown): void }).postMessage({
  lines,
  replaced,
  sameWritable,
});
