/**
 * Lets the event loop turn once: timers that are due, Worker events and I/O
 * callbacks run before the returned promise settles. A message to oneself
 * on a MessageChannel costs ~5 us; `setTimeout(0)` costs ~2 ms in Deno (the
 * timer is clamped), too slow for a thread that yields between short sleeps.
 *
 * The channel is made once, when this module loads: in the model's Worker
 * that is before any model code runs, and its methods are bound then, so a
 * model that replaces `MessagePort.prototype.postMessage` cannot stop the
 * runtime from yielding.
 *
 * @example
 * ```ts
 * import { yieldToEventLoop } from "./macrotask.ts";
 *
 * let fired = false;
 * setTimeout(() => (fired = true), 0);
 * const until = performance.now() + 2;
 * while (performance.now() < until) {} // the timer is due but cannot run
 * await yieldToEventLoop();
 * console.log(fired); // true
 * ```
 *
 * @module
 */

const { port1: receiver, port2: sender } = new MessageChannel();
const post = sender.postMessage.bind(sender);
const waiting: (() => void)[] = [];
receiver.onmessage = () => waiting.shift()?.();

/**
 * Resolves after the event loop has turned once.
 *
 * @returns A promise that settles from a macrotask.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    post(null);
  });
}
