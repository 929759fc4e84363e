/**
 * Model files sent with a load request, written out as a model directory of
 * their own, as Triton does: a fresh temporary directory holding
 * `<model>/<path>` for each file, which replaces the repository's model
 * directory for that load. Nothing half-written stays: a write that fails
 * removes the whole directory.
 *
 * @module
 */

import { join } from "node:path";
import { checkFilePath, FILE_PREFIX, type ModelFile } from "./repository_control.ts";

/** A model directory made of uploaded files. */
export interface ModelFilesDirectory {
  /** The temporary directory holding it (remove it with {@linkcode removeModelFiles}). */
  readonly root: string;
  /** The model's directory: `<root>/<model>`. */
  readonly directory: string;
}

/**
 * Writes the files into a new temporary directory (`0700` directories,
 * `0600` files, none replacing another).
 *
 * @param model The model's name (the directory's name, as Triton requires).
 * @param files The files, their paths already checked by the load rules
 * (checked again here: nothing may land outside the directory).
 * @param parent Where to make the temporary directory (default: the
 * system's temporary directory).
 * @throws {Error} If a file cannot be written; the directory is gone then.
 *
 * @example
 * ```ts
 * import { removeModelFiles, writeModelFiles } from "./model_files.ts";
 *
 * const made = await writeModelFiles("m", [
 *   { path: "1/model.ts", bytes: new TextEncoder().encode("export default {};") },
 * ]);
 * console.log(Deno.readTextFileSync(`${made.directory}/1/model.ts`));
 * await removeModelFiles(made.root);
 * ```
 */
export async function writeModelFiles(
  model: string,
  files: readonly ModelFile[],
  parent?: string,
): Promise<ModelFilesDirectory> {
  if (model === "" || model.includes("/") || model === "." || model === "..") {
    throw new Error(`'${model}' cannot name a model directory`);
  }
  const root = await Deno.makeTempDir({ prefix: "serve_model_files_", dir: parent });
  const directory = join(root, model);
  try {
    await Deno.mkdir(directory, { mode: 0o700 });
    for (const file of files) {
      const path = checkFilePath(`${FILE_PREFIX}${file.path}`);
      const parts = path.split("/");
      if (parts.length > 1) {
        await Deno.mkdir(join(directory, ...parts.slice(0, -1)), {
          recursive: true,
          mode: 0o700,
        });
      }
      await Deno.writeFile(join(directory, ...parts), file.bytes, { createNew: true, mode: 0o600 });
    }
  } catch (error) {
    await removeModelFiles(root);
    throw error;
  }
  return { root, directory };
}

/** Removes a directory made by {@linkcode writeModelFiles}; never throws. */
export async function removeModelFiles(root: string | undefined): Promise<void> {
  if (root === undefined) return;
  await Deno.remove(root, { recursive: true }).catch(() => {});
}
