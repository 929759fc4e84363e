/**
 * Strips the model's realm (the Worker) of what Deno's permissions do not
 * guard. Runs first in the Worker, before any model code is imported.
 *
 * WebGPU needs no permission at all, so unless the model was granted
 * `deno.allow_gpu` it is removed: `navigator.gpu`, every
 * `GPU*` interface object, and `Deno[Deno.internal]` (whose `webidl` can mint
 * a branded `GPU` object and call `requestAdapter` on it). A nested realm
 * would bring WebGPU back, so nested Workers are removed as well: the web
 * `Worker` global, and the `Worker` of `node:worker_threads` (reachable by
 * `import`, `require` and `process.getBuiltinModule`), whose construction is
 * made to fail. That last guard cannot see a construction through
 * `Reflect.construct` with a foreign `newTarget`; the stub therefore also
 * turns WebGPU off for the whole process (`DENO_WEBGPU_BACKEND=none`, see
 * ffi/stub/bindings.ts), which covers every realm. Permission denials are
 * reported as they happen (runtime/worker/denials.ts).
 *
 * Standard input (the Worker's doorbell, runtime/wire/doorbell.ts) is
 * removed too.
 *
 * `Deno.exit`, `close` and `process.exit` end a Worker silently (not the
 * process), so a model calling one would leave its batch hanging until the
 * execute deadline; they throw instead, which fails the batch at once with
 * a message saying why. Signal listeners (`Deno.addSignalListener`,
 * `process.on("SIGTERM")`) need no permission but change how the whole
 * process reacts to signals: they throw too. The Cache API needs no
 * permission either and writes into the backend's shared `deno_dir`: it is
 * removed.
 *
 * Every blocked attempt is reported like a permission denial (through
 * `onDenial`): reading a removed global goes through a getter that reports
 * it and answers `undefined`. What the model prints goes to `output`
 * rather than to the process's standard output and error, which are
 * Triton's (runtime/worker/console_sink.ts).
 *
 * @example
 * ```ts ignore
 * import { hardenRealm } from "./harden_realm.ts";
 *
 * hardenRealm();
 * const model = await import(modelUrl);
 * ```
 *
 * @module
 */

import { EventEmitter } from "node:events";
import { Worker as NodeWorker } from "node:worker_threads";
import { type OutputSink, redirectOutput } from "./console_sink.ts";
import { type Denial, installDenialReporter } from "./denials.ts";

/** Thrown when model code tries to start a nested Worker. */
export class NestedWorkerError extends Error {
  /** Explains that models cannot start Workers. */
  constructor() {
    super("models cannot start Workers (the sandbox forbids nested realms)");
    this.name = "NestedWorkerError";
  }
}

/** Thrown when model code tries to install a signal listener. */
export class SignalListenerError extends Error {
  /** @param signal The signal asked for. */
  constructor(signal: string) {
    super(
      `models cannot listen for signals (${signal}): a listener would change how the whole ` +
        "stub process reacts to them",
    );
    this.name = "SignalListenerError";
  }
}

