/**
 * How the offline install test (install_test.ts) takes the checkout, the
 * user's caches and the network away from the server it starts, and how it
 * reads what the server's processes touched.
 *
 * - {@linkcode probeIsolation} finds what this machine allows: a mount
 *   namespace (the checkout and the caches hidden under empty read-only
 *   tmpfs mounts, the install remounted read-only), a network namespace with
 *   only loopback up, and `strace` to record every file and network system
 *   call. Each needs root or a tool that may be missing; what is missing is
 *   named so the test can say what it could not enforce.
 * - {@linkcode isolatedCommand} wraps a command in those layers.
 * - {@linkcode traceViolations} reads an `strace -f` log for paths under
 *   the forbidden roots and for connections to any IPv4 or IPv6 address.
 *
 * @module
 */

/** What this machine lets the test enforce. */
export interface Isolation {
  /** A mount namespace in which tmpfs and bind mounts can be made. */
  mount: boolean;
  /** A network namespace with loopback up (`ip` is needed for that). */
  network: boolean;
  /** strace runs and can follow children. */
  trace: boolean;
  /** One line per layer that is not available, and why. */
  missing: string[];
}

async function succeeds(program: string, args: string[]): Promise<string | null> {
  try {
    const { code, stderr } = await new Deno.Command(program, {
      args,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    return code === 0 ? null : (new TextDecoder().decode(stderr).trim() || `exit ${code}`);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** Finds which isolation layers work here. */
export async function probeIsolation(): Promise<Isolation> {
  const missing: string[] = [];
  const probeDir = await Deno.makeTempDir({ prefix: "tdn_isolation_probe_" });
  try {
    const mountFailure = await succeeds("unshare", [
      "--mount",
      "--fork",
      "--",
      "/bin/sh",
      "-c",
      `mount -t tmpfs -o ro,size=4k tdn_probe "$0" && mount --bind "$0" "$0" && ` +
      `mount -o remount,bind,ro "$0"`,
      probeDir,
    ]);
    if (mountFailure !== null) missing.push(`no mount namespace (${mountFailure})`);
    const networkFailure = await succeeds("unshare", [
      "--net",
      "--fork",
      "--",
      "/bin/sh",
      "-c",
      "ip link set lo up",
    ]);
    if (networkFailure !== null) missing.push(`no network namespace (${networkFailure})`);
    const traceFailure = await succeeds("strace", ["-f", "-qq", "-o", "/dev/null", "true"]);
    if (traceFailure !== null) missing.push(`no strace (${traceFailure})`);
    return {
      mount: mountFailure === null,
      network: networkFailure === null,
      trace: traceFailure === null,
      missing,
    };
  } finally {
    await Deno.remove(probeDir, { recursive: true });
  }
}

/** What {@linkcode isolatedCommand} hides, protects and runs. */
export interface IsolatedRun {
  /** Directories to hide under empty read-only tmpfs mounts (those that exist). */
  hideDirectories: string[];
  /** Files to hide behind /dev/null (those that exist). */
  hideFiles: string[];
  /** Directories to remount read-only. */
  readOnly: string[];
  /** The command to run inside. */
  command: string[];
}

// Runs inside the namespaces: $1 is "net" or "", then counts and paths.
const INSIDE = `set -e
net=$1; shift
n=$1; shift
while [ "$n" -gt 0 ]; do [ -d "$1" ] && mount -t tmpfs -o ro,size=4k tdn_hidden "$1"; shift; n=$((n-1)); done
n=$1; shift
while [ "$n" -gt 0 ]; do [ -f "$1" ] && mount --bind /dev/null "$1"; shift; n=$((n-1)); done
n=$1; shift
while [ "$n" -gt 0 ]; do mount --bind "$1" "$1" && mount -o remount,bind,ro "$1"; shift; n=$((n-1)); done
[ "$net" = net ] && ip link set lo up
exec "$@"`;

/**
 * The command line that runs `run.command` inside the layers `isolation`
 * allows (the command as it is when it allows no mount namespace).
 */
export function isolatedCommand(isolation: Isolation, run: IsolatedRun): string[] {
  if (!isolation.mount) return run.command;
  return [
    "unshare",
    "--mount",
    "--propagation",
    "private",
    ...(isolation.network ? ["--net"] : []),
    "--fork",
    "--",
    "/bin/sh",
    "-c",
    INSIDE,
    "tdn_isolated",
    isolation.network ? "net" : "",
    String(run.hideDirectories.length),
    ...run.hideDirectories,
    String(run.hideFiles.length),
    ...run.hideFiles,
    String(run.readOnly.length),
    ...run.readOnly,
    ...run.command,
  ];
}

/** The strace prefix that records file and network calls of a whole process tree. */
export function traceCommand(log: string): string[] {
  return [
    "strace",
    "-f",
    "-qq",
    "-s",
    "4096",
    "-e",
    "trace=%file,%network",
    "-e",
    "signal=none",
    "-o",
    log,
  ];
}

/** Whether `path` is `root` or below it. */
export function isUnder(path: string, root: string): boolean {
  const base = root.replace(/\/+$/, "");
  return path === base || path.startsWith(`${base}/`);
}

/**
 * The lines of an `strace -f` log that reach for a forbidden path (any
 * quoted string at or below one of `roots`) or for the network (a
 * `connect`, `sendto` or `sendmsg` to an IPv4 or IPv6 address; with
 * `privateLoopback`, for a run in its own network namespace, not to a
 * loopback address).
 *
 * @example
 * ```ts
 * import { traceViolations } from "./isolation.ts";
 *
 * const log = '12 openat(AT_FDCWD, "/src/app/x.ts", O_RDONLY) = -1 ENOENT (No such file)';
 * console.log(traceViolations(log, ["/src/app"])); // [the line]
 * ```
 */
export function traceViolations(
  log: string,
  roots: readonly string[],
  options: { privateLoopback?: boolean } = {},
): string[] {
  const violations: string[] = [];
  for (const line of log.split("\n")) {
    // In a network namespace of its own, loopback reaches only the traced
    // processes' own listeners (serve relays its connections to its HTTP
    // server there): not the network.
    const loopback = options.privateLoopback === true &&
      /inet_addr\("127\.\d+\.\d+\.\d+"\)|inet_pton\(AF_INET6, "::1"/.test(line);
    const network = /\b(connect|sendto|sendmsg)\(/.test(line) &&
      /sa_family=AF_INET6?\b/.test(line) && !loopback;
    const paths = [...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((match) => match[1]);
    if (network || paths.some((path) => roots.some((root) => isUnder(path, root)))) {
      violations.push(line);
    }
  }
  return violations;
}
