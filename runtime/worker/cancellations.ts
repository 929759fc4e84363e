/**
 * Which requests Triton has cancelled, as CANCEL records told the Worker.
 * `isCancelled` drains the inbox first (a few shared-memory reads), so a
 * model polling it inside a long `execute` sees a cancellation as soon as
 * the parent forwarded it, with no round trip.
 *
 * @example
 * ```ts ignore
 * const cancellations = new Cancellations(inbox);
 * cancellations.open(batchId, requests.length);
 * if (cancellations.isCancelled(batchId, 0)) return;
 * cancellations.forget(batchId);
 * ```
 *
 * @module
 */

import { MSG } from "../wire/layout.ts";
import type { Inbox } from "./inbox.ts";

/** See the module documentation. */
export class Cancellations {
  readonly #inbox: Inbox;
  /** Batch id -> per request: cancelled. Only batches still open. */
  readonly #batches = new Map<bigint, boolean[]>();

  /** @param inbox Where CANCEL records arrive (handled from now on). */
  constructor(inbox: Inbox) {
    this.#inbox = inbox;
    inbox.on(MSG.CANCEL, (record) => {
      const flags = this.#batches.get(record.id);
      // A CANCEL for a batch already answered, or an index out of range,
      // changes nothing.
      if (flags !== undefined && record.aux < flags.length) flags[record.aux] = true;
    });
  }

  /** Starts tracking a batch of `count` requests. */
  open(batchId: bigint, count: number): void {
    this.#batches.set(batchId, new Array<boolean>(count).fill(false));
  }

  /** Stops tracking a batch (all its requests are answered). */
  forget(batchId: bigint): void {
    this.#batches.delete(batchId);
  }

  /** True once Triton cancelled request `index` of the batch. */
  isCancelled(batchId: bigint, index: number): boolean {
    this.#inbox.drain();
    return this.#batches.get(batchId)?.[index] ?? false;
  }
}
