/**
 * Declarations of the part of `@grpc/grpc-js` this server and its tests
 * use, matching the package's own. The package's declarations pull in
 * `@types/node`, whose globals (`Event`, ...) clash with Deno's in any
 * program that also type-checks a Worker; these stand in for them
 * (runtime/serve/grpc/service.ts imports the package with them).
 *
 * @module
 */

/**
 * gRPC status codes: the package's `status` enum holds the numbers every
 * gRPC implementation uses, which status.ts declares once as `GrpcStatus`.
 */
import { GrpcStatus as status } from "./status.ts";
export { status };

/** A call's metadata (headers or trailers). */
export declare class Metadata {}

/** How a call ended. */
export interface StatusObject {
  /** The status code. */
  code: status;
  /** The status message. */
  details: string;
  /** The trailers. */
  metadata: Metadata;
}

/** A failed call as the library reports it. */
export interface ServiceError extends Error {
  /** The status code. */
  code: status;
  /** The status message. */
  details: string;
}

/** One method: its path, streaming kinds and message codecs. */
export interface MethodDefinition<Request, Response> {
  /** `/package.Service/Method`. */
  path: string;
  /** Whether the client streams. */
  requestStream: boolean;
  /** Whether the server streams. */
  responseStream: boolean;
  /** Encodes a request. */
  requestSerialize: (value: Request) => Uint8Array;
  /** Decodes a request. */
  requestDeserialize: (bytes: Uint8Array) => Request;
  /** Encodes a response. */
  responseSerialize: (value: Response) => Uint8Array;
  /** Decodes a response. */
  responseDeserialize: (bytes: Uint8Array) => Response;
  /** The method's name in generated code. */
  originalName?: string;
}

/** A service's methods by name. */
export type ServiceDefinition = Readonly<Record<string, MethodDefinition<unknown, unknown>>>;

/** The server's side of a unary call. */
export interface ServerUnaryCall<Request, _Response> {
  /** The request. */
  readonly request: Request;
  /** Whether the client cancelled. */
  readonly cancelled: boolean;
}

/** Answers a unary call. */
export type sendUnaryData<Response> = (
  error: Partial<ServiceError> | null,
  value?: Response | null,
) => void;

/** A unary method's handler. */
export type handleUnaryCall<Request, Response> = (
  call: ServerUnaryCall<Request, Response>,
  callback: sendUnaryData<Response>,
) => void;

/** The server's side of a bidirectional stream. */
export interface ServerDuplexStream<Request, Response> {
  /** Sends one message. */
  write(message: Response): boolean;
  /** Ends the call with status OK. */
  end(): void;
  /** A message from the client. */
  on(event: "data", listener: (message: Request) => void): this;
  /** The client closed its side, or cancelled. */
  on(event: "end" | "cancelled", listener: () => void): this;
  /** The call failed. */
  on(event: "error", listener: (error: Error) => void): this;
}

/** Any handler (parameters unchecked, as the library types them). */
export type UntypedHandleCall = (call: never, callback: never) => void;

/** A service implementation: handlers by method name. */
export type UntypedServiceImplementation = Record<string, UntypedHandleCall>;

/** Credentials a server listens with. */
export declare class ServerCredentials {
  /** No TLS. */
  static createInsecure(): ServerCredentials;
}

/** A gRPC server. */
export declare class Server {
  /** @param options Channel options (`grpc.max_receive_message_length`, ...). */
  constructor(options?: Record<string, unknown>);
  /** Serves `service` with `implementation`. */
  addService(service: ServiceDefinition, implementation: UntypedServiceImplementation): void;
  /** Listens on `port` (`host:port`); the callback gets the bound port. */
  bindAsync(
    port: string,
    credentials: ServerCredentials,
    callback: (error: Error | null, port: number) => void,
  ): void;
  /** Stops taking calls; calls back once the calls in flight ended. */
  tryShutdown(callback: (error?: Error) => void): void;
  /** Ends every call and connection now. */
  forceShutdown(): void;
}

/** Credentials a client connects with. */
export declare class ChannelCredentials {}

/** Client credentials. */
export declare const credentials: {
  /** No TLS. */
  createInsecure(): ChannelCredentials;
};

/** A client of one service. */
export declare class Client {
  /** Closes the channel. */
  close(): void;
}

/** The client's side of a bidirectional stream. */
export interface ClientDuplexStream<Request, Response> {
  /** Sends one message. */
  write(message: Request): boolean;
  /** Closes the client's side. */
  end(): void;
  /** A message from the server. */
  on(event: "data", listener: (message: Response) => void): this;
  /** How the call ended. */
  on(event: "status", listener: (status: StatusObject) => void): this;
  /** The call failed. */
  on(event: "error", listener: (error: Error) => void): this;
}

/** A client class with one method per entry of `methods`. */
export declare function makeGenericClientConstructor(
  methods: ServiceDefinition,
  serviceName: string,
): new (
  address: string,
  credentials: ChannelCredentials,
  options?: Record<string, unknown>,
) => Client;
