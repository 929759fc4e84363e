/**
 * Imports the model module and constructs the model object.
 *
 * @example
 * ```ts ignore
 * import { loadModel } from "./load_model.ts";
 *
 * const model = await loadModel("file:///models/add_sub/1/model.ts");
 * ```
 *
 * @module
 */

/** What the runtime calls on a model object (see runtime/api/model.ts). */
export interface LoadedModel {
  /** Optional, called once with the initialize arguments. */
  initialize?: (args: unknown) => unknown;
  /** Required, called per batch. */
  execute: (requests: unknown[]) => unknown;
  /** Optional, called at unload. */
  finalize?: () => unknown;
  /** Optional, asked whether the instance is ready (IS_READY). */
  isReady?: () => unknown;
}

/** The module is not a model; the message says what it must export. */
export class ModelShapeError extends Error {
  /** @param message What is wrong. */
  constructor(message: string) {
    super(message);
    this.name = "ModelShapeError";
  }
}

/**
 * Imports `url`, constructs its default export and checks it has `execute`.
 * An import failure (a syntax error, a missing import) propagates as it is:
 * its message carries `file:line:column`.
 *
 * @param url The module's `file:` URL.
 * @returns The model object.
 * @throws {ModelShapeError} If there is no default-exported class with `execute`.
 */
export async function loadModel(url: string): Promise<LoadedModel> {
  const fileName = decodeURIComponent(new URL(url).pathname.split("/").pop() ?? "model.ts");
  const shapeError = (detail: string) =>
    new ModelShapeError(
      `${fileName} must export default a class with an execute(requests) method (${detail})`,
    );
  const module: Record<string, unknown> = await import(url);
  const ModelClass = module.default;
  if (typeof ModelClass !== "function") {
    throw shapeError(
      ModelClass === undefined
        ? "it has no default export"
        : `its default export is ${typeof ModelClass}`,
    );
  }
  const model: unknown = new (ModelClass as new () => unknown)();
  if (typeof model !== "object" || model === null) {
    throw shapeError("constructing it gave no object");
  }
  const candidate = model as Record<string, unknown>;
  if (typeof candidate.execute !== "function") throw shapeError("it has no execute method");
  for (const optional of ["initialize", "finalize"]) {
    const value = candidate[optional];
    if (value !== undefined && typeof value !== "function") {
      throw shapeError(`its ${optional} is not a method`);
    }
  }
  return model as LoadedModel;
}
