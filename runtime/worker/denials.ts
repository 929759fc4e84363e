/**
 * Noticing every permission the model is denied, so the parent can log it
 * (model, instance, permission, target) in Triton's log.
 *
 * Every denial of a Deno API (`Deno.*`, `node:*`, `fetch`, `WebSocket`, ...)
 * surfaces as a `Deno.errors.NotCapable` built by the runtime. Its
 * constructor calls `super()`, which looks up the class's prototype at call
 * time: {@linkcode installDenialReporter} puts a reporting constructor there
 * and freezes the class, so every denial in this realm is reported as it is
 * created, whether or not the model catches it, and the model cannot undo
 * the hook. A denied `import()` fails with a `TypeError` instead, from
 * inside the module loader, which has no such hook: the runtime reports
 * those where such an error leaves the model ({@linkcode denialOf}).
 *
 * The report itself cannot be trusted to arrive: the model shares the
 * realm and may break what the reporter uses. The denial always holds.
 *
 * @example
 * ```ts ignore
 * import { installDenialReporter } from "./denials.ts";
 *
 * installDenialReporter((denial) => console.warn(`${denial.permission} ${denial.target}`));
 * try {
 *   Deno.readTextFileSync("/etc/passwd");
 * } catch {
 *   // reported already
 * }
 * ```
 *
 * @module
 */

/** One denied attempt. */
export interface Denial {
  /** `read`, `write`, `net`, `env`, `sys`, `run`, `ffi` or `import`. */
  readonly permission: string;
  /** What was asked for (a path, `host:port`, a name), or "" when Deno names none. */
  readonly target: string;
}

const DENIAL = /^Requires (\w+) access(?: to (.*?))?, (?:run again|specify)/s;
// Captured before any model code runs, so that replacing them later does
// not silence the reporter.
const apply = Reflect.apply;
const regExpExec = RegExp.prototype.exec;
const stringSlice = String.prototype.slice;
const stringify = JSON.stringify;

const UNSCOPED = /^(Deno\.\w+)\(\) requires unscoped --allow-(\w+) and --allow-(\w+)/;
const DENIAL_ADVICE = /^(Requires (\w+) access(?: to .*?)?), (?:run again|specify).*$/s;

/** The config.pbtxt parameter that grants each permission a model can get. */
const PARAMETER_OF: Readonly<Record<string, string>> = Object.freeze(
  Object.assign(Object.create(null), {
    read: "deno.allow_read",
    write: "deno.allow_write",
    net: "deno.allow_net",
    env: "deno.allow_env",
    sys: "deno.allow_sys",
  }),
);

/**
 * Rewrites Deno's advice in a permission message ("run again with the
 * --allow-read flag", which a model author cannot do) into the model's:
 * the config.pbtxt parameter that grants it, or that it is never granted.
 * Other messages come back unchanged.
 *
 * @param message A `NotCapable` message.
 * @returns E.g. `Requires read access to "/etc/passwd": declare it in the
 * model's config.pbtxt as deno.allow_read (within the operator's policy)`.
 */
export function explainDenial(message: string): string {
  const match: RegExpExecArray | null = apply(regExpExec, DENIAL_ADVICE, [message]);
  if (match === null) return message;
  const parameter = PARAMETER_OF[match[2]];
  return parameter === undefined
    ? `${match[1]}: a model is never granted ${match[2]} access`
    : `${match[1]}: declare it in the model's config.pbtxt as ${parameter} (within the ` +
      "operator's policy)";
}
const UNCACHED = /npm package not found in cache: "([^"]+)", --cached-only/;

/**
 * Reads a Deno permission message ("Requires read access to "/etc/passwd",
 * run again with the --allow-read flag"), including the two that do not
 * follow that form: an API that needs unscoped permissions, and an npm
 * package the stub may not fetch.
 *
 * @param message An error message.
 * @returns The denial, or undefined if the message is not one.
 */
export function parseDenial(message: string): Denial | undefined {
  const unscoped: RegExpExecArray | null = apply(regExpExec, UNSCOPED, [message]);
  if (unscoped !== null) {
    return { permission: `${unscoped[2]}+${unscoped[3]}`, target: `${unscoped[1]}()` };
  }
  const uncached: RegExpExecArray | null = apply(regExpExec, UNCACHED, [message]);
  if (uncached !== null) return { permission: "import", target: `npm:${uncached[1]}` };
  const match: RegExpExecArray | null = apply(regExpExec, DENIAL, [message]);
  if (match === null) return undefined;
  let target = match[2] ?? "";
  if (target.length >= 2 && target[0] === '"' && target[target.length - 1] === '"') {
    target = apply(stringSlice, target, [1, -1]);
  }
  return { permission: match[1], target };
}

