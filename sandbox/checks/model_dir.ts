/**
 * Checks a model's directory before its code is allowed to read it.
 *
 * Deno's read permission is granted on paths, not on what they resolve to: a
 * symbolic link inside an allowed directory that points outside it is
 * readable through the link (even with `--deny-read` on the target). So the
 * whole tree is walked once at load and any link whose target resolves
 * outside the directory (or does not resolve at all: it could be made to
 * point anywhere later) is refused. Device files, sockets and FIFOs are
 * refused too: a model has no business with them, and opening a FIFO or a
 * device can block or reach hardware. Two more ways lead outside without a
 * symbolic link: a hard link (a second name of a file that may also live
 * outside; refused when a regular file has more than one link), and a file
 * system mounted inside the directory (a bind mount of `/`, say; refused
 * when an entry's device differs from the directory's).
 *
 * Links are not followed during the walk (a link to a directory inside the
 * tree is walked where it really is).
 *
 * @example
 * ```ts ignore
 * import { checkModelDirectory } from "./model_dir.ts";
 *
 * await checkModelDirectory("/models/add_sub");
 * ```
 *
 * @module
 */

/** The model directory holds something a sandboxed model must not have. */
export class ModelDirectoryError extends Error {
  /** @param message Names the offending entry. */
  constructor(message: string) {
    super(message);
    this.name = "ModelDirectoryError";
  }
}

/**
 * Walks `directory` and throws on the first entry a model must not have.
 *
 * Deno's permissions compare paths as written (a directory allowed through
 * a symbolic link is not allowed under its real path), so the caller keeps
 * using `directory` as given; only link targets are compared by real path.
 *
 * @param directory The model's directory (absolute).
 * @throws {ModelDirectoryError} Naming the link and its target, or the
 * special file, or saying the directory is missing.
 */
export async function checkModelDirectory(directory: string): Promise<void> {
  if (!directory.startsWith("/")) {
    throw new ModelDirectoryError(`model directory ${directory} is not an absolute path`);
  }
  let realRoot: string;
  try {
    realRoot = await Deno.realPath(directory);
    if (!(await Deno.stat(realRoot)).isDirectory) throw new Error("not a directory");
  } catch (error) {
    throw new ModelDirectoryError(
      `model directory ${directory} is not a readable directory: ${messageOf(error)}`,
    );
  }
  const device = (await Deno.stat(realRoot)).dev;
  await walk(realRoot, device, directory.replace(/\/+$/, "") || "/");
}

/** Walks `directory` (a path as given); `root` is the tree's real path, `device` its device. */
async function walk(root: string, device: number, directory: string): Promise<void> {
  for await (const entry of Deno.readDir(directory)) {
    const path = `${directory}/${entry.name}`;
    const info = await Deno.lstat(path);
    if (info.isSymlink) {
      await checkLink(root, path);
      continue;
    }
    if (info.dev !== device) {
      throw new ModelDirectoryError(
        `${path} is on another file system than the model directory (a mount point); ` +
          "whatever is mounted there would be readable without permission",
      );
    }
    if (info.isDirectory) {
      await walk(root, device, path);
    } else if (info.isFile && (info.nlink ?? 1) > 1) {
      throw new ModelDirectoryError(
        `${path} has ${info.nlink} hard links; the other names may be outside the model ` +
          "directory, so a model directory may hold only files with a single link: copy it in",
      );
    } else if (!info.isFile) {
      throw new ModelDirectoryError(
        `${path} is a ${specialKind(info)}; a model directory may hold only ` +
          `regular files, directories and links within it`,
      );
    }
  }
}

async function checkLink(root: string, link: string): Promise<void> {
  let target: string;
  try {
    target = await Deno.realPath(link);
  } catch {
    const raw = await Deno.readLink(link).catch(() => "?");
    throw new ModelDirectoryError(
      `symbolic link ${link} -> ${raw} does not resolve; links in a model ` +
        `directory must point at files inside it`,
    );
  }
  if (!isInside(root, target)) {
    throw new ModelDirectoryError(
      `symbolic link ${link} points outside the model directory ${root} (to ${target}); ` +
        `the model would read it without permission: copy the file in instead`,
    );
  }
}

/** True when `path` is `root` or below it (both real, absolute paths). */
function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(root === "/" ? "/" : `${root}/`);
}

function specialKind(info: Deno.FileInfo): string {
  if (info.isBlockDevice) return "block device";
  if (info.isCharDevice) return "character device";
  if (info.isFifo) return "FIFO";
  if (info.isSocket) return "socket";
  return "special file";
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
