/**
 * gRPC status codes and the errors the gRPC front end answers with: a
 * Triton error code becomes the gRPC status Triton's gRPC frontend derives
 * from it (UNSUPPORTED is UNIMPLEMENTED, INVALID_ARG is INVALID_ARGUMENT,
 * ...), with the same message the HTTP front end puts in its body.
 *
 * @module
 */

import { ErrorCode, ServeError } from "../errors.ts";

/** The gRPC status codes (the numbers every gRPC implementation uses). */
export enum GrpcStatus {
  /** Success. */
  OK = 0,
  /** The call was cancelled. */
  CANCELLED = 1,
  /** The cause is not known. */
  UNKNOWN = 2,
  /** The client sent something invalid. */
  INVALID_ARGUMENT = 3,
  /** The deadline passed before the call completed. */
  DEADLINE_EXCEEDED = 4,
  /** Something asked for does not exist. */
  NOT_FOUND = 5,
  /** Something to be created exists already. */
  ALREADY_EXISTS = 6,
  /** The caller may not do this. */
  PERMISSION_DENIED = 7,
  /** A resource (memory, a message size limit) ran out. */
  RESOURCE_EXHAUSTED = 8,
  /** The server is not in a state to do this. */
  FAILED_PRECONDITION = 9,
  /** The call was aborted. */
  ABORTED = 10,
  /** A value is out of range. */
  OUT_OF_RANGE = 11,
  /** The server does not implement this. */
  UNIMPLEMENTED = 12,
  /** A fault inside the server. */
  INTERNAL = 13,
  /** The server cannot serve now; the client may retry. */
  UNAVAILABLE = 14,
  /** Data was lost. */
  DATA_LOSS = 15,
  /** The caller is not authenticated. */
  UNAUTHENTICATED = 16,
}

/**
 * The gRPC status for a Triton error code, as Triton's gRPC frontend maps
 * it; codes it does not know are UNKNOWN.
 *
 * @example
 * ```ts
 * import { GrpcStatus, grpcStatusFromErrorCode } from "./status.ts";
 * import { ErrorCode } from "../errors.ts";
 *
 * console.log(grpcStatusFromErrorCode(ErrorCode.UNSUPPORTED) === GrpcStatus.UNIMPLEMENTED); // true
 * ```
 */
export function grpcStatusFromErrorCode(code: number): GrpcStatus {
  switch (code) {
    case ErrorCode.UNKNOWN:
      return GrpcStatus.UNKNOWN;
    case ErrorCode.INTERNAL:
      return GrpcStatus.INTERNAL;
    case ErrorCode.NOT_FOUND:
      return GrpcStatus.NOT_FOUND;
    case ErrorCode.INVALID_ARG:
      return GrpcStatus.INVALID_ARGUMENT;
    case ErrorCode.UNAVAILABLE:
      return GrpcStatus.UNAVAILABLE;
    case ErrorCode.UNSUPPORTED:
      return GrpcStatus.UNIMPLEMENTED;
    case ErrorCode.ALREADY_EXISTS:
      return GrpcStatus.ALREADY_EXISTS;
    case ErrorCode.CANCELLED:
      return GrpcStatus.CANCELLED;
    default:
      return GrpcStatus.UNKNOWN;
  }
}

/** A failed call: the status and the message the client receives. */
export interface CallError {
  /** The gRPC status code. */
  readonly code: GrpcStatus;
  /** The message (`grpc-message`). */
  readonly details: string;
}

/**
 * What the client is told about a thrown value: a {@linkcode ServeError}
 * keeps its message and maps its code; anything else is INTERNAL with its
 * message (the front end throws only errors written for clients).
 *
 * @example
 * ```ts
 * import { callError, GrpcStatus } from "./status.ts";
 * import { invalidArg } from "../errors.ts";
 *
 * const error = callError(invalidArg("Unable to parse 'shape'"));
 * console.log(error.code === GrpcStatus.INVALID_ARGUMENT, error.details); // true "Unable to parse 'shape'"
 * ```
 */
export function callError(error: unknown): CallError {
  if (error instanceof ServeError) {
    return { code: grpcStatusFromErrorCode(error.code), details: error.message };
  }
  return {
    code: GrpcStatus.INTERNAL,
    details: error instanceof Error ? error.message : String(error),
  };
}
