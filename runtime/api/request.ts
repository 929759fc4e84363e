/**
 * One inference request as the model sees it: its inputs (views into shared
 * memory), what the client asked for, and a way to write outputs straight
 * into shared memory.
 *
 * @module
 */

import {
  dataTypeArrayType,
  dataTypeByteSize,
  type DataTypeName,
  type FixedSizeDataTypeName,
  isDataTypeName,
} from "./datatype.ts";
import { describeValue } from "./describe.ts";
import { ErrorCode, TritonError } from "./error.ts";
import { type InferenceParameters, NO_PARAMETERS } from "./parameters.ts";
import type { ResponseSender } from "./response_sender.ts";
import { checkShape, TensorOwner } from "./shape.ts";
import { markTensorInArena, Tensor } from "./tensor.ts";
import { type TensorValues, viewOf } from "./values.ts";

/**
 * `TRITONSERVER_RequestFlag`: the bits of {@linkcode InferenceRequest.flags}
 * (and of `BlsRequest`'s `flags`).
 *
 * @example
 * ```ts
 * import { type InferenceRequest, RequestFlags } from "@triton/deno";
 *
 * function endsSequence(request: InferenceRequest): boolean {
 *   return (request.flags & RequestFlags.SEQUENCE_END) !== 0;
 * }
 * console.log(RequestFlags.SEQUENCE_START, typeof endsSequence); // 1 "function"
 * ```
 */
export enum RequestFlags {
  /** `TRITONSERVER_REQUEST_FLAG_NONE`. */
  NONE = 0,
  /** `TRITONSERVER_REQUEST_FLAG_SEQUENCE_START`: the first request of its sequence. */
  SEQUENCE_START = 1,
  /** `TRITONSERVER_REQUEST_FLAG_SEQUENCE_END`: the last request of its sequence. */
  SEQUENCE_END = 2,
}

/**
 * A block of the arena handed out for one output.
 *
 * @internal The contract between the API and the Worker runtime.
 */
export interface ArenaAllocation {
  /** Arena-relative offset of the block (a multiple of 64). */
  offset: number;
  /** A view over the arena at `offset`, at least as long as requested. */
  bytes: Uint8Array;
}

/**
 * Hands out 64-byte aligned blocks of the arena for the current batch; may
 * ask the parent to grow the arena.
 *
 * @internal The contract between the API and the Worker runtime.
 */
export interface ArenaAllocator {
  /** Reserves `byteLength` bytes; throws if the arena cannot hold them. */
  allocate(byteLength: number): ArenaAllocation;
}

/**
 * Everything a request is built from.
 *
 * @internal Built by the Worker runtime (see internal.ts `makeRequest`).
 */
export interface RequestInit {
  /** The request id the client chose ("" when none). */
  id: string;
  /** The sequence correlation id: a number or a string (0n when none). */
  correlationId: bigint | string;
  /** `TRITONSERVER_RequestFlag` bits (1 sequence start, 2 sequence end). */
  flags: number;
  /** The request's timeout in microseconds (0 or omitted: none). */
  timeoutMicros?: number;
  /** The input tensors. */
  inputs: Tensor[];
  /** The outputs the client asked for; empty means all. */
  requestedOutputNames: string[];
  /** Where `allocateOutput` places output data. */
  allocator: ArenaAllocator;
  /** The request's parameters (decoded by `parametersFromWire`); none when omitted. */
  parameters?: InferenceParameters;
  /** Whether the model is decoupled (`model_transaction_policy { decoupled: true }`). */
  decoupled?: boolean;
  /** Makes the request's response sender; called at most once. */
  createResponseSender?: () => ResponseSender;
  /**
   * Marks the request for release with RESCHEDULE; throws when it cannot be
   * (too late, or already answered). Omitted: the model cannot reschedule.
   */
  reschedule?: () => void;
  /** Reads the request's cancellation flag; never cancelled when omitted. */
  isCancelled?: () => boolean;
}

