/**
 * Runs tests/serve/tritonclient_test.py (Triton's official Python HTTP client)
 * against `runtime/serve/main.ts` serving models/add_sub and add_sub_string.
 * The client lives in a virtual environment under build/venv
 * (tests/serve/python_client.ts).
 */
import { assertEquals, assertStringIncludes } from "../../runtime/serve/_test_assert.ts";
import { ROOT, startServeProcess } from "./server_process.ts";
import { ensurePythonClient, runPython } from "./python_client.ts";

Deno.test({
  name: "serve: Triton's Python HTTP client (tritonclient) passes its checks",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await ensurePythonClient();
    const server = await startServeProcess({
      repository: `${ROOT}models`,
      args: [
        "--model-control-mode",
        "explicit",
        "--load-model",
        "add_sub",
        "--load-model",
        "add_sub_string",
      ],
    });
    let result: { code: number; output: string };
    try {
      result = await runPython([
        `${ROOT}tests/serve/tritonclient_test.py`,
        `127.0.0.1:${server.port}`,
      ]);
    } finally {
      const stopped = await server.stop("SIGTERM");
      assertEquals(stopped.code, 0, stopped.log);
    }
    assertEquals(result.code, 0, result.output);
    assertStringIncludes(result.output, "Ran 9 tests");
    assertStringIncludes(result.output, "OK");
  },
});