/** Thrown when model code tries to change the working directory. */
export class ChdirDisabledError extends Error {
  /** @param what The function that was called. */
  constructor(what: string) {
    super(
      `${what}() is disabled for models: the working directory belongs to the whole stub ` +
        "process; use absolute paths (the model directory is args.modelRepository)",
    );
    this.name = "ChdirDisabledError";
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

/** What {@linkcode hardenRealm} leaves in place or adds. */
export interface HardenOptions {
  /** Keep WebGPU (the model was granted `deno.allow_gpu`). Default false. */
  allowGpu?: boolean;
  /** Called with every permission denial and blocked attempt in the realm. */
  onDenial?: (denial: Denial) => void;
  /** Where the model's console, stdout and stderr go (runtime/worker/console_sink.ts). */
  output?: OutputSink;
}

/** Reports a blocked attempt; replaced by the caller's `onDenial`. */
let report: (denial: Denial) => void = () => {};

function blocked(permission: string, target: string): void {
  try {
    report({ permission, target });
  } catch {
    // Reporting is best effort.
  }
}

/**
 * Removes WebGPU (unless granted), `Deno[Deno.internal]`, nested Workers,
 * signal listeners and the Cache API from the current realm, disables the
 * calls that end it and those that change the process's working directory,
 * and reports denials. Idempotent: the first call's
 * options hold.
 *
 * @param options What to keep and where denials go.
 * @throws {Error} If a WebGPU entry point survives when it should not (the
 * realm must not run model code then).
 */
export function hardenRealm(options: HardenOptions = {}): void {
  if (hardened) return;
  if (options.onDenial !== undefined) {
    report = options.onDenial;
    installDenialReporter(options.onDenial);
  }
  if (options.output !== undefined) redirectOutput(options.output);
  if (!options.allowGpu) removeWebGpu();
  removeDenoInternal();
  removeNestedWorkers();
  removeStorage();
  removeStdin();
  disableSignalListeners();
  disableExits();
  disableChdir();
  hardened = true;
  if (!options.allowGpu && (hasGpuGetter() || "GPU" in globalThis)) {
    throw new Error("WebGPU is still reachable after hardening the realm");
  }
}

/** Replaces a global (or any property) by a permanent getter that reports and answers undefined. */
function reportingHole(owner: object, key: PropertyKey, permission: string, target: string): void {
  Reflect.deleteProperty(owner, key);
  Object.defineProperty(owner, key, {
    get(): undefined {
      blocked(permission, target);
      return undefined;
    },
    set(): void {
      // Assigning is allowed to fail silently, as for a frozen property.
    },
    configurable: false,
    enumerable: false,
  });
}

function hasGpuGetter(): boolean {
  for (
    let object: object | null = Object.getPrototypeOf(navigator);
    object !== null;
    object = Object.getPrototypeOf(object)
  ) {
    if (Object.hasOwn(object, "gpu")) return true;
  }
  return false;
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
  reportingHole(navigator, "gpu", "gpu", "navigator.gpu");
}

function removeDenoInternal(): void {
  const internal = (Deno as unknown as { internal?: symbol }).internal;
  if (typeof internal === "symbol") {
    reportingHole(Deno, internal, "internal", "Deno[Deno.internal]");
  }
}

function removeStorage(): void {
  for (const name of ["caches", "CacheStorage", "Cache"]) {
    if (name in globalThis) reportingHole(globalThis, name, "storage", name);
  }
  // Absent from Workers already; a model reaching for them is still reported.
  for (const name of ["localStorage", "sessionStorage"]) {
    if (Object.getOwnPropertyDescriptor(globalThis, name)?.configurable !== false) {
      reportingHole(globalThis, name, "storage", name);
    }
  }
}

/**
 * Standard input is the Worker's doorbell (runtime/wire/doorbell.ts): the
 * runtime bound its reader before this runs. A model reading it could only
 * steal its own wake-ups, but it has no business there.
 */
function removeStdin(): void {
  reportingHole(Deno, "stdin", "stdio", "Deno.stdin");
  const process = (globalThis as unknown as { process?: object }).process;
  if (process !== undefined) reportingHole(process, "stdin", "stdio", "process.stdin");
}

function disableSignalListeners(): void {
  const refuse = (signal: unknown): never => {
    const name = String(signal);
    blocked("signal", name);
    throw new SignalListenerError(name);
  };
  for (const key of ["addSignalListener", "removeSignalListener"]) {
    Object.defineProperty(Deno, key, {
      value: function disabled(signal: unknown): never {
        return refuse(signal);
      },
      writable: false,
      configurable: false,
      enumerable: true,
    });
  }
  // node's process emits signals as events: refuse listeners for them.
  const process = (globalThis as unknown as { process?: Record<string, unknown> }).process;
  if (process === undefined) return;
  const isSignal = (event: unknown) => typeof event === "string" && /^SIG[A-Z0-9]+$/.test(event);
  const apply = Reflect.apply;
  for (const key of ["on", "addListener", "once", "prependListener", "prependOnceListener"]) {
    const original = process[key];
    if (typeof original !== "function") continue;
    Object.defineProperty(process, key, {
      value: function listen(this: unknown, event: unknown, ...rest: unknown[]): unknown {
        if (isSignal(event)) refuse(event);
        return apply(original, this, [event, ...rest]);
      },
      writable: false,
      configurable: false,
      enumerable: false,
    });
  }
}

function disableExits(): void {
  const process = (globalThis as { process?: object }).process;
  const targets: [object | undefined, string, string][] = [
    [Deno, "exit", "Deno.exit"],
    [globalThis, "close", "close"],
    [process, "exit", "process.exit"],
    [process, "reallyExit", "process.reallyExit"],
    [process, "abort", "process.abort"],
  ];
  for (const [owner, key, what] of targets) {
    if (owner === undefined) continue;
    Object.defineProperty(owner, key, {
      value: function disabled(): never {
        blocked("exit", what);
        throw new ExitDisabledError(what);
      },
      writable: false,
      configurable: false,
      enumerable: false,
    });
  }
}

function disableChdir(): void {
  const process = (globalThis as { process?: object }).process;
  const targets: [object | undefined, string, string][] = [
    [Deno, "chdir", "Deno.chdir"],
    [process, "chdir", "process.chdir"],
  ];
  for (const [owner, key, what] of targets) {
    if (owner === undefined) continue;
    Object.defineProperty(owner, key, {
      value: function disabled(): never {
        blocked("chdir", what);
        throw new ChdirDisabledError(what);
      },
      writable: false,
      configurable: false,
      enumerable: false,
    });
  }
}

function removeNestedWorkers(): void {
  reportingHole(globalThis, "Worker", "worker", "Worker");

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
      if (isPrototypeOf(workerPrototype, this)) {
        blocked("worker", "node:worker_threads Worker");
        throw new NestedWorkerError();
      }
      apply(originalInit, this, args);
    },
    writable: false,
    configurable: false,
    enumerable: true,
  });
  Object.freeze(NodeWorker);
  Object.freeze(NodeWorker.prototype);
}
