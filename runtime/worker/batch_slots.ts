/**
 * What each request of a batch ends with, for a model that is not
 * decoupled: the response `execute` returned in its place, the one response
 * it sent through its response sender (from `execute` or later), or a
 * reschedule (`request.reschedule()`, no response this turn). The batch's
 * RESULT is written once every request has one of them.
 *
 * @example
 * ```ts ignore
 * const slots = new BatchSlots(ids, { reschedulable: false, checker });
 * const requests = wires.map((wire, i) => makeRequest({ ..., createResponseSender: () => slots.sender(i) }));
 * const outcomes = await slots.settle(await model.execute(requests));
 * ```
 *
 * @module
 */

import type { CheckedResponse } from "../api/check_response.ts";
import { ErrorCode, TritonError } from "../api/error.ts";
import { makeResponseSender } from "../api/internal.ts";
import type { InferenceResponse } from "../api/response.ts";
import type { ResponseSender } from "../api/response_sender.ts";

/** One request's end: a response to check, one already checked and sent, an error or a reschedule. */
export type SlotOutcome =
  | { kind: "returned"; response: unknown }
  | { kind: "sent"; checked: CheckedResponse; response: InferenceResponse }
  | { kind: "error"; error: TritonError }
  | { kind: "reschedule" };

interface Slot {
  readonly id: string;
  sender: ResponseSender | undefined;
  sent: { checked: CheckedResponse; response: InferenceResponse } | undefined;
  final: boolean;
  rescheduled: boolean;
  readonly done: PromiseWithResolvers<void>;
}

/** See the module documentation. */
export class BatchSlots {
  readonly #slots: Slot[];
  readonly #checker: (index: number, response: InferenceResponse) => CheckedResponse;
  readonly #reschedulable: boolean;
  readonly #isCancelled: (index: number) => boolean;
  /** Why nothing more may be sent: the batch is over. */
  #over: string | undefined;

  /**
   * @param requestIds The batch's request ids, in order ("" for none).
   * @param options Whether requests may be rescheduled (iterative sequence
   * batching), the response check and the cancellation flag of request `index`.
   */
  constructor(
    requestIds: readonly string[],
    options: {
      reschedulable: boolean;
      checker: (index: number, response: InferenceResponse) => CheckedResponse;
      isCancelled: (index: number) => boolean;
    },
  ) {
    this.#slots = requestIds.map((id) => ({
      id,
      sender: undefined,
      sent: undefined,
      final: false,
      rescheduled: false,
      done: Promise.withResolvers<void>(),
    }));
    this.#checker = options.checker;
    this.#reschedulable = options.reschedulable;
    this.#isCancelled = options.isCancelled;
  }

  /** The response sender of request `index` (one response, then the final flag). */
  sender(index: number): ResponseSender {
    const slot = this.#slots[index];
    slot.sender ??= makeResponseSender({
      requestId: slot.id,
      requestIndex: index,
      single: true,
      isCancelled: () => this.#isCancelled(index),
      checker: (response) => this.#checker(index, response),
      refusal: () => {
        if (slot.rescheduled) return "the request was rescheduled: it gets no response this turn";
        return this.#over;
      },
      transport: (_index, response, final, checked) => {
        if (response !== undefined && checked !== undefined) slot.sent = { checked, response };
        if (final) {
          slot.final = true;
          slot.done.resolve();
        }
      },
    });
    return slot.sender;
  }

  /** Request `index`'s `reschedule()`, or undefined when the model cannot reschedule. */
  rescheduler(index: number): (() => void) | undefined {
    if (!this.#reschedulable) return undefined;
    const slot = this.#slots[index];
    return () => {
      const owner = slot.id === "" ? `request ${index} of the batch` : `request '${slot.id}'`;
      if (this.#over !== undefined) {
        throw new TritonError(
          `${owner} cannot be rescheduled: ${this.#over}`,
          ErrorCode.INVALID_ARG,
        );
      }
      if (slot.sent !== undefined || slot.final) {
        throw new TritonError(
          `${owner} already has its response; it cannot also be rescheduled`,
          ErrorCode.INVALID_ARG,
        );
      }
      slot.rescheduled = true;
    };
  }

  /**
   * Ends the batch: from `execute`'s return value and what the requests'
   * senders carry, each request's outcome; waits for the responses of
   * requests whose sender was taken and that `execute` left without one.
   *
   * @param returned What `execute` returned (or resolved with).
   * @throws {TypeError} If it is neither an array with one entry per request
   * nor `undefined`/`null`: the whole batch fails.
   */
  async settle(returned: unknown): Promise<SlotOutcome[]> {
    try {
      const count = this.#slots.length;
      let entries: readonly unknown[];
      if (returned === undefined || returned === null) {
        entries = new Array(count).fill(undefined);
      } else if (!Array.isArray(returned)) {
        throw new TypeError(
          "execute() must return an array with one response per request (undefined in the " +
            "place of a request answered through its response sender or rescheduled); it " +
            `returned ${typeof returned}`,
        );
      } else if (returned.length !== count) {
        throw new TypeError(
          `execute() must return one response per request: it returned ${returned.length} for ${count} request(s)`,
        );
      } else {
        entries = returned;
      }
      return await Promise.all(entries.map((entry, i) => this.#outcome(i, entry)));
    } finally {
      this.#over = "its batch is over";
    }
  }

  /** Ends the batch without outcomes (`execute` threw): later sends are refused. */
  abandon(): void {
    this.#over = "its batch failed (execute threw)";
  }

  async #outcome(index: number, entry: unknown): Promise<SlotOutcome> {
    const slot = this.#slots[index];
    const owner = slot.id === "" ? `request ${index} of the batch` : `request '${slot.id}'`;
    const error = (message: string): SlotOutcome => ({
      kind: "error",
      error: new TritonError(`${owner}: ${message}`, ErrorCode.INVALID_ARG),
    });
    if (entry !== undefined && entry !== null) {
      if (slot.rescheduled) {
        return error("it was rescheduled, and execute also returned a response for it");
      }
      if (slot.sent !== undefined) {
        return error(
          "it got a response through its response sender, and execute also returned one",
        );
      }
      return { kind: "returned", response: entry };
    }
    if (slot.rescheduled) return { kind: "reschedule" };
    if (slot.sender === undefined) {
      return error(
        "execute returned no response for it and sent none through its response sender",
      );
    }
    await slot.done.promise;
    return { kind: "sent", checked: slot.sent!.checked, response: slot.sent!.response };
  }
}
