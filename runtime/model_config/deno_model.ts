/**
 * The one rule of which configurations are Deno models, and the words in
 * which a place that applies it refuses one (docs/deno_models.md): a
 * configuration is a Deno model when it names `backend: "deno"`. The model
 * API (ffi/src/bls_control.c, in C, with the same words) and serve's model
 * files (runtime/serve/repository_control.ts) accept only those without a
 * platform; serve's stand-in core (runtime/serve/repository.ts) accepts
 * ensembles too.
 *
 * @example
 * ```ts
 * import { isDenoModel, refusedModelText } from "./deno_model.ts";
 *
 * const config = { backend: "python", platform: "" };
 * if (!isDenoModel(config)) {
 *   console.log(refusedModelText("m", config, "serve accepts only Deno models"));
 *   // model 'm' is refused: its configuration names backend 'python'; serve accepts only Deno models
 * }
 * ```
 *
 * @module
 */

/** The backend name that makes a configuration a Deno model. */
export const DENO_BACKEND = "deno";

/** The fields that decide (as in `ModelConfig`: "" when unset). */
export interface BackendFields {
  /** `backend`. */
  readonly backend: string;
  /** `platform`. */
  readonly platform: string;
}

/**
 * Whether Triton hands the configuration to this backend.
 *
 * @param config The configuration's `backend` and `platform`.
 */
export function isDenoModel(config: BackendFields): boolean {
  return config.backend === DENO_BACKEND;
}

/**
 * What a configuration names instead: `backend 'x'`, `platform 'y'` or `no backend`.
 *
 * @param config The configuration's `backend` and `platform`.
 */
export function namedInstead(config: BackendFields): string {
  if (config.backend !== "" && config.backend !== DENO_BACKEND) {
    return `backend '${config.backend}'`;
  }
  if (config.platform !== "") return `platform '${config.platform}'`;
  return "no backend";
}

/**
 * The refusal: `model '<name>' is refused: its configuration names <what>; <accepts>`.
 *
 * @param name The model's name.
 * @param config The configuration's `backend` and `platform`.
 * @param accepts What the refusing place accepts, in its words.
 */
export function refusedModelText(name: string, config: BackendFields, accepts: string): string {
  return `model '${name}' is refused: its configuration names ${namedInstead(config)}; ${accepts}`;
}
