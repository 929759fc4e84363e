/**
 * The gRPC endpoint of `deno task serve`: Triton's
 * `inference.GRPCInferenceService` (and gRPC's health checking service
 * `grpc.health.v1.Health`, as Triton serves it) over HTTP/2 cleartext, served by
 * `@grpc/grpc-js` on Deno's `node:http2`. It binds before the models load
 * (a port in use fails at once); until {@linkcode GrpcEndpoint.serve} hands
 * it the models, `ServerLive` answers live, `ServerReady` not ready, and
 * everything else UNAVAILABLE.
 *
 * @example
 * ```ts ignore
 * const endpoint = await bindGrpc({ address: "127.0.0.1", port: 8001, maxMessageBytes: 1 << 26 });
 * endpoint.serve({ manager, stopping: () => false });
 * await endpoint.shutdown();
 * ```
 *
 * @module
 */

import { GRPCInferenceService } from "./grpc_service_pb.ts";
import {
  type GrpcContext,
  grpcImplementation,
  healthImplementation,
  StreamCalls,
} from "./handlers.ts";
import { Health } from "./health_pb.ts";
import { grpc, serviceDefinition } from "./service.ts";

/** Where and how to listen. */
export interface GrpcOptions {
  /** The address to listen on. */
  readonly address: string;
  /** The port (0 picks a free one). */
  readonly port: number;
  /** The largest request message accepted, in bytes. */
  readonly maxMessageBytes: number;
}

/** A bound gRPC endpoint. */
export interface GrpcEndpoint {
  /** The address it listens on. */
  readonly address: string;
  /** The port it listens on (the chosen one when 0 was asked for). */
  readonly port: number;
  /** Serves `context`'s models from now on. */
  serve(context: GrpcContext): void;
  /**
   * Stops taking calls and resolves once the calls in flight have finished;
   * open streams end once the requests they are running are answered.
   */
  shutdown(): Promise<void>;
  /** Ends every call and connection at once. */
  forceShutdown(): void;
}

/** The largest message grpc-js can be told to send (Triton's limit: 2^31 - 1 bytes). */
const MAX_SEND_MESSAGE_BYTES = 2 ** 31 - 1;

/**
 * Binds the gRPC port and starts answering.
 *
 * @throws {Error} If the port is taken (saying so) or the address is bad.
 */
export async function bindGrpc(options: GrpcOptions): Promise<GrpcEndpoint> {
  let context: GrpcContext | undefined;
  const server = new grpc.Server({
    "grpc.max_receive_message_length": options.maxMessageBytes,
    "grpc.max_send_message_length": MAX_SEND_MESSAGE_BYTES,
  });
  const streams = new StreamCalls();
  server.addService(
    serviceDefinition(GRPCInferenceService),
    grpcImplementation(() => context, streams),
  );
  server.addService(serviceDefinition(Health), healthImplementation(() => context));
  const host = options.address.includes(":") ? `[${options.address}]` : options.address;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(
      `${host}:${options.port}`,
      grpc.ServerCredentials.createInsecure(),
      (error, bound) => (error ? reject(error) : resolve(bound)),
    );
  }).catch((error: Error) => {
    server.forceShutdown();
    throw new Error(
      `gRPC ${options.address}:${options.port} could not be bound (${error.message}); nothing ` +
        "was loaded. Stop the other server or choose another --grpc-port",
    );
  });
  let shutdown: Promise<void> | undefined;
  return {
    address: options.address,
    port,
    serve: (next) => (context = next),
    shutdown: () => {
      shutdown ??= new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        streams.closeAll();
      });
      return shutdown;
    },
    forceShutdown: () => server.forceShutdown(),
  };
}
