/**
 * Knows whether the model has timers pending, so that an idle Worker
 * blocked on its doorbell is woken in time for them: the stub's main thread
 * ticks it after 50 ms while timers are pending and after a second when
 * none are. After that tick the Worker sleeps in its event loop, where
 * timers run on time by themselves, until its next record; so an idle
 * instance costs nothing, which matters with hundreds of models per server.
 *
 * The global timer functions are wrapped once, before any model code runs;
 * the originals are bound then. Timers a model makes some other way
 * (`node:timers`) are not counted: they still run, at most a second late
 * (at the tick).
 *
 * @example
 * ```ts ignore
 * import { trackTimers } from "./timers.ts";
 *
 * const timers = trackTimers();
 * setTimeout(() => {}, 10);
 * console.log(timers.pending()); // 1
 * ```
 *
 * @module
 */

/** What {@linkcode trackTimers} reports. */
export interface TimerTracker {
  /** Timers created through the globals that have not fired or been cleared. */
  pending(): number;
}

let tracker: TimerTracker | undefined;

/**
 * Wraps `setTimeout`, `setInterval`, `clearTimeout` and `clearInterval` of
 * this realm (once; later calls return the same tracker).
 */
export function trackTimers(): TimerTracker {
  if (tracker !== undefined) return tracker;
  type TimerFunction = (...args: unknown[]) => unknown;
  // The globals are typed by both Deno's and Node's declarations; plain
  // functions of unknown values keep this wrapper out of that quarrel.
  const globals = globalThis as unknown as Record<string, TimerFunction>;
  const original = {
    setTimeout: globals.setTimeout.bind(globalThis),
    setInterval: globals.setInterval.bind(globalThis),
    clearTimeout: globals.clearTimeout.bind(globalThis),
    clearInterval: globals.clearInterval.bind(globalThis),
  };
  const active = new Set<unknown>();
  const add = active.add.bind(active);
  const remove = active.delete.bind(active);
  const size = Object.getOwnPropertyDescriptor(Set.prototype, "size")!.get!.bind(active);
  const apply = Reflect.apply;

  globals.setTimeout = function setTimeout(callback: unknown, ...rest: unknown[]): unknown {
    if (typeof callback !== "function") {
      return apply(original.setTimeout, undefined, [callback, ...rest]);
    }
    const id = original.setTimeout((...given: unknown[]) => {
      remove(id);
      return apply(callback, undefined, given);
    }, ...rest);
    add(id);
    return id;
  };
  globals.setInterval = function setInterval(...args: unknown[]): unknown {
    const id = apply(original.setInterval, undefined, args);
    add(id);
    return id;
  };
  globals.clearTimeout = function clearTimeout(id?: unknown): void {
    remove(id);
    original.clearTimeout(id);
  };
  globals.clearInterval = function clearInterval(id?: unknown): void {
    remove(id);
    original.clearInterval(id);
  };
  tracker = { pending: () => size() };
  return tracker;
}
