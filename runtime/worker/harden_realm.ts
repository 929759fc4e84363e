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
 * Node's `process` object is never touched here: reading it makes Deno load
 * its Node compatibility layer (about 10 ms, on every stub start), and a
 * model reaches the same object through `import "node:process"` as well,
 * which no getter can intercept. Its dangerous parts go through what this
 * module does harden, whenever the model loads them: `process.on("SIG…")`
 * calls `Deno.addSignalListener`, `process.exit` and `process.reallyExit`
 * call `Deno.exit`, `process.stdin` reads through the object that was
 * `Deno.stdin` (its methods are disabled on that object itself), and
 * `process.stdout`/`process.stderr` write through the objects that were
 * `Deno.stdout`/`Deno.stderr` (runtime/worker/console_sink.ts). In a Worker
 * Deno itself makes `process.chdir` and `process.abort` throw (the runtime
 * logs that refusal: `workerRefusalOf` in runtime/worker/denials.ts).
 * runtime/worker/testdata/harden_node_probe.ts checks each of these with
 * `process` loaded only after hardening, as a model's would be.
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

/** Thrown when model code tries to use standard input (the Worker's doorbell). */
export class StdinDisabledError extends Error {
  /** @param what What was used. */
  constructor(what: string) {
    super(`${what} is disabled for models: standard input belongs to the stub's runtime`);
    this.name = "StdinDisabledError";
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
 * steal its own wake-ups, but it has no business there. `Deno.stdin` goes;
 * the object it held stays what node's `process.stdin` reads through (and
 * closes), so its own methods are replaced: the doorbell's reader, bound to
 * the prototype's, keeps working.
 */
function removeStdin(): void {
  const stdin: object = Deno.stdin;
  reportingHole(Deno, "stdin", "stdio", "Deno.stdin");
  const refuse = (what: string): never => {
    blocked("stdio", what);
    throw new StdinDisabledError(what);
  };
  for (const key of ["read", "readSync", "setRaw"]) {
    Object.defineProperty(stdin, key, {
      value: function disabled(): never {
        return refuse("standard input");
      },
      writable: false,
      configurable: false,
      enumerable: false,
    });
  }
  Object.defineProperty(stdin, "readable", {
    get(): never {
      return refuse("standard input");
    },
    configurable: false,
    enumerable: false,
  });
  // node's stdin stream closes it when the stream ends: never the doorbell.
  Object.defineProperty(stdin, "close", {
    value: function close(): void {
      blocked("stdio", "standard input");
    },
    writable: false,
    configurable: false,
    enumerable: false,
  });
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
  // node's process.on("SIG…") calls Deno.addSignalListener, looked up on
  // the global Deno at each call: it is refused with the rest.
}

/**
 * node's `process.exit` and `process.reallyExit` end in `Deno.exit`, looked
 * up on the global Deno at each call; in a Worker `process.abort` throws.
 */
function disableExits(): void {
  const targets: [object, string, string][] = [
    [Deno, "exit", "Deno.exit"],
    [globalThis, "close", "close"],
  ];
  for (const [owner, key, what] of targets) {
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

/** In a Worker node's `process.chdir` throws by itself. */
function disableChdir(): void {
  Object.defineProperty(Deno, "chdir", {
    value: function disabled(): never {
      blocked("chdir", "Deno.chdir");
      throw new ChdirDisabledError("Deno.chdir");
    },
    writable: false,
    configurable: false,
    enumerable: false,
  });
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
