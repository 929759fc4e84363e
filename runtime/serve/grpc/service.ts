/**
 * The seam between protobuf-es and the gRPC server library
 * (`@grpc/grpc-js`): a service definition built from a generated service
 * descriptor, each method encoding and decoding its messages with
 * protobuf-es, and adapters that turn promise-returning handlers into the
 * library's callbacks, with errors sent as gRPC statuses.
 *
 * @module
 */

import { Buffer } from "node:buffer";
// The package's declarations bring @types/node's globals along: ours stand in for them.
// @ts-types="./grpc_js.d.ts"
import * as grpc from "npm:@grpc/grpc-js@1.14.7";
import {
  type DescMessage,
  type DescService,
  fromBinary,
  type MessageShape,
  toBinary,
} from "npm:@bufbuild/protobuf@2.17.0";
import { callError } from "./status.ts";

/** `@grpc/grpc-js`, for the modules that set up the server. */
export { grpc };

function encoder<T extends DescMessage>(schema: T): (value: MessageShape<T>) => Buffer {
  return (value) => {
    const bytes = toBinary(schema, value);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

function decoder<T extends DescMessage>(schema: T): (bytes: Uint8Array) => MessageShape<T> {
  return (bytes) => fromBinary(schema, bytes);
}

/**
 * The gRPC library's definition of `service`: one entry per method, keyed by
 * the method's name as the `.proto` spells it (`ModelInfer`), with its path
 * (`/inference.GRPCInferenceService/ModelInfer`), its streaming kind and its
 * messages' protobuf-es codecs.
 *
 * @example
 * ```ts
 * import { serviceDefinition } from "./service.ts";
 * import { GRPCInferenceService } from "./grpc_service_pb.ts";
 *
 * const definition = serviceDefinition(GRPCInferenceService);
 * console.log(definition.ModelInfer.path); // "/inference.GRPCInferenceService/ModelInfer"
 * ```
 */
export function serviceDefinition(service: DescService): grpc.ServiceDefinition {
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    const streamingRequests = method.methodKind === "client_streaming" ||
      method.methodKind === "bidi_streaming";
    const streamingResponses = method.methodKind === "server_streaming" ||
      method.methodKind === "bidi_streaming";
    definition[method.name] = {
      path: `/${service.typeName}/${method.name}`,
      requestStream: streamingRequests,
      responseStream: streamingResponses,
      requestSerialize: encoder(method.input) as (value: unknown) => Buffer,
      requestDeserialize: decoder(method.input),
      responseSerialize: encoder(method.output) as (value: unknown) => Buffer,
      responseDeserialize: decoder(method.output),
      originalName: method.localName,
    };
  }
  return definition;
}

/**
 * Adapts a promise-returning handler to a unary call: its value is the
 * response; what it throws becomes the call's status (a `ServeError`'s code
 * mapped as Triton maps it, anything else INTERNAL).
 *
 * @example
 * ```ts ignore
 * const implementation = { ServerLive: unary(() => Promise.resolve(live)) };
 * ```
 */
export function unary<Request, Response>(
  handler: (request: Request, call: grpc.ServerUnaryCall<Request, Response>) => Promise<Response>,
): grpc.handleUnaryCall<Request, Response> {
  return (call, callback) => {
    // A handler that throws before its first await fails the call the same way.
    new Promise<Response>((resolve) => resolve(handler(call.request, call))).then(
      (response) => callback(null, response),
      (error) => {
        const { code, details } = callError(error);
        callback({ code, details, name: "Error", message: details }, null);
      },
    );
  };
}
