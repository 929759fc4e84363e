/**
 * Runs tests/serve/tritonclient_test.py (Triton's official Python HTTP client)
 * against `runtime/serve/main.ts` serving models/add_sub and add_sub_string.
 * The client lives in a virtual environment under build/venv
 * (tests/serve/python_client.ts).
 */
import { assertEquals, assertStringIncludes } from "../../runtime/serve/_test_assert.ts";
import { runClientScript } from "./python_client.ts";

Deno.test({
  name: "serve: Triton's Python HTTP client (tritonclient) passes its checks",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const result = await runClientScript({
      script: "tests/serve/tritonclient_test.py",
      endpoint: "http",
      models: ["add_sub", "add_sub_string"],
    });
    assertEquals(result.code, 0, result.output);
    assertStringIncludes(result.output, "Ran 9 tests");
    assertStringIncludes(result.output, "OK");
  },
});
