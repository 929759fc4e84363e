/**
 * Sending responses one at a time. In a decoupled model (config.pbtxt
 * `model_transaction_policy { decoupled: true }`) a request may get any
 * number of responses, the last one flagged final, at any time until then,
 * even after `execute` has returned. In a model that is not decoupled the
 * sender carries exactly one response and the final flag (python_backend
 * allows the same), instead of `execute` returning it.
 *
 * @module
 */

import type { CheckedResponse } from "./check_response.ts";
import { describeValue } from "./describe.ts";
import { ErrorCode, TritonError } from "./error.ts";
import { type InferenceResponse, snapshotResponse } from "./response.ts";

/**
 * Delivers one response (or, with `response` undefined, only the final
 * flag) for the request at `requestIndex` of its batch. `checked` is the
 * checker's verdict when a checker is set. Throwing fails the `send` call
 * that caused it, which the model sees; the sender's state is unchanged.
 *
 * @internal Implemented by the Worker runtime.
 */
export type ResponseTransport = (
  requestIndex: number,
  response: InferenceResponse | undefined,
  final: boolean,
  checked: CheckedResponse | undefined,
) => void;

/**
 * Checks a response against the model's configuration (the runtime binds
 * `checkResponse` to its config and the request's requested outputs).
 *
 * @internal Supplied by the Worker runtime.
 */
export type ResponseChecker = (response: InferenceResponse) => CheckedResponse;

/**
 * Everything a {@linkcode ResponseSender} is built from.
 *
 * @internal Built by the Worker runtime.
 */
export interface ResponseSenderInit {
  /** The request's id, for messages ("" when it has none). */
  readonly requestId: string;
  /** The request's index in its batch, passed to the transport. */
  readonly requestIndex: number;
  /** Where responses go. */
  readonly transport: ResponseTransport;
  /** Reads the request's cancellation flag (shared memory; no round trip). */
  readonly isCancelled: () => boolean;
  /** If given, every response is checked before it is sent. */
  readonly checker?: ResponseChecker;
  /**
   * Whether the server ended the request itself (it was cancelled and not
   * closed in time, or its stream was silent past its limit): the sender is
   * then closed. Never, when omitted.
   */
  readonly endedByServer?: () => boolean;
  /**
   * A model that is not decoupled: exactly one response, then the final
   * flag (with it, or by `close()`).
   */
  readonly single?: boolean;
  /**
   * Why nothing can be sent any more although the sender is open (the
   * request was rescheduled, its batch failed), or undefined. Asked before
   * every send.
   */
  readonly refusal?: () => string | undefined;
}

/**
 * Options of {@linkcode ResponseSender.send}.
 *
 * @example
 * ```ts
 * import type { SendOptions } from "@triton/deno";
 *
 * const last: SendOptions = { final: true };
 * console.log(last.final); // true
 * ```
 */
export interface SendOptions {
  /** Whether this is the request's last response (Triton's `TRITONSERVER_RESPONSE_COMPLETE_FINAL`). */
  readonly final?: boolean;
}

/**
 * Sends the responses of one request; get it with `request.responseSender()`.
 * In a decoupled model every response but the last is sent with
 * `send(response)`; the last with `send(response, { final: true })`, or
 * `close()` when there is nothing more to send. In a model that is not
 * decoupled the request gets exactly one response: `send(response, { final:
 * true })` (or `send(response)` then `close()`), from `execute` or after it
 * returned; `execute` then returns `undefined` in that request's place.
 *
 * @example Stream three responses, then close
 * ```ts
 * import { type InferenceRequest, type Model, Tensor, InferenceResponse } from "@triton/deno";
 *
 * export default class Counter implements Model {
 *   execute(requests: InferenceRequest[]): undefined {
 *     for (const request of requests) {
 *       const sender = request.responseSender();
 *       for (let i = 0; i < 3 && !sender.isCancelled(); i++) {
 *         sender.send(new InferenceResponse([new Tensor("OUT", "INT32", [1], [i])]));
 *       }
 *       sender.close();
 *     }
 *   }
 * }
 * ```
 */
export class ResponseSender {
  readonly #init: ResponseSenderInit;
  #closed = false;
  #responses = 0;

  /** @internal Senders come from `request.responseSender()`. */
  constructor(init: ResponseSenderInit) {
    this.#init = init;
    Object.freeze(this);
  }

  /**
   * Whether nothing more can be sent: the final response (or `close()`) was
   * sent, or the server ended the request (it was cancelled and not closed
   * in time, or it went without a response past
   * `deno.stream_idle_timeout_ms`).
   */
  get closed(): boolean {
    return this.#closed || this.#endedByServer();
  }

