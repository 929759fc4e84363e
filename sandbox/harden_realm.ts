/**
 * Strips the model's realm (the Worker) of what Deno's permissions do not
 * guard. Runs first in the Worker, before any model code is imported.
 *
 * WebGPU needs no permission at all, so it is removed: `navigator.gpu`, every
 * `GPU*` interface object, and `Deno[Deno.internal]` (whose `webidl` can mint
 * a branded `GPU` object and call `requestAdapter` on it). A nested realm
 * would bring WebGPU back, so nested Workers are removed as well: the web
 * `Worker` global, and the `Worker` of `node:worker_threads` (reachable by
 * `import`, `require` and `process.getBuiltinModule`), whose construction is
 * made to fail. That last guard cannot see a construction through
 * `Reflect.construct` with a foreign `newTarget`; the stub therefore also
 * turns WebGPU off for the whole process (`DENO_WEBGPU_BACKEND=none`, see
 * ffi/stub/bindings.ts), which covers every realm.
 *
 * `Deno.exit`, `close` and `process.exit` end a Worker silently (not the
 * process), so a model calling one would leave its batch hanging until the
 * execute deadline; they throw instead, which fails the batch at once with
 * a message saying why.
 *
 * @example
 * ```ts ignore
 * import { hardenRealm } from "../../sandbox/harden_realm.ts";
 *
 * hardenRealm();
 * const model = await import(modelUrl);
 * ```
 *
 * @module
 */

import { EventEmitter } from "node:events";
import { Worker as NodeWorker } from "node:worker_threads";

/** Thrown when model code tries to start a nested Worker. */
export class NestedWorkerError extends Error {
  /** Explains that models cannot start Workers. */
  constructor() {
    super("models cannot start Workers (the sandbox forbids nested realms)");
    this.name = "NestedWorkerError";
  }
}

/** Thrown when model code tries to end its Worker. */
export class ExitDisabledError extends Error {
  /** @param what The function that was called. */
  constructor(what: string) {
    super(
      `${what}() is disabled for models: it would end the model's Worker silently; ` +
        "throw an error to fail a batch instead",
    );
    this.name = "ExitDisabledError";
  }
}

let hardened = false;

/**
 * Removes WebGPU and nested Workers from the current realm and disables the
 * calls that end it. Idempotent.
 *
 * @throws {Error} If a WebGPU entry point survives (the realm must not run
 * model code then).
 */
export function hardenRealm(): void {
  if (hardened) return;
  removeWebGpu();
  removeDenoInternal();
  removeNestedWorkers();
  disableExits();
  hardened = true;
  if ("gpu" in navigator || "GPU" in globalThis) {
    throw new Error("WebGPU is still reachable after hardening the realm");
  }
}

function removeWebGpu(): void {
  // `gpu` is an accessor on WorkerNavigator.prototype (and Navigator.prototype).
  for (
    let object: object | null = navigator;
    object !== null;
    object = Object.getPrototypeOf(object)
  ) {
    if (Object.hasOwn(object, "gpu")) {
      Reflect.deleteProperty(object, "gpu");
    }
  }
  for (const name of Object.getOwnPropertyNames(globalThis)) {
    if (name.startsWith("GPU")) Reflect.deleteProperty(globalThis, name);
  }
}

function removeDenoInternal(): void {
  const internal = (Deno as unknown as { internal?: symbol }).internal;
  if (typeof internal === "symbol") Reflect.deleteProperty(Deno, internal);
}

function disableExits(): void {
  const process = (globalThis as { process?: object }).process;
  const targets: [object | undefined, string, string][] = [
    [Deno, "exit", "Deno.exit"],
    [globalThis, "close", "close"],
    [process, "exit", "process.exit"],
    [process, "reallyExit", "process.reallyExit"],
  ];
  for (const [owner, key, what] of targets) {
    if (owner === undefined) continue;
    Object.defineProperty(owner, key, {
      value: function disabled(): never {
        throw new ExitDisabledError(what);
      },
      writable: false,
      configurable: false,
      enumerable: false,
    });
  }
}

function removeNestedWorkers(): void {
  Reflect.deleteProperty(globalThis, "Worker");

  // node:worker_threads' Worker extends EventEmitter and calls its
  // constructor (EventEmitter.init) before it creates the thread: make that
  // call fail for Worker instances. The captured functions are closed over,
  // so a model cannot swap them; `init` is made read-only and permanent.
  const originalInit = (EventEmitter as unknown as { init: (...args: unknown[]) => void }).init;
  const workerPrototype: object = NodeWorker.prototype;
  const isPrototypeOf = Function.prototype.call.bind(Object.prototype.isPrototypeOf) as (
    prototype: object,
    value: unknown,
  ) => boolean;
  const apply = Reflect.apply;
  Object.defineProperty(EventEmitter, "init", {
    value: function init(this: unknown, ...args: unknown[]): void {
      if (isPrototypeOf(workerPrototype, this)) throw new NestedWorkerError();
      apply(originalInit, this, args);
    },
    writable: false,
    configurable: false,
    enumerable: true,
  });
  Object.freeze(NodeWorker);
  Object.freeze(NodeWorker.prototype);
}
