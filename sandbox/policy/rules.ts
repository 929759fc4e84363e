/**
 * The grammar of every permission value, shared by the model's parameters
 * (`deno.allow_*` in config.pbtxt) and the operator's policy file, so both
 * accept and normalize exactly the same things.
 *
 * - Paths are absolute after resolution and normalized lexically (`.`, `..`
 *   and repeated slashes removed). Deno compares permission paths as
 *   written, not as resolved through links, so the comparison here is
 *   lexical too; links inside the model directory are refused at load
 *   (sandbox/checks/model_dir.ts).
 * - Network entries are `host:port` or `host` (any port), with `host` a DNS
 *   name (lower-cased), an IPv4 address or a bracketed IPv6 address. Deno
 *   matches them exactly: `localhost` is not `127.0.0.1`.
 * - Environment variable names are C identifiers; names that steer the
 *   runtime itself (`DENO_*`, `LD_*`, ...) are reserved.
 * - System information names are Deno's `--allow-sys` names, except
 *   `setPriority`, which can change other processes.
 * - Model patterns (which other models a model may call or control) are
 *   model names or globs over them: `*` any run of characters, `?` one,
 *   `[abc]` / `[!a-z]` a class (not starting with `]`); nothing else is
 *   special. A declared
 *   pattern is within a ceiling when the ceiling has `*`, the same
 *   pattern, or a glob matching it as a plain name (a declared glob needs
 *   an identical one, or `*`, in the ceiling).
 *
 * @example
 * ```ts
 * import { isWithin, normalizePath, parseNetEntry } from "./rules.ts";
 *
 * console.log(normalizePath("/models/m/../shared//data/")); // "/models/shared/data"
 * console.log(isWithin("/data", "/data/x")); // true
 * console.log(parseNetEntry("API.internal:8080")); // { host: "api.internal", port: 8080 }
 * ```
 *
 * @module
 */

import { globToRegExp as stdGlobToRegExp } from "npm:deno-std@1.4.0/path/glob_to_regexp.js";

/** `@std/path`'s `globToRegExp`, typed (the npm build ships no declarations). */
const globToRegExp: (
  glob: string,
  options: { extended: boolean; globstar: boolean; os: "linux" },
) => RegExp = stdGlobToRegExp;

/** The longest path accepted (Linux's PATH_MAX, terminator excluded). */
export const MAX_PATH_LENGTH = 4095;

/**
 * Normalizes an absolute path lexically: no `.`/`..` segments, no repeated
 * or trailing slashes. `..` at the root stays at the root.
 *
 * @param path An absolute path.
 * @returns The normalized path.
 * @throws {TypeError} If the path is not absolute.
 */
export function normalizePath(path: string): string {
  if (!path.startsWith("/")) throw new TypeError(`${path} is not an absolute path`);
  const segments: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") segments.pop();
    else segments.push(segment);
  }
  return `/${segments.join("/")}`;
}

/**
 * Resolves `path` against `base` when it is relative, then normalizes it.
 *
 * @param base An absolute directory.
 * @param path Absolute or relative.
 * @returns The normalized absolute path.
 */
export function resolvePath(base: string, path: string): string {
  return normalizePath(path.startsWith("/") ? path : `${base}/${path}`);
}

/**
 * True when `path` is `root` or below it (both normalized absolute paths).
 *
 * @param root The containing directory.
 * @param path The path to test.
 */
export function isWithin(root: string, path: string): boolean {
  return path === root || path.startsWith(root === "/" ? "/" : `${root}/`);
}

/**
 * Why `text` cannot be a permission path, or undefined if it can. Commas
 * are refused because Deno's `--allow-*` lists are comma-separated; control
 * characters because they have no business in a path and garble logs; a
 * leading `~` because it would not mean the home directory here.
 *
 * @param text The path as written.
 */
export function pathProblem(text: string): string | undefined {
  if (text.length === 0) return "an empty path";
  if (text.length > MAX_PATH_LENGTH) return `a path longer than ${MAX_PATH_LENGTH} characters`;
  if (text.includes(",")) return "a path with a comma (Deno's permission lists cannot hold one)";
  // deno-lint-ignore no-control-regex
  if (/[\x00-\x1f\x7f]/.test(text)) return "a path with a control character";
  if (text.startsWith("~")) return "a path starting with ~ (write the absolute path)";
  return undefined;
}

/** A parsed network entry: `port` undefined means any port. */
export interface NetEntry {
  /** Lower-cased DNS name, dotted IPv4, or bracketed IPv6 (`[::1]`). */
  readonly host: string;
  /** 1-65535, or undefined for any port. */
  readonly port?: number;
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const IPV6_BODY = /^[0-9a-f:.]+$/;

function parseHost(text: string): string | undefined {
  const host = text.toLowerCase();
  if (host.startsWith("[")) {
    const body = host.slice(1, -1);
    return host.endsWith("]") && body.includes(":") && IPV6_BODY.test(body) ? host : undefined;
  }
  if (IPV4.test(host)) return host;
  if (host.length > 253 || /^[0-9.]+$/.test(host)) return undefined;
  return host.split(".").every((label) => LABEL.test(label)) ? host : undefined;
}

/**
 * Parses `host` or `host:port`.
 *
 * @param text The entry as written.
 * @returns The entry, or undefined if it is malformed.
 */
export function parseNetEntry(text: string): NetEntry | undefined {
  const match = /^(\[[^\]]*\]|[^:\[\]]+)(?::([0-9]{1,5}))?$/.exec(text);
  if (match === null) return undefined;
  const host = parseHost(match[1]);
  if (host === undefined) return undefined;
  if (match[2] === undefined) return { host };
  const port = Number(match[2]);
  if (port < 1 || port > 65535 || match[2].startsWith("0")) return undefined;
  return { host, port };
}

