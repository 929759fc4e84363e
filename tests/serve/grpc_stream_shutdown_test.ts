/**
 * End to end: a gRPC stream a client keeps open does not hold up shutdown.
 * The server ends it (status OK) once the requests it runs are answered,
 * instead of waiting out `--exit-timeout-secs`.
 */
import { create } from "npm:@bufbuild/protobuf@2.17.0";
import { assert, assertEquals } from "../../runtime/serve/_test_assert.ts";
import {
  GRPCInferenceService,
  ModelInferRequestSchema,
  type ModelStreamInferResponse,
} from "../../runtime/serve/grpc/grpc_service_pb.ts";
import { grpc, serviceDefinition } from "../../runtime/serve/grpc/service.ts";
import { ROOT, startServeProcess } from "./server_process.ts";

Deno.test({
  name: "serve: an open gRPC stream ends at SIGTERM without waiting for the exit timeout",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const server = await startServeProcess({
      repository: `${ROOT}models`,
      args: ["--model", "stream_text", "--exit-timeout-secs", "60"],
    });
    const Client = grpc.makeGenericClientConstructor(serviceDefinition(GRPCInferenceService), "");
    const client = new Client(`127.0.0.1:${server.grpcPort}`, grpc.credentials.createInsecure());
    try {
      const stream = (client as unknown as Record<
        string,
        () => grpc.ClientDuplexStream<
          unknown,
          ModelStreamInferResponse
        >
      >).ModelStreamInfer.call(client);
      const tokens: string[] = [];
      const { promise: answered, resolve: gotFinal } = Promise.withResolvers<void>();
      const { promise: closed, resolve: close } = Promise.withResolvers<grpc.StatusObject>();
      stream.on("data", (response: ModelStreamInferResponse) => {
        const infer = response.inferResponse!;
        const raw = infer.rawOutputContents[0];
        if (raw !== undefined) tokens.push(new TextDecoder().decode(raw.subarray(4)));
        const final = infer.parameters.triton_final_response?.parameterChoice;
        if (final?.case === "boolParam" && final.value) gotFinal();
      });
      stream.on("status", close);
      stream.on("error", () => {});
      const text = new TextEncoder().encode("one two");
      const bytes = new Uint8Array(4 + text.byteLength);
      new DataView(bytes.buffer).setUint32(0, text.byteLength, true);
      bytes.set(text, 4);
      stream.write(create(ModelInferRequestSchema, {
        modelName: "stream_text",
        id: "open",
        inputs: [{ name: "TEXT", datatype: "BYTES", shape: [1n] }],
        rawInputContents: [bytes],
        parameters: {
          triton_enable_empty_final_response: {
            parameterChoice: { case: "boolParam", value: true },
          },
        },
      }));
      await answered;
      assertEquals(tokens, ["one", "two"]);
      // The client keeps its side open; the server is told to stop.
      const started = performance.now();
      const stopped = await server.stop("SIGTERM");
      const seconds = (performance.now() - started) / 1000;
      assertEquals(stopped.code, 0, stopped.log);
      assert(seconds < 20, `shutdown took ${seconds.toFixed(1)} s:\n${stopped.log}`);
      assertEquals((await closed).code, grpc.status.OK);
    } finally {
      client.close();
      await server.stop("SIGKILL");
    }
  },
});
