/**
 * Runs tests/serve/tritonclient_grpc_test.py (Triton's official Python gRPC
 * client) against `runtime/serve/main.ts`'s gRPC endpoint serving
 * models/add_sub, add_sub_string and stream_text; and checks that
 * `--allow-grpc false` serves no gRPC. The client lives in a virtual
 * environment under build/venv (tests/serve/python_client.ts).
 */
import { assertEquals, assertStringIncludes } from "../../runtime/serve/_test_assert.ts";
import { ROOT, startServeProcess } from "./server_process.ts";
import { runClientScript } from "./python_client.ts";

/** The models the client's checks use. */
const MODELS = ["add_sub", "add_sub_string", "stream_text"];

Deno.test({
  name: "serve: Triton's Python gRPC client (tritonclient.grpc) passes its checks",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const result = await runClientScript({
      script: "tests/serve/tritonclient_grpc_test.py",
      endpoint: "grpc",
      models: MODELS,
    });
    assertEquals(result.code, 0, result.output);
    assertStringIncludes(result.output, "Ran 10 tests");
    assertStringIncludes(result.output, "OK");
  },
});

/** Triton's install when TRITON_HOME names one; else the stand-in's server API serves. */
const TRITON_HOME = Deno.env.get("TRITON_HOME");

Deno.test({
  name: `serve ${
    TRITON_HOME === undefined ? "--stand-in-server" : "--triton-home"
  }: the Python gRPC client's checks pass through a core's server API too`,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const core = TRITON_HOME === undefined ? ["--stand-in-server"] : ["--triton-home", TRITON_HOME];
    const result = await runClientScript({
      script: "tests/serve/tritonclient_grpc_test.py",
      endpoint: "grpc",
      models: MODELS,
      args: core,
    });
    assertEquals(result.code, 0, result.output);
    assertStringIncludes(result.output, "Ran 10 tests");
  },
});

Deno.test({
  name: "serve: --allow-grpc false serves HTTP only",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const server = await startServeProcess({
      repository: `${ROOT}models`,
      args: ["--model", "add_sub", "--allow-grpc", "false"],
    });
    try {
      assertEquals(server.grpcPort, undefined);
      const log = server.log();
      assertEquals(log.includes("grpc://"), false, log);
      const live = await fetch(`${server.url}/v2/health/live`);
      await live.body?.cancel();
      assertEquals(live.status, 200);
    } finally {
      const stopped = await server.stop("SIGTERM");
      assertEquals(stopped.code, 0, stopped.log);
    }
  },
});
