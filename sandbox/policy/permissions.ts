/**
 * The permissions of a model's Worker.
 *
 * A policy says what a model may reach; {@linkcode workerPermissions} turns
 * it into the `deno.permissions` option of `new Worker`. Every permission is
 * spelled out (nothing is `"inherit"`), so a field the policy does not
 * mention is denied rather than copied from the stub's main thread, which
 * holds FFI and more.
 *
 * The baseline reads the model's own directory and nothing else. A model's
 * own grants (`deno.allow_read`, `deno.allow_net`, ... in its config,
 * capped by the operator's policy) arrive as the sandbox record the policy
 * evaluator wrote (sandbox/evaluate.ts); {@linkcode sandboxPermissions}
 * turns that into the same Worker permissions.
 *
 * @example
 * ```ts
 * import { baselinePolicy, workerPermissions } from "./permissions.ts";
 *
 * const permissions = workerPermissions(baselinePolicy("/models/add_sub"));
 * console.log(permissions.read); // ["/models/add_sub"]
 * console.log(permissions.net); // false
 * ```
 *
 * @module
 */

import type { SandboxRecord } from "./sandbox_record.ts";

/** What a model may reach. Lists are exact paths or `host:port`s; empty means none. */
export interface SandboxPolicy {
  /** Absolute paths the model may read (its directory first). */
  readonly read: readonly string[];
  /** Absolute paths the model may write. */
  readonly write: readonly string[];
  /** `host[:port]`s the model may connect to. */
  readonly net: readonly string[];
  /** Environment variables the model may read. */
  readonly env: readonly string[];
  /** System information APIs the model may call (none when absent). */
  readonly sys?: readonly string[];
}

/** The Worker permission object {@linkcode workerPermissions} returns. */
export interface WorkerPermissions {
  /** Readable paths. */
  read: string[] | false;
  /** Writable paths. */
  write: string[] | false;
  /** Reachable hosts. */
  net: string[] | false;
  /** Readable environment variables. */
  env: string[] | false;
  /** System information APIs granted by the policy. */
  sys: string[] | false;
  /** Subprocesses: never. */
  run: false;
  /** Native libraries: never (FFI stays with the trusted main thread). */
  ffi: false;
  /** Remote module hosts: never (the stub runs with --no-remote anyway). */
  import: false;
}

/**
 * The baseline policy: read `modelDirectory`, nothing else.
 *
 * @param modelDirectory The model's directory, absolute, written the way
 * the model's code will name it (Deno compares permission paths as written).
 * @returns The policy.
 * @throws {TypeError} If the path is not absolute.
 */
export function baselinePolicy(modelDirectory: string): SandboxPolicy {
  if (!modelDirectory.startsWith("/")) {
    throw new TypeError(`model directory ${modelDirectory} is not an absolute path`);
  }
  return Object.freeze({
    read: Object.freeze([modelDirectory]),
    write: Object.freeze([]),
    net: Object.freeze([]),
    env: Object.freeze([]),
  });
}

/**
 * Turns a policy into the `deno.permissions` option of `new Worker`.
 *
 * @param policy What the model may reach.
 * @returns A fresh object with every permission explicit.
 */
export function workerPermissions(policy: SandboxPolicy): WorkerPermissions {
  const list = (values: readonly string[]): string[] | false =>
    values.length === 0 ? false : [...values];
  return {
    read: list(policy.read),
    write: list(policy.write),
    net: list(policy.net),
    env: list(policy.env),
    sys: list(policy.sys ?? []),
    run: false,
    ffi: false,
    import: false,
  };
}

/**
 * The Worker permissions a sandbox record grants (the lists the parent
 * also put on the stub's command line).
 *
 * @param record The decoded sandbox record.
 * @param modelDirectory The model's directory as INIT names it; the record
 * must list it first (both come from the same evaluation).
 * @returns The permissions.
 * @throws {TypeError} If the record does not start with the model directory.
 */
export function sandboxPermissions(
  record: Pick<SandboxRecord, "read" | "write" | "net" | "env" | "sys">,
  modelDirectory: string,
): WorkerPermissions {
  if (record.read[0] !== modelDirectory) {
    throw new TypeError(
      `the sandbox record's first readable path ${record.read[0]} is not the model directory ` +
        modelDirectory,
    );
  }
  return workerPermissions(record);
}
