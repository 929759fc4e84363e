/**
 * The Worker's end of BLS and model control (the API's `BlsTransport`,
 * runtime/api/bls.ts): a call to another model becomes a BLS_REQUEST on
 * `to_parent` (runtime/wire/bls_request_writer.ts), its answers come back
 * as BLS_RESPONSE records on `to_stub`, the last flagged FINAL; a
 * cancellation is a BLS_CANCEL; `models.load` / `unload` / `isReady` are a
 * CONTROL record answered by CONTROL_DONE. Call ids are this side's, from 1.
 *
 * Memory: a request's payload, inputs included, lives in a scope of the
 * stub's half until the call's FINAL, since Triton reads the inputs in
 * place until it releases the request (the parent sends FINAL only after
 * that). A response's payload lies in the parent's half and is reused once
 * the record is done, so its outputs are copied into the Worker's own
 * memory before the model sees them.
 *
 * While calls are in flight the model usually awaits them, and the serve
 * loop may not be reading `to_stub` (a non-decoupled model's `execute` is
 * running). So the transport holds the Inbox: its one reader keeps taking
 * records, and the answers reach the model as they arrive. Meanwhile the
 * calls are marked pending (runtime/wire/futex_proxy.ts): once the model's
 * ready work has run, the reader blocks on the doorbell, which the parent
 * rings with the answer (one thread hop), and the main thread's ticks
 * every 10 ms let the model's own timers and promises move meanwhile.
 *
 * @example
 * ```ts ignore
 * import { setBlsTransport } from "../api/internal.ts";
 * import { WorkerBlsTransport } from "./bls_transport.ts";
 *
 * setBlsTransport(new WorkerBlsTransport({ arena, stubArena, inbox, toParent: link.toParent,
 *   setBusy: (busy) => link.setEventLoopBusy(busy, "bls") }));
 * ```
 *
 * @module
 */

import { ErrorCode, TritonError } from "../api/error.ts";
import {
  type BlsCall,
  type BlsResponseHandler,
  type BlsTransport,
  type BlsWireRequest,
  type BlsWireResponse,
  type ModelLoadWire,
  type ModelUnloadWire,
  tensorFromWire,
} from "../api/internal.ts";
import { ArenaExhaustedError } from "../wire/arena_allocator.ts";
import {
  type ControlRequestOptions,
  writeBlsRequest,
  writeControlRequest,
} from "../wire/bls_request_writer.ts";
import { readBlsResponse } from "../wire/batch_codec.ts";
import { CONTROL_OP, ERROR_CODE, MSG, RECORD_FLAG, TRACE_EVENT } from "../wire/layout.ts";
import { type Ring, type WireRecord, wireRecord } from "../wire/ring.ts";
import type { ArenaScope, StubArena } from "../wire/stub_arena.ts";
import type { Inbox } from "./inbox.ts";
import type { TraceMarks } from "./trace_marks.ts";

/** What the transport works with. */
export interface BlsTransportInit {
  /** The arena (both halves). */
  arena: ArrayBuffer;
  /** The stub's half, where requests are written. */
  stubArena: StubArena;
  /** Where BLS_RESPONSE and CONTROL_DONE arrive (handled from now on). */
  inbox: Inbox;
  /** Where requests go. */
  toParent: Ring;
  /** Told true while any call is in flight, false when none is. */
  setBusy: (busy: boolean) => void;
  /** The hop tracing's marks (runtime/worker/trace_marks.ts), if any. */
  marks?: TraceMarks;
}

interface InferenceCall {
  onResponse: BlsResponseHandler;
  scope: ArenaScope;
  modelName: string;
  cancelled: boolean;
}

interface ControlCall {
  resolve: (text: string) => void;
  reject: (error: TritonError) => void;
}

const utf8 = new TextDecoder();