/**
 * An inference request. The runtime builds these; a model reads its inputs and
 * creates its outputs.
 *
 * Inputs and allocated outputs view the shared memory of the current batch,
 * which the next batch reuses: they are valid until `execute` returns (or its
 * promise settles). Copy what must outlive the batch, e.g. `input.data.slice()`.
 *
 * @example Read inputs and write an output into shared memory
 * ```ts
 * import { type InferenceRequest, InferenceResponse } from "@triton/deno";
 *
 * function double(request: InferenceRequest): InferenceResponse {
 *   const input = request.input("INPUT0", "FP32");
 *   const output = request.allocateOutput("OUTPUT0", "FP32", input.shape);
 *   for (let i = 0; i < input.data.length; i++) output.data[i] = 2 * input.data[i];
 *   return new InferenceResponse([output]);
 * }
 * console.log(typeof double); // "function"
 * ```
 */
export class InferenceRequest {
  /** The request id the client chose (`""` when none). */
  readonly id: string;
  /** The sequence correlation id: a number, or a string for string ids (`0n` when none). */
  readonly correlationId: bigint | string;
  /**
   * `TRITONSERVER_RequestFlag` bits: {@linkcode RequestFlags.SEQUENCE_START}
   * (1) and {@linkcode RequestFlags.SEQUENCE_END} (2). python_backend's
   * `request.flags()`.
   */
  readonly flags: number;
  /**
   * The request's timeout in microseconds, as the client set it (0: none).
   * python_backend's `request.timeout()`. Triton enforces it while the
   * request waits in its queue; a model with long work can use it to give
   * up in time.
   */
  readonly timeoutMicros: number;
  /** The input tensors, in the order Triton gave them. Their data views shared memory: read only. */
  readonly inputs: readonly Tensor[];
  /** The outputs the client asked for; empty means all. Triton drops the others. */
  readonly requestedOutputNames: readonly string[];
  /**
   * The request's parameters (frozen): strings, booleans, numbers for
   * `DOUBLE`s and for `INT`s that are safe integers, `bigint`s for larger
   * `INT`s.
   */
  readonly parameters: InferenceParameters;
  readonly #inputsByName: ReadonlyMap<string, Tensor>;
  readonly #allocator: ArenaAllocator;
  readonly #decoupled: boolean;
  readonly #createResponseSender: (() => ResponseSender) | undefined;
  readonly #isCancelled: (() => boolean) | undefined;
  readonly #reschedule: (() => void) | undefined;
  #responseSender: ResponseSender | undefined;

  /**
   * @internal Requests come from the runtime; models do not build them.
   */
  constructor(init: RequestInit) {
    this.id = init.id;
    this.correlationId = init.correlationId;
    this.flags = init.flags;
    this.timeoutMicros = init.timeoutMicros ?? 0;
    this.inputs = Object.freeze(Array.from(init.inputs));
    this.requestedOutputNames = Object.freeze(Array.from(init.requestedOutputNames));
    this.parameters = init.parameters ?? NO_PARAMETERS;
    const byName = new Map<string, Tensor>();
    for (const input of this.inputs) {
      if (!byName.has(input.name)) byName.set(input.name, input);
    }
    this.#inputsByName = byName;
    this.#allocator = init.allocator;
    this.#decoupled = init.decoupled === true;
    this.#createResponseSender = init.createResponseSender;
    this.#isCancelled = init.isCancelled;
    this.#reschedule = init.reschedule;
    this.#responseSender = undefined;
    Object.freeze(this);
  }

