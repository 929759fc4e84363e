/**
 * Test Worker for harden_realm_test.ts: hardens its realm, then tries every
 * way back to WebGPU it knows and posts what happened.
 *
 * @module
 */

import { hardenRealm } from "../harden_realm.ts";

hardenRealm();

type Outcome = string;

async function attempt(run: () => unknown): Promise<Outcome> {
  try {
    const value = await run();
    return `reached: ${typeof value}`;
  } catch (error) {
    return `blocked: ${error instanceof Error ? error.name : String(error)}`;
  }
}

// deno-lint-ignore no-explicit-any
const anyGlobal = globalThis as any;
const results: Record<string, Outcome> = {
  navigatorGpu: await attempt(() => {
    const gpu = anyGlobal.navigator.gpu;
    if (gpu === undefined) throw new Error("navigator.gpu is undefined");
    return gpu;
  }),
  gpuGetterOnPrototype: await attempt(() => {
    for (let o = Object.getPrototypeOf(navigator); o !== null; o = Object.getPrototypeOf(o)) {
      const getter = Object.getOwnPropertyDescriptor(o, "gpu")?.get;
      if (getter) return getter.call(navigator);
    }
    throw new Error("no gpu getter");
  }),
  gpuClass: await attempt(() => {
    if (typeof anyGlobal.GPU !== "function") throw new Error("GPU is gone");
    return anyGlobal.GPU;
  }),
  denoInternal: await attempt(() => {
    const internal = anyGlobal.Deno[anyGlobal.Deno.internal];
    if (internal === undefined) throw new Error("Deno[Deno.internal] is gone");
    return internal;
  }),
  webWorker: await attempt(() =>
    new anyGlobal.Worker("data:application/javascript,1", { type: "module" })
  ),
  nodeWorkerImport: await attempt(async () => {
    const { Worker } = await import("node:worker_threads");
    return new Worker("1", { eval: true });
  }),
  nodeWorkerBuiltin: await attempt(() => {
    const { Worker } = anyGlobal.process.getBuiltinModule("node:worker_threads");
    return new Worker("1", { eval: true });
  }),
  nodeWorkerSubclass: await attempt(async () => {
    const { Worker } = await import("node:worker_threads");
    class Sub extends Worker {}
    return new Sub("1", { eval: true });
  }),
  eventEmitterStillWorks: await attempt(async () => {
    const { EventEmitter } = await import("node:events");
    const emitter = new EventEmitter();
    let seen = false;
    emitter.on("x", () => (seen = true));
    emitter.emit("x");
    if (!seen) throw new Error("EventEmitter broken");
    return emitter;
  }),
  reinitPatch: await attempt(async () => {
    const { EventEmitter } = await import("node:events");
    // deno-lint-ignore no-explicit-any
    (EventEmitter as any).init = function () {};
    // deno-lint-ignore no-explicit-any
    if ((EventEmitter as any).init.toString() === "function () {}") return "replaced";
    throw new Error("init is read-only");
  }),
  denoExit: await attempt(() => Deno.exit(3)),
  close: await attempt(() => anyGlobal.close()),
  processExit: await attempt(() => anyGlobal.process.exit(3)),
  restoreExit: await attempt(() => {
    anyGlobal.Deno.exit = () => "replaced";
    return anyGlobal.Deno.exit();
  }),
};
(globalThis as unknown as { postMessage(message: unknown): void }).postMessage(results);