  /**
   * Sends one response, or only the final flag when `response` is omitted
   * and `final` is true.
   *
   * @param response The response, checked against config.pbtxt like the ones
   * `execute` returns (a response carrying an error is sent as that error).
   * @param options `{ final: true }` for the last response.
   * @throws {TritonError} `CANCELLED` naming the request if the server
   * ended it; `INVALID_ARG` naming the request if the sender is
   * closed, `response` is not an `InferenceResponse`, there is neither a
   * response nor `final: true`, or the options are malformed; the checker's
   * code and message if the response does not fit the configuration; the
   * runtime's error if the response cannot be delivered. After a throw
   * nothing was sent and the sender's state is unchanged.
   */
  send(response?: InferenceResponse, options?: SendOptions): void {
    const final = readFinal(options, this.#owner());
    if (this.#endedByServer()) {
      throw new TritonError(
        `${this.#owner()}: the server ended this request (it was cancelled and not closed in ` +
          "time, or it went without a response longer than deno.stream_idle_timeout_ms); " +
          "no more responses can be sent",
        ErrorCode.CANCELLED,
      );
    }
    if (this.#closed) {
      throw new TritonError(
        `${this.#owner()}: the response sender is closed (a final response was sent); ` +
          "no more responses can be sent",
        ErrorCode.INVALID_ARG,
      );
    }
    const refusal = this.#init.refusal?.();
    if (refusal !== undefined) {
      throw new TritonError(`${this.#owner()}: ${refusal}`, ErrorCode.INVALID_ARG);
    }
    if (this.#init.single === true) {
      if (response !== undefined && this.#responses > 0) {
        throw new TritonError(
          `${this.#owner()} already has its response: a model that is not decoupled sends ` +
            "exactly one response per request (then the final flag, or close())",
          ErrorCode.INVALID_ARG,
        );
      }
      if (response === undefined && this.#responses === 0) {
        throw new TritonError(
          `${this.#owner()}: a model that is not decoupled must send the request's one ` +
            "response before the final flag (send(response, { final: true }))",
          ErrorCode.INVALID_ARG,
        );
      }
    }
    let checked: CheckedResponse | undefined;
    if (response === undefined) {
      if (!final) {
        throw new TritonError(
          `${this.#owner()}: send() needs a response unless it is { final: true }`,
          ErrorCode.INVALID_ARG,
        );
      }
    } else {
      const snapshot = snapshotResponse(response);
      if (snapshot === undefined) {
        throw new TritonError(
          `${this.#owner()}: send() takes an InferenceResponse, got ${describeValue(response)}`,
          ErrorCode.INVALID_ARG,
        );
      }
      const checker = this.#init.checker;
      if (checker !== undefined) {
        checked = checker(response);
        // A response carrying an error is sent as that error; anything else
        // that fails the check is the model's mistake, reported here.
        if (!checked.ok && snapshot.error === undefined) {
          throw new TritonError(`${this.#owner()}: ${checked.message}`, checked.code);
        }
      }
    }
    this.#init.transport(this.#init.requestIndex, response, final, checked);
    if (response !== undefined) this.#responses++;
    if (final) this.#closed = true;
  }

  /** How many responses went out through this sender (the final flag alone is not one). */
  get responseCount(): number {
    return this.#responses;
  }

  /**
   * Sends the final flag without a response: the request is complete.
   *
   * @throws {TritonError} `INVALID_ARG` if the sender is already closed.
   */
  close(): void {
    this.send(undefined, { final: true });
  }

  /**
   * Whether the client cancelled the request (a read of shared memory, no
   * round trip). A model should stop producing responses and `close()`.
   */
  isCancelled(): boolean {
    return this.#init.isCancelled() === true;
  }

  #endedByServer(): boolean {
    return this.#init.endedByServer?.() === true;
  }

  #owner(): string {
    const id = this.#init.requestId;
    return id === ""
      ? `request ${this.#init.requestIndex} of the batch (no id)`
      : `request '${id}'`;
  }
}

function readFinal(options: unknown, owner: string): boolean {
  if (options === undefined) return false;
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new TritonError(
      `${owner}: send() options must be { final?: boolean }, got ${describeValue(options)}`,
      ErrorCode.INVALID_ARG,
    );
  }
  for (const key of Object.keys(options)) {
    if (key !== "final") {
      throw new TritonError(
        `${owner}: send() options may only have 'final', got '${key}'`,
        ErrorCode.INVALID_ARG,
      );
    }
  }
  const final: unknown = (options as { final?: unknown }).final;
  if (final !== undefined && typeof final !== "boolean") {
    throw new TritonError(
      `${owner}: send() option 'final' must be a boolean, got ${describeValue(final)}`,
      ErrorCode.INVALID_ARG,
    );
  }
  return final === true;
}
