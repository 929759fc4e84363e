/**
 * A one-request queue of responses between the executor that receives a
 * decoupled model's responses and the HTTP handler that streams them out
 * (Server-Sent Events) or collects them.
 *
 * @module
 */

import type { InferResult, ResponseSink } from "./types.ts";

/**
 * A {@linkcode ResponseSink} the producer fills and an async iterable the
 * consumer drains, in order. Responses pushed before the consumer reads are
 * buffered; iteration ends after {@linkcode ResponseChannel.end}.
 *
 * @example
 * ```ts
 * import { ResponseChannel } from "./response_channel.ts";
 *
 * const channel = new ResponseChannel();
 * channel.push({ ok: false, code: 1, message: "boom" });
 * channel.end();
 * for await (const result of channel) console.log(result.ok); // false
 * ```
 */
export class ResponseChannel implements ResponseSink, AsyncIterable<InferResult> {
  #buffer: InferResult[] = [];
  #ended = false;
  #cancelled = false;
  #wake: (() => void) | undefined;
  #cancelListeners: (() => void)[] = [];
  #endListeners: (() => void)[] = [];

  /** Whether the producer ended the channel. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Whether the consumer cancelled. */
  get cancelled(): boolean {
    return this.#cancelled;
  }

  /** Queues one response; ignored after {@linkcode ResponseChannel.end}. */
  push(result: InferResult): void {
    if (this.#ended) return;
    this.#buffer.push(result);
    this.#notify();
  }

  /** Ends the channel: iteration finishes once the buffer is drained. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#notify();
    for (const listener of this.#endListeners.splice(0)) listener();
  }

  /** Runs `listener` when the producer ends the channel (at once if it has). */
  onEnd(listener: () => void): void {
    if (this.#ended) listener();
    else this.#endListeners.push(listener);
  }

  /**
   * The consumer's side: the client went away. Listeners registered with
   * {@linkcode ResponseChannel.onCancel} run once.
   */
  cancel(): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    for (const listener of this.#cancelListeners.splice(0)) listener();
  }

  /** Runs `listener` when the consumer cancels (at once if it already has). */
  onCancel(listener: () => void): void {
    if (this.#cancelled) listener();
    else this.#cancelListeners.push(listener);
  }

  /** The next response, or `undefined` once the channel has ended and is drained. */
  async next(): Promise<InferResult | undefined> {
    while (this.#buffer.length === 0 && !this.#ended) {
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    return this.#buffer.shift();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<InferResult> {
    for (;;) {
      const result = await this.next();
      if (result === undefined) return;
      yield result;
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
