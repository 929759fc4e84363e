/**
 * Which requests Triton has cancelled, as CANCEL records told the Worker.
 * `isCancelled` drains the inbox first (a few shared-memory reads), so a
 * model polling it inside a long `execute` sees a cancellation as soon as
 * the parent forwarded it, with no round trip.
 *
 * A CANCEL flagged CLOSED says more: the parent has ended the request of a
 * decoupled model itself (cancelled and not closed in time, or silent too
 * long). The request counts as cancelled and `onEnded` is told, so that
 * its sender closes and the parent gets its acknowledgement.
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

import { MSG, RECORD_FLAG } from "../wire/layout.ts";
import type { Inbox } from "./inbox.ts";

/** See the module documentation. */
export class Cancellations {
  readonly #inbox: Inbox;
  /** Batch id -> per request: cancelled. Only batches still open. */
  readonly #batches = new Map<bigint, boolean[]>();
  /**
   * CANCELs that came before their batch was opened: the parent sends a
   * cancellation Triton made before Execute right behind the EXECUTE, and
   * the inbox may hand it over first. Batch ids only grow, so only ids
   * above the highest opened can still open.
   */
  readonly #early = new Map<bigint, number[]>();
  #highestOpened = 0n;

  /**
   * @param inbox Where CANCEL records arrive (handled from now on).
   * @param onEnded Told of each request the parent ended itself (CANCEL
   * flagged CLOSED), whether or not its batch is still tracked here.
   */
  constructor(inbox: Inbox, onEnded?: (batchId: bigint, index: number) => void) {
    this.#inbox = inbox;
    inbox.on(MSG.CANCEL, (record) => {
      const flags = this.#batches.get(record.id);
      if (flags === undefined && record.id > this.#highestOpened) {
        const early = this.#early.get(record.id) ?? [];
        early.push(record.aux);
        this.#early.set(record.id, early);
      }
      // A CANCEL for a batch already answered, or an index out of range,
      // changes nothing.
      if (flags !== undefined && record.aux < flags.length) flags[record.aux] = true;
      if ((record.flags & RECORD_FLAG.CLOSED) !== 0) onEnded?.(record.id, record.aux);
    });
  }

  /** Starts tracking a batch of `count` requests. */
  open(batchId: bigint, count: number): void {
    const flags = new Array<boolean>(count).fill(false);
    for (const index of this.#early.get(batchId) ?? []) {
      if (index < count) flags[index] = true;
    }
    this.#early.delete(batchId);
    if (batchId > this.#highestOpened) this.#highestOpened = batchId;
    // Early CANCELs of ids now below the highest opened can never apply.
    for (const id of this.#early.keys()) if (id < this.#highestOpened) this.#early.delete(id);
    this.#batches.set(batchId, flags);
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