/** See the module documentation. */
export class WorkerBlsTransport implements BlsTransport {
  readonly #arena: ArrayBuffer;
  readonly #stubArena: StubArena;
  readonly #inbox: Inbox;
  readonly #toParent: Ring;
  readonly #setBusy: (busy: boolean) => void;
  readonly #marks: TraceMarks | undefined;
  readonly #calls = new Map<bigint, InferenceCall>();
  readonly #controls = new Map<bigint, ControlCall>();
  #nextId = 1n;
  #releaseInbox: (() => void) | undefined;

  /** @param init The arena, the rings and the inbox. */
  constructor(init: BlsTransportInit) {
    this.#arena = init.arena;
    this.#stubArena = init.stubArena;
    this.#inbox = init.inbox;
    this.#toParent = init.toParent;
    this.#setBusy = init.setBusy;
    this.#marks = init.marks;
    init.inbox.on(MSG.BLS_RESPONSE, (record) => this.#onResponse(record));
    init.inbox.on(MSG.CONTROL_DONE, (record) => this.#onControlDone(record));
  }

  /** Calls in flight (inferences and model-control operations). */
  get inFlight(): number {
    return this.#calls.size + this.#controls.size;
  }

  /**
   * Sends a BLS_REQUEST.
   *
   * @throws {TritonError} `INVALID_ARG` if the request exceeds a wire limit,
   * `UNAVAILABLE` if the stub's half of the shared memory stays full.
   */
  infer(request: BlsWireRequest, onResponse: BlsResponseHandler): BlsCall {
    const owner = `BLS request to model '${request.modelName}'`;
    const id = this.#nextId++;
    const scope = this.#stubArena.scope();
    let written;
    try {
      written = writeBlsRequest(this.#arena, (bytes) => scope.reserve(bytes), {
        modelName: request.modelName,
        modelVersion: request.modelVersion,
        inputs: request.inputs.map((input) => ({
          name: input.name,
          datatypeCode: input.datatypeCode,
          shape: input.shape,
          bytes: input.bytes,
        })),
        requestedOutputNames: request.requestedOutputNames,
        requestId: request.requestId,
        correlationId: request.correlationId,
        flags: request.flags,
        timeoutMicros: request.timeoutMicros,
        parametersJson: request.parametersJson,
      });
    } catch (error) {
      scope.release();
      throw asRequestError(error, owner);
    }
    this.#calls.set(id, { onResponse, scope, modelName: request.modelName, cancelled: false });
    this.#marks?.mark(TRACE_EVENT.BLS_SENT, id);
    // Sent before the inbox's reader parks: a parent asleep is then woken
    // at once (a park in progress delays wakes by up to a millisecond).
    this.#toParent.push(wireRecord(MSG.BLS_REQUEST, 0, id, written.offset, written.length));
    this.#changed();
    return {
      cancel: () => {
        const call = this.#calls.get(id);
        if (call === undefined || call.cancelled) return;
        call.cancelled = true;
        this.#toParent.push(wireRecord(MSG.BLS_CANCEL, 0, id));
      },
    };
  }

  /** Loads (or reloads) a model through the parent, with a configuration and files if given. */
  async loadModel(name: string, options: ModelLoadWire = {}): Promise<void> {
    await this.#control(CONTROL_OP.LOAD, name, -1, options);
  }

  /** Unloads a model (and, if asked, the models that depend on it) through the parent. */
  async unloadModel(name: string, options: ModelUnloadWire = {}): Promise<void> {
    await this.#control(CONTROL_OP.UNLOAD, name, -1, options);
  }

  /** Whether a model (version -1: any) is ready. */
  async isModelReady(name: string, version: number): Promise<boolean> {
    return (await this.#control(CONTROL_OP.IS_READY, name, version)) === "true";
  }

  #control(
    operation: number,
    name: string,
    version: number,
    options: ControlRequestOptions = {},
  ): Promise<string> {
    const id = this.#nextId++;
    const scope = this.#stubArena.scope();
    let written;
    try {
      written = writeControlRequest(
        this.#arena,
        (bytes) => scope.reserve(bytes),
        name,
        version,
        options,
      );
    } catch (error) {
      scope.release();
      return Promise.reject(asRequestError(error, `model control of '${name}'`));
    }
    return new Promise<string>((resolve, reject) => {
      this.#controls.set(id, { resolve, reject });
      this.#toParent.push(wireRecord(MSG.CONTROL, operation, id, written.offset, written.length));
      // The parent copies the name, configuration and files when it takes the record.
      scope.seal(this.#toParent.published);
      this.#changed();
    });
  }

  #onResponse(wire: WireRecord): void {
    const call = this.#calls.get(wire.id);
    if (call === undefined) return; // not ours (any more): nothing to deliver
    this.#marks?.mark(TRACE_EVENT.BLS_ANSWER_TAKEN, wire.id);
    const final = (wire.flags & RECORD_FLAG.FINAL) !== 0;
    let response: BlsWireResponse | undefined;
    if (wire.length > 0) response = this.#decode(wire, call.modelName);
    if (final) {
      this.#calls.delete(wire.id);
      // Triton released the request before the parent sent FINAL: the
      // inputs are free.
      call.scope.release();
      this.#changed();
    }
    if (response === undefined && !final) return;
    this.#marks?.mark(TRACE_EVENT.BLS_DELIVERED, wire.id);
    try {
      call.onResponse(response, final);
    } catch (error) {
      // The API's handlers do not throw; a bug there must not stop the reader.
      console.error(`${call.modelName}: BLS response handler threw: ${String(error)}`);
    }
  }

  /** The payload as the API takes it, outputs copied out of the arena. */
  #decode(wire: WireRecord, modelName: string): BlsWireResponse {
    try {
      const decoded = readBlsResponse(this.#arena, wire.offset, wire.length);
      const outputs = decoded.outputs.map((output) => {
        const copy = new ArrayBuffer(output.data.byteLength);
        new Uint8Array(copy).set(output.data);
        return tensorFromWire(
          output.name,
          output.datatype,
          output.shape,
          copy,
          0,
          output.data.byteLength,
        );
      });
      return {
        outputs,
        parametersJson: decoded.parametersJson === "" ? undefined : decoded.parametersJson,
        error: decoded.error,
      };
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      return {
        outputs: [],
        error: {
          code: ERROR_CODE.INTERNAL,
          message: `the response of model '${modelName}' could not be read: ${detail}`,
        },
      };
    }
  }

  #onControlDone(wire: WireRecord): void {
    const control = this.#controls.get(wire.id);
    if (control === undefined) return;
    this.#controls.delete(wire.id);
    this.#changed();
    let text = "";
    if (wire.length > 0 && wire.offset + wire.length <= this.#arena.byteLength) {
      text = utf8.decode(new Uint8Array(this.#arena, wire.offset, wire.length));
    }
    if (wire.aux === 0) {
      control.resolve(text);
      return;
    }
    const code = wire.aux in ErrorCode ? wire.aux as ErrorCode : ErrorCode.INTERNAL;
    control.reject(new TritonError(text || `model control failed (code ${wire.aux})`, code));
  }

  /** Keeps the inbox read and the event loop free while calls are in flight. */
  #changed(): void {
    const busy = this.inFlight > 0;
    if (busy && this.#releaseInbox === undefined) {
      this.#setBusy(true);
      this.#releaseInbox = this.#inbox.hold({ answers: true });
    } else if (!busy && this.#releaseInbox !== undefined) {
      this.#releaseInbox();
      this.#releaseInbox = undefined;
      this.#setBusy(false);
    }
  }
}

function asRequestError(error: unknown, owner: string): TritonError {
  if (error instanceof TritonError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  const code = error instanceof ArenaExhaustedError ? ErrorCode.UNAVAILABLE : ErrorCode.INVALID_ARG;
  return new TritonError(`${owner}: ${detail}`, code);
}
