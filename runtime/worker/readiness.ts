/**
 * The Worker's answers to IS_READY (ffi/WIRE_FORMAT.md, "Readiness"): the
 * model's `isReady()`, called at most once at a time (a probe that comes
 * while one runs is answered by it, with the newest probe id), never from
 * inside other model code (the inbox may be drained inside a model's
 * `isCancelled()`: the call waits for a microtask), and answered with
 * READINESS: aux 0 ready, 1 not, and for 1 a reason in the stub's half. A
 * call that has not settled within {@linkcode IS_READY_TIMEOUT_MS} is
 * answered "not ready" and left behind: the next probe calls again.
 * While a call is pending the event loop is kept busy, so the idle Worker
 * does not block on its doorbell before it settles.
 *
 * @example
 * ```ts ignore
 * const readiness = new ReadinessProbes(model, { stubArena, toParent, setBusy });
 * inbox.on(MSG.IS_READY, (record) => readiness.probe(record.id));
 * ```
 *
 * @module
 */

import { MAX_LOG_LENGTH, MSG } from "../wire/layout.ts";
import type { Ring } from "../wire/ring.ts";
import type { StubArena } from "../wire/stub_arena.ts";
import { describeError } from "./describe_error.ts";
import type { LoadedModel } from "./load_model.ts";

/** What answering needs. */
export interface ReadinessLink {
  /** Where the reason text goes. */
  readonly stubArena: StubArena;
  /** Where READINESS goes. */
  readonly toParent: Ring;
  /** Keeps the event loop turning while a call is pending. */
  setBusy(busy: boolean): void;
}

const encoder = new TextEncoder();

/** How long one `isReady()` call may take (the parent waits as long: TDN_READY_TIMEOUT_NS). */
export const IS_READY_TIMEOUT_MS = 5000;

const TIMED_OUT = Symbol("timed out");

/** See the module documentation. */
export class ReadinessProbes {
  readonly #model: LoadedModel;
  readonly #link: ReadinessLink;
  /** The newest probe id not answered yet (0n: none). */
  #pending = 0n;
  #running = false;

  /**
   * @param model The model (its `isReady`, if any).
   * @param link Where answers go.
   */
  constructor(model: LoadedModel, link: ReadinessLink) {
    this.#model = model;
    this.#link = link;
  }

  /** Whether the model has the hook (READY says so to the parent). */
  get hooked(): boolean {
    return typeof this.#model.isReady === "function";
  }

  /** An IS_READY with probe id `id`. */
  probe(id: bigint): void {
    this.#pending = id;
    if (this.#running) return; // the call in progress answers it
    this.#running = true;
    this.#link.setBusy(true);
    queueMicrotask(() => void this.#ask());
  }

  async #ask(): Promise<void> {
    try {
      while (this.#pending !== 0n) {
        let ready = false;
        let reason: string;
        let timer: ReturnType<typeof setTimeout> | undefined;
        try {
          const answer = await Promise.race([
            Promise.resolve().then(() => this.#model.isReady?.()),
            new Promise<typeof TIMED_OUT>((resolve) => {
              timer = setTimeout(() => resolve(TIMED_OUT), IS_READY_TIMEOUT_MS);
            }),
          ]);
          ready = answer === true;
          reason = answer === TIMED_OUT
            ? `isReady() did not settle within ${IS_READY_TIMEOUT_MS} ms`
            : answer === false
            ? ""
            : `isReady() must return true or false; it returned ${describe(answer)}`;
        } catch (error) {
          reason = `isReady() threw: ${describeError(error).message}`;
        } finally {
          clearTimeout(timer);
        }
        const id = this.#pending;
        this.#pending = 0n;
        this.#answer(id, ready, ready ? "" : reason);
      }
    } finally {
      this.#running = false;
      this.#link.setBusy(false);
    }
  }

  #answer(id: bigint, ready: boolean, reason: string): void {
    const scope = this.#link.stubArena.scope();
    let offset = 0;
    let length = 0;
    if (reason !== "") {
      const bytes = truncate(encoder.encode(reason), MAX_LOG_LENGTH);
      offset = scope.reserve(bytes.byteLength);
      new Uint8Array(scope.arena, offset, bytes.byteLength).set(bytes);
      length = bytes.byteLength;
    }
    this.#link.toParent.push({
      kind: MSG.READINESS,
      flags: 0,
      aux: ready ? 0 : 1,
      id,
      offset,
      length,
    });
    scope.seal(this.#link.toParent.published);
  }
}

function describe(value: unknown): string {
  if (value === undefined || value === null) return String(value);
  return typeof value === "object" ? "an object" : `${typeof value} ${String(value)}`;
}

/** Cuts UTF-8 bytes to at most `max` without splitting a character. */
function truncate(bytes: Uint8Array, max: number): Uint8Array {
  if (bytes.byteLength <= max) return bytes;
  let end = max;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}
