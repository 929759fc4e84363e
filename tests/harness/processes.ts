/**
 * What the tests observe of the stub processes and of /dev/shm, from /proc:
 * the stubs this process started for a model, their memory, and the shared
 * memory objects left behind.
 *
 * @example
 * ```ts ignore
 * import { findStubPids, memoryOf } from "./processes.ts";
 *
 * for (const pid of findStubPids("/models/add_sub")) console.log(memoryOf(pid));
 * ```
 *
 * @module
 */

/** The marker every stub's command line holds (its entry point). */
const STUB_ENTRY = "runtime/stub/main.ts";

/** The parent pid of a process, or null if it is gone. */
export function parentPidOf(pid: number): number | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // The command name is in parentheses and may itself hold spaces or ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[1]);
  } catch {
    return null;
  }
}

/** A process's command line arguments, or null if it is gone. */
export function commandLineOf(pid: number): string[] | null {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0").filter((arg) => arg !== "");
  } catch {
    return null;
  }
}

/**
 * Whether a process has fully exited: gone, or a zombie whose threads have
 * all ended. A killed multi-threaded process shows its leader as a zombie
 * while other threads are still being torn down, and until they are, its
 * parent's waitid() does not report the exit yet.
 */
export function isGone(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    if (!stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) return false;
    return Array.from(Deno.readDirSync(`/proc/${pid}/task`)).length <= 1;
  } catch {
    return true;
  }
}

/**
 * Pids of the live stubs `parent` (default: this process) started whose
 * command line mentions `modelDir` (the stub is allowed to read its model
 * directory, so the path appears in its --allow-read list).
 */
export function findStubPids(modelDir: string, parent: number = Deno.pid): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const pid = Number(entry.name);
    if (parentPidOf(pid) !== parent || isGone(pid)) continue;
    const args = commandLineOf(pid);
    if (args === null) continue;
    const joined = args.join(" ");
    if (joined.includes(STUB_ENTRY) && joined.includes(modelDir)) pids.push(pid);
  }
  return pids.sort((a, b) => a - b);
}

/** Memory of a process in bytes: resident (VmRSS) and proportional (Pss). */
export interface ProcessMemory {
  /** Resident set size. */
  rssBytes: number;
  /** Proportional set size: shared pages divided among their users. */
  pssBytes: number;
}

function kilobytesField(text: string, field: string): number {
  const match = text.match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"));
  if (match === null) throw new Error(`no ${field} field`);
  return Number(match[1]) * 1024;
}

/** Reads VmRSS from /proc/<pid>/status and Pss from /proc/<pid>/smaps_rollup. */
export function memoryOf(pid: number): ProcessMemory {
  return {
    rssBytes: kilobytesField(Deno.readTextFileSync(`/proc/${pid}/status`), "VmRSS"),
    pssBytes: kilobytesField(Deno.readTextFileSync(`/proc/${pid}/smaps_rollup`), "Pss"),
  };
}

/** Names in /dev/shm that start with `prefix`. */
export function listSharedMemory(prefix: string): string[] {
  const names: string[] = [];
  for (const entry of Deno.readDirSync("/dev/shm")) {
    if (entry.name.startsWith(prefix)) names.push(entry.name);
  }
  return names.sort();
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` every 10 ms until it holds or `timeoutMs` passes; returns whether it held. */
export async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (condition()) return true;
    await sleep(10);
  }
  return condition();
}
