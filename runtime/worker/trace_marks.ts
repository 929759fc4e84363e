/**
 * The Worker's side of the backend's hop tracing (ffi/src/trace.h): when
 * the parent traces (the start message's `trace`), the Worker stamps its
 * own hops (an EXECUTE taken, a BLS call sent, its answer taken and handed
 * to the model, a RESULT about to go) and sends each as a TRACE record
 * (ffi/WIRE_FORMAT.md). Marks are kept until {@linkcode TraceMarks.flush},
 * which the Worker calls right after a record that ends its work (a
 * RESULT), so that tracing adds no wake-up of the parent to the path it
 * measures. Off, a mark is one branch.
 *
 * Clock: `performance.timeOrigin + performance.now()`, which follows
 * CLOCK_REALTIME, the parent's trace clock, within a microsecond or two.
 *
 * @example
 * ```ts
 * import { TraceMarks } from "./trace_marks.ts";
 * import { atomicsWaiter, Ring } from "../wire/ring.ts";
 * import { RING, TRACE_EVENT } from "../wire/layout.ts";
 *
 * const ring = new Ring(new SharedArrayBuffer(RING.SIZE), 0, atomicsWaiter);
 * const marks = new TraceMarks(ring, true);
 * marks.mark(TRACE_EVENT.RESULT_SENT, 7n);
 * marks.flush();
 * console.log(ring.tryPop()?.offset); // 7
 * ```
 *
 * @module
 */

import { MSG } from "../wire/layout.ts";
import type { Ring } from "../wire/ring.ts";

/** Marks kept at most between two flushes; more are dropped. */
const MAX_PENDING = 64;

/** See the module documentation. */
export class TraceMarks {
  readonly #ring: Ring;
  /** Whether the parent traces. */
  readonly enabled: boolean;
  /** This realm's time origin in whole microseconds (exact as a number). */
  readonly #originUs = Math.round(performance.timeOrigin * 1000);
  /** Pending marks: event, realtime ns, batch or call id, flattened. */
  readonly #pending: (number | bigint)[] = [];

  /**
   * @param ring `to_parent` (this thread produces on it).
   * @param enabled Whether the parent traces.
   */
  constructor(ring: Ring, enabled: boolean) {
    this.#ring = ring;
    this.enabled = enabled;
  }

  /** Stamps `event` (a `TRACE_EVENT`) of batch or call `id` now. */
  mark(event: number, id: bigint | number): void {
    if (!this.enabled || this.#pending.length >= MAX_PENDING * 3) return;
    const micros = this.#originUs + performance.now() * 1000;
    const whole = Math.floor(micros);
    const ns = BigInt(whole) * 1000n + BigInt(Math.round((micros - whole) * 1000));
    this.#pending.push(event, ns, id);
  }

  /** Sends the pending marks as TRACE records while the ring has room. */
  flush(): void {
    const pending = this.#pending;
    for (let i = 0; i < pending.length; i += 3) {
      const sent = this.#ring.tryPush({
        kind: MSG.TRACE,
        flags: 0,
        aux: pending[i] as number,
        id: pending[i + 1] as bigint,
        offset: Number(pending[i + 2]),
        length: 0,
      });
      if (!sent) break;
    }
    pending.length = 0;
  }
}