  /**
   * The sender for this request's responses (the same object on every call).
   * A decoupled model sends every response through it, the last with
   * `{ final: true }` (or `close()`), and returns nothing from `execute`. A
   * model that is not decoupled may send the request's one response through
   * it instead of returning it (from `execute`, or later: the batch ends
   * when every request has its response), with `execute` returning
   * `undefined` in the request's place.
   *
   * @throws {TritonError} `UNSUPPORTED` if the runtime gave the request no
   * sender (a request built for a test without one).
   *
   * @example
   * ```ts
   * import { type InferenceRequest, InferenceResponse } from "@triton/deno";
   *
   * function answerTwice(request: InferenceRequest): void {
   *   const sender = request.responseSender();
   *   sender.send(new InferenceResponse([]));
   *   sender.send(new InferenceResponse([]), { final: true });
   * }
   * console.log(typeof answerTwice); // "function"
   * ```
   */
  responseSender(): ResponseSender {
    if (this.#responseSender !== undefined) return this.#responseSender;
    const owner = this.id === "" ? "this request" : `request '${this.id}'`;
    if (this.#createResponseSender === undefined) {
      throw new TritonError(
        `responseSender() is not available for ${owner}: the runtime gave it no sender` +
          (this.#decoupled ? "" : "; execute must return its InferenceResponse"),
        ErrorCode.UNSUPPORTED,
      );
    }
    this.#responseSender = this.#createResponseSender();
    return this.#responseSender;
  }

  /**
   * Gives the request back to Triton for another turn instead of answering
   * it now (`TRITONSERVER_REQUEST_RELEASE_RESCHEDULE`, python_backend's
   * `request.set_release_flags(...)`): an iterative sequence model runs one
   * step per turn. Needs `sequence_batching { iterative_sequence: true }` in
   * config.pbtxt. A model that is not decoupled then returns `undefined` in
   * the request's place (the request gets no response this turn); a
   * decoupled model calls it before `execute` returns, and may have sent
   * responses (none final) for this turn first.
   *
   * @throws {TritonError} `UNSUPPORTED` if the model is not configured with
   * iterative sequence batching; `INVALID_ARG` if the request already has
   * its final response, or (decoupled) `execute` has already returned.
   *
   * @example One step per turn, until the sequence is done
   * ```ts
   * import { type InferenceRequest, InferenceResponse } from "@triton/deno";
   *
   * function step(request: InferenceRequest, done: boolean): InferenceResponse | undefined {
   *   if (!done) {
   *     request.reschedule();
   *     return undefined;
   *   }
   *   return new InferenceResponse([]);
   * }
   * console.log(typeof step); // "function"
   * ```
   */
  reschedule(): void {
    if (this.#reschedule === undefined) {
      const owner = this.id === "" ? "this request" : `request '${this.id}'`;
      throw new TritonError(
        `${owner} cannot be rescheduled: rescheduling needs iterative sequence batching ` +
          "(config.pbtxt: sequence_batching { iterative_sequence: true })",
        ErrorCode.UNSUPPORTED,
      );
    }
    this.#reschedule();
  }

  /**
   * Whether the client cancelled this request (a read of shared memory, no
   * round trip). A long-running model can check it and stop early.
   *
   * @example
   * ```ts
   * import type { InferenceRequest } from "@triton/deno";
   *
   * function worthContinuing(request: InferenceRequest): boolean {
   *   return !request.isCancelled();
   * }
   * console.log(typeof worthContinuing); // "function"
   * ```
   */
  isCancelled(): boolean {
    return this.#isCancelled?.() === true;
  }

  /**
   * The input called `name`, optionally checking its datatype (which also
   * types its `data`).
   *
   * @param name The input's name, as declared in config.pbtxt.
   * @param datatype If given, the datatype the input must have.
   * @throws {TritonError} `INVALID_ARG` naming the input if it is missing
   * (listing the inputs present) or has another datatype.
   *
   * @example
   * ```ts
   * import type { InferenceRequest } from "@triton/deno";
   *
   * function sum(request: InferenceRequest): number {
   *   return request.input("INPUT0", "FP32").data.reduce((a, b) => a + b, 0);
   * }
   * console.log(typeof sum); // "function"
   * ```
   */
  input(name: string): Tensor;
  input<D extends DataTypeName>(name: string, datatype: D): Tensor<D>;
  input(name: string, datatype?: DataTypeName): Tensor {
    const tensor = this.#inputsByName.get(name);
    if (tensor === undefined) {
      const present = this.inputs.map((input) => `'${input.name}'`).join(", ");
      throw new TritonError(
        `request has no input '${name}'; ` +
          (present === "" ? "it has no inputs" : `its inputs are ${present}`),
        ErrorCode.INVALID_ARG,
      );
    }
    if (datatype !== undefined && tensor.datatype !== datatype) {
      throw new TritonError(
        `input '${name}' has datatype ${tensor.datatype}, expected ${datatype}`,
        ErrorCode.INVALID_ARG,
      );
    }
    return tensor;
  }

  /**
   * Creates an output tensor whose `data` lives directly in the shared memory
   * Triton reads from: filling it is the only copy the output ever needs.
   * The contents start out unspecified (like `numpy.empty`): write every
   * element. Like the inputs, the tensor is valid only for this batch. `BYTES` outputs cannot be allocated this way because their size
   * depends on their contents; build them with `new Tensor(...)`.
   *
   * @param name The output's name, as declared in config.pbtxt.
   * @param datatype Any datatype except `BYTES`.
   * @param shape Non-negative integer dimensions.
   * @throws {TritonError} `INVALID_ARG` for `BYTES`, an unknown datatype or a
   * bad shape; the runtime's error if shared memory cannot grow enough.
   *
   * @example
   * ```ts
   * import type { InferenceRequest, Tensor } from "@triton/deno";
   *
   * function zeros(request: InferenceRequest): Tensor<"INT32"> {
   *   const output = request.allocateOutput("OUTPUT0", "INT32", [2, 2]);
   *   output.data.fill(0);
   *   return output;
   * }
   * console.log(typeof zeros); // "function"
   * ```
   */
  allocateOutput<D extends FixedSizeDataTypeName>(
    name: string,
    datatype: D,
    shape: readonly number[],
  ): Tensor<D> {
    if (typeof name !== "string" || name.length === 0) {
      throw new TritonError(
        `allocateOutput needs a non-empty output name, got ${describeValue(name)}`,
        ErrorCode.INVALID_ARG,
      );
    }
    const owner = new TensorOwner("output", name);
    if ((datatype as DataTypeName) === "BYTES") {
      throw new TritonError(
        `allocateOutput cannot place BYTES ${owner} in shared memory, because its size ` +
          `depends on its strings; build it with new Tensor("${name}", "BYTES", shape, strings)`,
        ErrorCode.INVALID_ARG,
      );
    }
    if (!isDataTypeName(datatype)) {
      throw new TritonError(
        `${owner}: unknown datatype ${describeValue(datatype)}`,
        ErrorCode.INVALID_ARG,
      );
    }
    const { dims, elementCount } = checkShape(owner, shape);
    const elementSize = dataTypeByteSize(datatype);
    const byteLength = elementCount * elementSize;
    if (!Number.isSafeInteger(byteLength)) {
      throw new TritonError(`${owner}: shape is too large`, ErrorCode.INVALID_ARG);
    }
    const { offset, bytes } = this.#allocator.allocate(byteLength);
    if (bytes.byteLength < byteLength || bytes.byteOffset % elementSize !== 0) {
      throw new TritonError(
        `${owner}: the arena returned ${bytes.byteLength} bytes at byte offset ` +
          `${bytes.byteOffset} for a request of ${byteLength}`,
        ErrorCode.INTERNAL,
      );
    }
    const data = viewOf(dataTypeArrayType(datatype), bytes.buffer, bytes.byteOffset, elementCount);
    const tensor = new Tensor(name, datatype, dims, data as TensorValues<D>);
    markTensorInArena(tensor, offset);
    return tensor;
  }
}
