/**
 * The stub's side of the LOG slot (ffi/WIRE_FORMAT.md, "The LOG slot"): one
 * line at a time for Triton's log, written into the control page's
 * `log_text` while `log_busy` is 0, then announced with a `LOG` record. The
 * parent copies the line and clears `log_busy`; it reads the ring only
 * while it waits for the stub (start, a batch, finalize), so lines that
 * cannot go out yet wait in a small queue here and leave with the next
 * {@linkcode LogSlot.flush}. Nothing blocks: a full queue counts what it
 * drops and says so in the next line that goes out, and a consecutive
 * repeat is counted rather than queued again.
 *
 * The parent rate-limits and prefixes every line (model, instance); this
 * queue only keeps the ring and the slot from being the bottleneck.
 *
 * @example
 * ```ts ignore
 * import { LogSlot } from "./log_slot.ts";
 * import { LOG_LEVEL } from "./layout.ts";
 *
 * const slot = new LogSlot(control, (record) => link.toParent.tryPush(record));
 * slot.send(LOG_LEVEL.WARN, 'denied read access to "/etc/passwd"');
 * ```
 *
 * @module
 */

import { CONTROL, MSG } from "./layout.ts";
import type { WireRecord } from "./ring.ts";

/** Lines kept while the slot is busy. */
export const LOG_QUEUE_LIMIT = 32;

interface Line {
  level: number;
  text: string;
  repeats: number;
}

/** The stub's end of the LOG slot. */
export class LogSlot {
  readonly #busy: Int32Array;
  readonly #text: Uint8Array;
  readonly #push: (record: WireRecord) => boolean;
  readonly #queue: Line[] = [];
  readonly #encoder = new TextEncoder();
  #dropped = 0;

  /**
   * @param control The control page (4096 bytes).
   * @param push Publishes a record on `to_parent` without waiting; false if the ring is full.
   */
  constructor(control: ArrayBuffer, push: (record: WireRecord) => boolean) {
    this.#busy = new Int32Array(control, CONTROL.LOG_BUSY, 1);
    this.#text = new Uint8Array(control, CONTROL.LOG_TEXT, CONTROL.LOG_TEXT_CAPACITY);
    this.#push = push;
  }

  /**
   * Queues a line and sends what the slot can take now.
   *
   * @param level A `TRITONSERVER_LogLevel` (`LOG_LEVEL`).
   * @param text The line, without the model and instance (the parent adds them).
   */
  send(level: number, text: string): void {
    const last = this.#queue.at(-1);
    if (last !== undefined && last.level === level && last.text === text) {
      last.repeats++;
    } else if (this.#queue.length >= LOG_QUEUE_LIMIT) {
      this.#dropped++;
    } else {
      this.#queue.push({ level, text, repeats: 0 });
    }
    this.flush();
  }

  /** Lines waiting for the slot. */
  get pending(): number {
    return this.#queue.length;
  }

  /** Sends the oldest queued line if the slot is free. */
  flush(): void {
    const line = this.#queue[0];
    if (line === undefined || Atomics.load(this.#busy, 0) !== 0) return;
    let text = line.text;
    if (line.repeats > 0) text += ` (and ${line.repeats} more time(s))`;
    if (this.#dropped > 0 && this.#queue.length === 1) {
      text += ` [${this.#dropped} more line(s) dropped: the stub's log queue was full]`;
    }
    const { written } = this.#encoder.encodeInto(text, this.#text);
    Atomics.store(this.#busy, 0, 1);
    const pushed = this.#push({
      kind: MSG.LOG,
      flags: 0,
      aux: line.level,
      id: 0n,
      offset: 0,
      length: written,
    });
    if (!pushed) {
      Atomics.store(this.#busy, 0, 0);
      return;
    }
    this.#queue.shift();
    if (this.#queue.length === 0) this.#dropped = 0;
  }
}
