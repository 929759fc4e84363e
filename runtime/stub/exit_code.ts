/**
 * How the stub process ends: the parent (libtriton_deno.so) restarts a
 * stub that exits with anything but 0 after FINALIZED.
 *
 * @example
 * ```ts ignore
 * import { EXIT_FAILURE } from "./exit_code.ts";
 *
 * Deno.exit(EXIT_FAILURE);
 * ```
 *
 * @module
 */

/** Exit code of a stub that must be restarted. */
export const EXIT_FAILURE = 1;