/**
 * node's `process.chdir` and `process.abort`, which Deno itself refuses in
 * a Worker (runtime/worker/harden_realm.ts leaves them to it), and what the
 * log calls them.
 */
const WORKER_REFUSAL = /^process\.(chdir|abort)\(\) is not supported in workers/;
const REFUSAL_PERMISSION: Readonly<Record<string, string>> = Object.freeze(
  Object.assign(Object.create(null), { chdir: "chdir", abort: "exit" }),
);

/**
 * The denial an error carries, if it is a permission error that is not a
 * `NotCapable` (those are reported when they are created): a denied import.
 *
 * @param error Anything thrown.
 */
export function denialOf(error: unknown): Denial | undefined {
  if (!(error instanceof Error) || error instanceof Deno.errors.NotCapable) return undefined;
  return parseDenial(error.message);
}

/**
 * node's `process.chdir` or `process.abort` refused by Deno itself in a
 * Worker (runtime/worker/harden_realm.ts leaves them to it), named for the
 * log like the refusals hardening makes. Unlike a permission denial it does
 * not stop the work in flight: the call simply failed.
 *
 * @param error Anything thrown.
 * @returns E.g. `{ permission: "chdir", target: "process.chdir" }`.
 */
export function workerRefusalOf(error: unknown): Denial | undefined {
  if (!(error instanceof Error)) return undefined;
  const refusal: RegExpExecArray | null = apply(regExpExec, WORKER_REFUSAL, [error.message]);
  if (refusal === null) return undefined;
  return { permission: REFUSAL_PERMISSION[refusal[1]], target: `process.${refusal[1]}` };
}

let installed = false;

/**
 * Reports every `NotCapable` created in this realm from now on. Idempotent:
 * only the first call installs a reporter.
 *
 * @param report Called with each denial; must not throw (errors are swallowed).
 */
export function installDenialReporter(report: (denial: Denial) => void): void {
  if (installed) return;
  installed = true;
  const NotCapable = Deno.errors.NotCapable;
  const ErrorConstructor = Error;
  const construct = Reflect.construct;
  const parse = parseDenial;
  const explain = explainDenial;
  let reporting = false;
  // The runtime builds the error with `new NotCapable(message)`; the class's
  // `super(message)` lands here with `new.target` still NotCapable.
  function ReportingBase(this: unknown, message?: string, options?: ErrorOptions): Error {
    if (!reporting) {
      reporting = true;
      try {
        const denial = typeof message === "string" ? parse(message) : undefined;
        if (denial !== undefined) report(denial);
      } catch {
        // Reporting is best effort; the denial itself stands.
      } finally {
        reporting = false;
      }
    }
    // The model author reads this: the parameter to declare, not Deno's flag.
    const text = typeof message === "string" ? explain(message) : message;
    return construct(ErrorConstructor, [text, options], new.target);
  }
  ReportingBase.prototype = ErrorConstructor.prototype;
  Object.setPrototypeOf(ReportingBase, ErrorConstructor);
  Object.setPrototypeOf(NotCapable, ReportingBase);
  Object.freeze(NotCapable);
}

/**
 * Formats a denial for the log line the parent writes after "model 'm',
 * instance 'i': ".
 *
 * @param denial The denial.
 * @returns E.g. `denied read access to "/etc/passwd"`.
 */
export function formatDenial(denial: Denial): string {
  return denial.target === ""
    ? `denied ${denial.permission} access`
    : `denied ${denial.permission} access to ${stringify(denial.target)}`;
}

const LIMIT_HIT =
  /Array buffer allocation failed|WebAssembly\.Memory|Out of memory|Too many open files/;

/**
 * What resource limit an error shows the model ran into (memory for
 * ArrayBuffers or Wasm, file descriptors), for the log.
 *
 * @param error Anything thrown.
 * @returns A line such as "resource limit reached: Array buffer allocation
 * failed", or undefined.
 */
export function limitHitOf(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const message = error.message;
  const match: RegExpExecArray | null = apply(regExpExec, LIMIT_HIT, [message]);
  if (match === null) return undefined;
  const firstLine = message.split("\n")[0];
  return `resource limit reached (deno.max_memory_mb or the descriptor limit): ${firstLine}`;
}
