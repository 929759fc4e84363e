/**
 * `deno task serve --watch`: reloads a model when a file in its directory
 * changes. The reload is the repository API's load: the new version's
 * instances start, and only once they are ready do the old ones drain and
 * unload; a version that fails to load (a syntax or type error, with its
 * `file:line`, a failing `initialize`) is reported and the previous one
 * keeps serving. A model directory that appears is loaded; one that
 * disappears is unloaded. Changes are gathered for a short while before a
 * reload, so an editor's burst of writes reloads once.
 *
 * @example
 * ```ts ignore
 * const watcher = watchRepository("models", manager, (line) => console.error(line));
 * // ... later
 * watcher.close();
 * ```
 *
 * @module
 */

import { relative, sep } from "node:path";

/** What the watcher reloads through (the model manager). */
export interface WatchedModels {
  /** Loads or reloads a model; rejects with the reason it failed. */
  load(name: string): Promise<void>;
  /** Unloads a model. */
  unload(name: string): Promise<void>;
  /** The READY versions of a model (to say what keeps serving). */
  readyVersions(name: string): number[];
}

/** A running watcher. */
export interface RepositoryWatcher {
  /** Stops watching; reloads already started finish. */
  close(): void;
}

/** Files whose changes mean nothing: editors' backups and swap files, dotfiles. */
const IGNORED = /(^\.|~$|\.sw[a-p]$|^4913$|\.tmp$)/;

/**
 * Watches `repository` and reloads the models whose files change.
 *
 * @param repository The model repository.
 * @param models Where reloads go.
 * @param log One line per event.
 * @param options `only`: watch these models alone (`--model`); `settleMs`:
 * how long changes are gathered before a reload (default 300).
 */
export function watchRepository(
  repository: string,
  models: WatchedModels,
  log: (line: string) => void,
  options: { only?: readonly string[]; settleMs?: number } = {},
): RepositoryWatcher {
  const watcher = Deno.watchFs(repository, { recursive: true });
  const pending = new Map<string, { timer: ReturnType<typeof setTimeout>; files: Set<string> }>();
  const settleMs = options.settleMs ?? 300;
  let closed = false;

  const changed = (path: string): void => {
    const parts = relative(repository, path).split(sep);
    const name = parts[0];
    if (name === undefined || name === "" || name === ".." || IGNORED.test(name)) return;
    if (parts.some((part) => IGNORED.test(part))) return;
    if (options.only !== undefined && options.only.length > 0 && !options.only.includes(name)) {
      return;
    }
    const entry = pending.get(name);
    if (entry !== undefined) clearTimeout(entry.timer);
    const files = entry?.files ?? new Set<string>();
    if (parts.length > 1) files.add(parts.slice(1).join("/"));
    pending.set(name, {
      files,
      timer: setTimeout(() => {
        pending.delete(name);
        if (!closed) void reload(name, [...files]);
      }, settleMs),
    });
  };

  const reload = async (name: string, changedFiles: string[]): Promise<void> => {
    // Editors write through temporary files: name the ones that are still there.
    const files = changedFiles.filter((file) => exists(`${repository}/${name}/${file}`));
    const what = files.length === 0
      ? ""
      : ` (${files.slice(0, 3).join(", ")}${files.length > 3 ? ", ..." : ""})`;
    let present = false;
    try {
      present = Deno.statSync(`${repository}/${name}/config.pbtxt`).isFile;
    } catch {
      present = false;
    }
    if (!present) {
      if (models.readyVersions(name).length === 0) return;
      log(`model ${name}: its directory or config.pbtxt is gone; unloading`);
      await models.unload(name).catch((error) =>
        log(`model ${name}: unload failed: ${messageOf(error)}`)
      );
      return;
    }
    log(`model ${name} changed${what}; reloading`);
    const before = models.readyVersions(name);
    try {
      await models.load(name);
      log(`model ${name} reloaded: version ${models.readyVersions(name).join(",")} serving`);
    } catch (error) {
      const serving = models.readyVersions(name);
      const kept = serving.length > 0 && before.length > 0
        ? `; version ${serving.join(",")} keeps serving`
        : "";
      log(`model ${name} failed to load${kept}:\n${messageOf(error)}`);
    }
  };

  (async () => {
    try {
      for await (const event of watcher) {
        if (event.kind === "access") continue;
        for (const path of event.paths) changed(path);
      }
    } catch (error) {
      if (!closed) log(`watching ${repository} stopped: ${messageOf(error)}`);
    }
  })();

  return {
    close() {
      closed = true;
      for (const { timer } of pending.values()) clearTimeout(timer);
      pending.clear();
      watcher.close();
    },
  };
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
