/**
 * Test Worker for harden_realm_test.ts: hardens its realm with a reporter,
 * tries the blocked entry points, and posts what happened and what was
 * reported.
 *
 * @module
 */

import process from "node:process";
import type { Denial } from "../denials.ts";
import { hardenRealm } from "../harden_realm.ts";

const reported: Denial[] = [];
hardenRealm({ onDenial: (denial) => reported.push(denial) });

async function attempt(run: () => unknown): Promise<string> {
  try {
    const value = await run();
    return `reached: ${typeof value}`;
  } catch (error) {
    return `blocked: ${error instanceof Error ? error.name : String(error)}`;
  }
}

// deno-lint-ignore no-explicit-any
const anyGlobal = globalThis as any;
const results = {
  denoSignal: await attempt(() => Deno.addSignalListener("SIGTERM", () => {})),
  processSignal: await attempt(() => process.on("SIGINT", () => {})),
  processOtherEvent: await attempt(() => process.on("exit", () => {})),
  caches: await attempt(() => anyGlobal.caches.open("x")),
  gpu: await attempt(() => anyGlobal.navigator.gpu.requestAdapter()),
  internal: await attempt(() => anyGlobal.Deno[anyGlobal.Deno.internal].core),
  worker: await attempt(() => new anyGlobal.Worker("data:application/javascript,1")),
  exit: await attempt(() => Deno.exit(0)),
  stdin: await attempt(() => anyGlobal.Deno.stdin.readSync(new Uint8Array(1))),
  // The stream may throw the refusal at once or emit it as "error" (a pipe).
  processStdin: await attempt(() =>
    new Promise((resolve, reject) => {
      anyGlobal.process.stdin.once("error", reject);
      anyGlobal.process.stdin.once("data", resolve);
      anyGlobal.process.stdin.read();
    })
  ),
  read: await attempt(() => Deno.readTextFileSync("/etc/hostname")),
};
(globalThis as unknown as { postMessage(message: unknown): void }).postMessage({
  results,
  reported,
});
