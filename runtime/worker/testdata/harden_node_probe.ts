/**
 * Test Worker for harden_realm_test.ts: hardens its realm first, as the
 * runtime does, and only then loads node's `process` (by the global, by
 * `import`, by `createRequire`), as a model would; tries what hardening
 * must still refuse through it and posts what happened, what was reported
 * and what reached the output sink.
 *
 * @module
 */

import type { Denial } from "../denials.ts";
import { hardenRealm } from "../harden_realm.ts";

const reported: Denial[] = [];
const printed: [number, string][] = [];
hardenRealm({
  onDenial: (denial) => reported.push(denial),
  output: (level, text) => printed.push([level, text]),
});
// Nothing above may have loaded node's process object.
const loadedEarly = "process" in globalThis &&
  typeof Object.getOwnPropertyDescriptor(globalThis, "process")?.get !== "function";

async function attempt(run: () => unknown): Promise<string> {
  try {
    const value = await run();
    return `reached: ${typeof value}`;
  } catch (error) {
    return `blocked: ${error instanceof Error ? error.name : String(error)}`;
  }
}

// deno-lint-ignore no-explicit-any
type AnyProcess = any;
const viaGlobal: AnyProcess = (globalThis as AnyProcess).process;
const viaImport: AnyProcess = (await import("node:process")).default;
const { createRequire } = await import("node:module");
const viaRequire: AnyProcess = createRequire(import.meta.url)("process");

const results = {
  loadedEarly: `${loadedEarly}`,
  sameObject: `${viaGlobal === viaImport && viaImport === viaRequire}`,
  signal: await attempt(() => viaImport.on("SIGTERM", () => {})),
  signalOnce: await attempt(() => viaRequire.once("SIGINT", () => {})),
  signalPrepend: await attempt(() => viaGlobal.prependListener("SIGHUP", () => {})),
  otherEvent: await attempt(() => viaImport.on("exit", () => {})),
  exit: await attempt(() => viaImport.exit(3)),
  reallyExit: await attempt(() => viaGlobal.reallyExit(3)),
  abort: await attempt(() => viaImport.abort()),
  chdir: await attempt(() => viaImport.chdir("/")),
  // The stream may throw the refusal at once or emit it as "error" (a pipe).
  stdinRead: await attempt(() =>
    new Promise((resolve, reject) => {
      viaImport.stdin.once("error", reject);
      viaImport.stdin.once("data", resolve);
      viaImport.stdin.read();
    })
  ),
  stdoutWrite: await attempt(() => viaImport.stdout.write("process stdout")),
  stderrWrite: await attempt(() => viaRequire.stderr.write("process stderr\n")),
  nodeWorker: await attempt(async () => {
    const { Worker } = await import("node:worker_threads");
    return new Worker("1", { eval: true });
  }),
  nodeWorkerBuiltin: await attempt(() => {
    const { Worker } = viaGlobal.getBuiltinModule("node:worker_threads");
    return new Worker("1", { eval: true });
  }),
  consoleLog: await attempt(() => console.log("console after process")),
};
(globalThis as unknown as { postMessage(message: unknown): void }).postMessage({
  results,
  reported,
  printed,
});
