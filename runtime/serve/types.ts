/**
 * The request and result shapes that flow between the HTTP layer, the
 * scheduler and the executor.
 *
 * @module
 */

import type { DataTypeName } from "../api/datatype.ts";

/**
 * A request or response parameter value. A `bigint` is an integer beyond
 * 2^53 that JSON numbers cannot carry exactly (it travels as INT).
 */
export type ParameterValue = string | number | bigint | boolean;

/** An input tensor ready for the backend. */
export interface InputTensor {
  /** The input's name. */
  readonly name: string;
  /** Its datatype. */
  readonly datatype: DataTypeName;
  /** The shape the model sees (after any reshape). */
  readonly shape: readonly number[];
  /** The bytes, in Triton's binary layout (may be a view into the HTTP body). */
  readonly data: Uint8Array;
}

/** A validated inference request. */
export interface InferRequest {
  /** The client's request id ("" when none). */
  readonly id: string;
  /** The inputs, in the order the client sent them. */
  readonly inputs: readonly InputTensor[];
  /** The outputs asked for, sorted and unique; empty means all. */
  readonly requestedOutputs: readonly string[];
  /** Parameters other than the ones the server itself interprets. */
  readonly parameters: ReadonlyMap<string, ParameterValue>;
  /** The sequence (correlation) id: a number, a string, or 0 for none. */
  readonly correlationId: bigint | string;
  /** `TRITONSERVER_RequestFlag` bits (sequence start 1, end 2). */
  readonly flags: number;
  /** The timeout in microseconds, 0 for none. */
  readonly timeoutUs: bigint;
  /** The `priority` parameter, 0 for none (the model's default level). */
  readonly priority: number;
  /** The batch dimension (1 for models that do not batch). */
  readonly batchSize: number;
  /**
   * Where a decoupled model's responses go, one by one, as the model sends
   * them. Absent for models that answer each request exactly once.
   */
  readonly responses?: ResponseSink;
  /**
   * Set for a call from another model (BLS) that the host handed to the
   * server: the call's own backend request runs in the batch, and what the
   * model sends goes straight back to the calling model.
   */
  readonly call?: InProcessCall;
  /**
   * Aborted when whoever asked no longer wants the result (a calling model
   * cancelled its call): an ensemble then starts none of its remaining steps.
   */
  readonly signal?: AbortSignal;
}

/** A call from one model to another, as the host hands it to the server. */
export interface InProcessCall {
  /** The host's call (`host_infer_call*`): claimed before it runs. */
  readonly token: Deno.PointerObject;
  /** Its backend request (`TRITONBACKEND_Request*`), holding the caller's inputs. */
  readonly handle: Deno.PointerObject;
  /** How many inputs the caller sent; the scheduler's control inputs follow them. */
  readonly inputCount: number;
  /** Whether the model is decoupled (its responses may come after the execute). */
  readonly decoupled: boolean;
}

/**
 * Receives the responses of one request to a decoupled model. The executor
 * pushes each response (or error) as it arrives and ends the sink after the
 * final one; the consumer may cancel, which the executor passes on to the
 * model (`TRITONBACKEND_RequestIsCancelled`).
 */
export interface ResponseSink {
  /** Delivers one response; ignored once the sink has ended. */
  push(result: InferResult): void;
  /** No more responses will come. Idempotent. */
  end(): void;
  /** Whether the consumer went away. */
  readonly cancelled: boolean;
  /** Calls `listener` once, when the consumer cancels (at once if it already has). */
  onCancel(listener: () => void): void;
}

/** One output tensor of a response; its bytes are read on demand. */
export interface OutputTensor {
  /** The output's name. */
  readonly name: string;
  /** Its datatype. */
  readonly datatype: DataTypeName;
  /** Its shape. */
  readonly shape: readonly number[];
  /** Its size in bytes. */
  readonly byteSize: number;
  /** Copies exactly `byteSize` bytes into `destination`. */
  read(destination: Uint8Array): void;
}

/** What became of one request. */
export type InferResult =
  | {
    readonly ok: true;
    /** The outputs the model returned (only those asked for, when some were). */
    readonly outputs: readonly OutputTensor[];
    /** The response's parameters. */
    readonly parameters: Readonly<Record<string, ParameterValue>>;
  }
  | {
    readonly ok: false;
    /** The `TRITONSERVER_Error_Code`. */
    readonly code: number;
    /** The error's message. */
    readonly message: string;
  };

/** Per-request timings an executor reports, in nanoseconds, for statistics. */
export interface ExecutionTimings {
  /** Input preparation (execution start to compute start). */
  readonly computeInputNs: number;
  /** Model compute (compute start to compute end). */
  readonly computeInferNs: number;
  /** Output handling (compute end to execution end). */
  readonly computeOutputNs: number;
}

/** The outcome of one request within an executed batch. */
export interface RequestOutcome {
  /** The result to send to the client. */
  readonly result: InferResult;
  /** Backend-reported timings, when the backend reported statistics. */
  readonly timings: ExecutionTimings | undefined;
  /** Releases whatever the executor holds for this request (output buffers). */
  release(): void;
}

/**
 * Takes a model version's requests and answers each: the dynamic batcher,
 * the sequence batcher, or an ensemble's step runner.
 */
export interface RequestScheduler {
  /**
   * Queues a request; resolves with its outcome once it has run (or at once
   * with the error when it cannot be taken).
   */
  submit(request: InferRequest): Promise<RequestOutcome>;
  /**
   * Stops taking requests (later ones get `UNAVAILABLE` with `reason`) and
   * resolves once every queued and running request has finished.
   */
  close(reason: string): Promise<void>;
}
