/**
 * The streams a server has open (responses of decoupled models on their way
 * to clients), so that shutdown can wait for them for a bounded time and
 * then cancel the rest, as tritonserver's `--exit-timeout-secs` bounds its
 * own shutdown.
 *
 * @example
 * ```ts
 * import { OpenStreams, drainWithin } from "./open_streams.ts";
 * import { ResponseChannel } from "./response_channel.ts";
 *
 * const streams = new OpenStreams();
 * const channel = new ResponseChannel();
 * streams.track(channel);
 * channel.onCancel(() => channel.end());
 * const drained = await drainWithin(new Promise(() => {}), streams, {
 *   timeoutMs: 10,
 *   graceMs: 10,
 *   log: () => {},
 * });
 * console.log(drained, channel.cancelled, streams.size); // false true 0
 * ```
 *
 * @module
 */

import type { ResponseChannel } from "./response_channel.ts";

/** The channels not yet ended. */
export class OpenStreams {
  readonly #channels = new Set<ResponseChannel>();

  /** Follows `channel` until its producer ends it. */
  track(channel: ResponseChannel): void {
    this.#channels.add(channel);
    channel.onEnd(() => this.#channels.delete(channel));
  }

  /** How many are open. */
  get size(): number {
    return this.#channels.size;
  }

  /** Cancels every open stream, as if each client had gone; returns how many. */
  cancelAll(): number {
    const open = [...this.#channels];
    for (const channel of open) channel.cancel();
    return open.length;
  }
}

/** How {@linkcode drainWithin} waits. */
export interface DrainTiming {
  /** How long in-flight requests may take to finish on their own. */
  timeoutMs: number;
  /** After cancelling the open streams, how long they may take to end. */
  graceMs: number;
  /** Where the decisions are logged. */
  log: (line: string) => void;
}

/** Resolves true if `done` settles within `ms`, else false. */
async function settlesWithin(done: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), ms));
  try {
    return await Promise.race([done.then(() => true, () => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Waits for `drained` (the HTTP server's graceful shutdown: every in-flight
 * request answered) at most `timeoutMs`; then cancels the open streams (each
 * model sees its request cancelled; the backend ends the ones a model
 * ignores within 5 s) and waits at most `graceMs` more.
 *
 * @returns Whether everything finished; false: the caller stops anyway.
 */
export async function drainWithin(
  drained: Promise<unknown>,
  streams: OpenStreams,
  timing: DrainTiming,
): Promise<boolean> {
  if (await settlesWithin(drained, timing.timeoutMs)) return true;
  const cancelled = streams.cancelAll();
  timing.log(
    `requests still in flight after ${timing.timeoutMs / 1000} s; cancelled ${cancelled} ` +
      "open stream(s)",
  );
  if (await settlesWithin(drained, timing.graceMs)) return true;
  timing.log(`requests still in flight ${timing.graceMs / 1000} s later; stopping anyway`);
  return false;
}
