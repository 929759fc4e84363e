/**
 * At most N model loads at a time, as tritonserver's
 * `--model-load-thread-count` (default 4): loading every model of a large
 * repository at once would start every stub, and every first type check, at
 * the same moment on a few cores.
 *
 * @example
 * ```ts
 * import { LoadLimit } from "./load_limit.ts";
 *
 * const limit = new LoadLimit(2);
 * const loaded = await Promise.all(
 *   ["a", "b", "c"].map((name) => limit.run(() => Promise.resolve(name))),
 * );
 * console.log(loaded); // ["a", "b", "c"]
 * ```
 *
 * @module
 */

/** tritonserver's default `--model-load-thread-count`. */
export const DEFAULT_MODEL_LOAD_THREAD_COUNT = 4;

/** A first-come, first-served limit on concurrent loads. */
export class LoadLimit {
  readonly #slots: number;
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  /** @param slots How many loads may run at once (at least 1). */
  constructor(slots: number) {
    if (!Number.isInteger(slots) || slots < 1) {
      throw new RangeError(`the load limit must be a positive integer, got ${slots}`);
    }
    this.#slots = slots;
  }

  /** Loads running now. */
  get running(): number {
    return this.#running;
  }

  /** Runs `load` once a slot is free; the slot is given back however it ends. */
  async run<T>(load: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#slots) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running++;
    }
    try {
      return await load();
    } finally {
      const next = this.#waiting.shift();
      // The slot passes straight to the next load in line, or is freed.
      if (next !== undefined) next();
      else this.#running--;
    }
  }
}
