/**
 * The request and result shapes that flow between the HTTP layer, the
 * scheduler and the executor.
 *
 * @module
 */

import type { DataTypeName } from "../api/datatype.ts";

/** A request or response parameter value. */
export type ParameterValue = string | number | boolean;

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
  /** The batch dimension (1 for models that do not batch). */
  readonly batchSize: number;
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
