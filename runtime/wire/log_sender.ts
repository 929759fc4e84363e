/**
 * The stub's LOG lines for Triton's log (ffi/WIRE_FORMAT.md, "LOG"): each
 * line's text goes in a block of the stub's half of the arena and a `LOG`
 * record points at it, so any number of lines can be on their way at once.
 * The parent reads the ring only while it waits for the stub (start, a
 * batch, finalize; always, for a decoupled model), so a line that finds the
 * ring full waits in a small queue here and leaves with the next
 * {@linkcode LogSender.flush}; a full queue counts what it drops and says so
 * in the next line that goes out, and a consecutive repeat is counted
 * rather than queued again. Nothing blocks the model.
 *
 * The parent rate-limits and prefixes every line (model, instance).
 *
 * @example
 * ```ts ignore
 * import { LogSender } from "./log_sender.ts";
 * import { LOG_LEVEL } from "./layout.ts";
 *
 * const log = new LogSender(stubArena, link.toParent);
 * log.send(LOG_LEVEL.WARN, 'denied read access to "/etc/passwd"');
 * ```
 *
 * @module
 */

import { MAX_LOG_LENGTH, MSG } from "./layout.ts";
import type { Ring } from "./ring.ts";
import type { StubArena } from "./stub_arena.ts";

/** Lines kept while the ring is full. */
export const LOG_QUEUE_LIMIT = 256;

interface Line {
  level: number;
  text: string;
  repeats: number;
}

/** Where LOG records go: the producer side of `to_parent`. */
export type LogRing = Pick<Ring, "tryPush" | "published">;

/** See the module documentation. */
export class LogSender {
  readonly #arena: StubArena;
  readonly #ring: LogRing;
  readonly #queue: Line[] = [];
  readonly #encoder = new TextEncoder();
  #dropped = 0;

  /**
   * @param arena The stub's half, where the text goes.
   * @param ring The `to_parent` ring.
   */
  constructor(arena: StubArena, ring: LogRing) {
    this.#arena = arena;
    this.#ring = ring;
  }

  /**
   * Sends a line now, or queues it while the ring is full.
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

  /** Lines waiting for room on the ring. */
  get pending(): number {
    return this.#queue.length;
  }

  /** Sends queued lines, oldest first, while the ring has room. */
  flush(): void {
    while (this.#queue.length > 0) {
      const line = this.#queue[0];
      let text = line.text;
      if (line.repeats > 0) text += ` (and ${line.repeats} more time(s))`;
      if (this.#dropped > 0 && this.#queue.length === 1) {
        text += ` [${this.#dropped} more line(s) dropped: the stub's log queue was full]`;
      }
      let bytes = this.#encoder.encode(text);
      if (bytes.byteLength > MAX_LOG_LENGTH) {
        let end = MAX_LOG_LENGTH;
        while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
        bytes = bytes.subarray(0, end);
      }
      const scope = this.#arena.scope();
      const offset = scope.reserveNow(bytes.byteLength);
      if (offset === undefined) {
        // The half is full of work the parent has not taken: try later.
        scope.release();
        return;
      }
      new Uint8Array(this.#arena.arena, offset, bytes.byteLength).set(bytes);
      const pushed = this.#ring.tryPush({
        kind: MSG.LOG,
        flags: 0,
        aux: line.level,
        id: 0n,
        offset,
        length: bytes.byteLength,
      });
      if (!pushed) {
        scope.release();
        return;
      }
      scope.seal(this.#ring.published);
      this.#queue.shift();
      if (this.#queue.length === 0) this.#dropped = 0;
    }
  }
}