/**
 * Writes an entry back as Deno's `--allow-net` takes it.
 *
 * @param entry A parsed entry.
 */
export function formatNetEntry(entry: NetEntry): string {
  return entry.port === undefined ? entry.host : `${entry.host}:${entry.port}`;
}

/**
 * True when `allowed` covers `wanted`: the same host, and either any port
 * or the same port.
 */
export function netCovers(allowed: NetEntry, wanted: NetEntry): boolean {
  return allowed.host === wanted.host &&
    (allowed.port === undefined || allowed.port === wanted.port);
}

/** What a network entry must look like, for messages. */
export const NET_ENTRY_FORM =
  "host:port or host (any port), host being a DNS name, an IPv4 address or [an IPv6 address]";

/** Prefixes of environment variables that steer the runtime (never passed to a model). */
export const RESERVED_ENV_PREFIXES: readonly string[] = Object.freeze([
  "DENO_",
  "LD_",
  "GLIBC_",
  "MALLOC_",
  "RUST_",
  "NPM_CONFIG_",
]);

/** Names the backend sets in the stub's environment itself. */
export const RESERVED_ENV_NAMES: readonly string[] = Object.freeze(["NO_COLOR"]);

/**
 * Why `name` cannot be granted, or undefined if it can.
 *
 * @param name An environment variable name.
 */
export function envNameProblem(name: string): string | undefined {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,255}$/.test(name)) {
    return "not a variable name (letters, digits and _, not starting with a digit)";
  }
  const upper = name.toUpperCase();
  if (
    RESERVED_ENV_NAMES.includes(upper) ||
    RESERVED_ENV_PREFIXES.some((prefix) => upper.startsWith(prefix))
  ) {
    return `reserved: ${RESERVED_ENV_PREFIXES.join("*, ")}* and ${
      RESERVED_ENV_NAMES.join(", ")
    } steer the runtime`;
  }
  return undefined;
}

/**
 * Why a model pattern is refused, or undefined when it is fine.
 *
 * @param pattern A model name or glob.
 */
export function modelPatternProblem(pattern: string): string | undefined {
  if (!/^[A-Za-z0-9_.*?[\]!-]{1,256}$/.test(pattern)) {
    return "not a model name or glob (letters, digits, _ . - and the wildcards * ? [ ])";
  }
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "[" && !inClass) {
      inClass = true;
      if (pattern[i + 1] === "!") i++;
      if (pattern[i + 1] === "]") return "a glob whose [ ] class starts with ]";
    } else if (c === "]" && inClass) inClass = false;
    else if (c === "!" && !inClass) return "a glob with ! outside a [ ] class";
    else if (c === "]") return "a glob with an unmatched ]";
  }
  return inClass ? "a glob with an unterminated [" : undefined;
}

/** Whether `pattern` is a plain model name (no wildcard). */
export function isPlainModelName(pattern: string): boolean {
  return /^[A-Za-z0-9_.-]+$/.test(pattern);
}

/**
 * The anchored expression of a model glob (see {@linkcode modelPatternProblem}),
 * made by `@std/path`'s `globToRegExp` with braces and extended globs off:
 * `*`, `?`, `[...]` and `[!...]` remain, as Triton's parent matches them
 * (`fnmatch` in ffi/src/model_access.c) for the plain names it is used on.
 *
 * @param glob A valid model pattern.
 */
export function modelGlob(glob: string): RegExp {
  return globToRegExp(glob, { extended: false, globstar: false, os: "linux" });
}

/**
 * Whether a declared model pattern lies within a ceiling's patterns.
 *
 * @param ceiling The patterns the operator allows.
 * @param declared One pattern the model declares.
 */
export function modelPatternCovered(ceiling: readonly string[], declared: string): boolean {
  return ceiling.some((allowed) =>
    allowed === "*" || allowed === declared ||
    (isPlainModelName(declared) && modelGlob(allowed).test(declared))
  );
}

/** Deno's system information names a model may be granted. */
export const SYS_NAMES: readonly string[] = Object.freeze([
  "cpus",
  "gid",
  "homedir",
  "hostname",
  "loadavg",
  "networkInterfaces",
  "osRelease",
  "osUptime",
  "statfs",
  "systemMemoryInfo",
  "uid",
  "userInfo",
  "username",
  "getPriority",
]);

/** Permissions no model can ever be granted, whatever the policy says. */
export const NEVER_GRANTED: readonly string[] = Object.freeze([
  "ffi (native code would bypass every other permission)",
  "run (subprocesses)",
  "sys setPriority (it can renice other processes)",
  "import (remote module hosts; the stub runs with --no-remote)",
]);
