/**
 * End to end: `deno task serve`'s GET /metrics with models/custom_metrics,
 * over real HTTP. The text is what Triton would serve on its metrics port
 * (8002 by default) for the model's custom metrics.
 */
import { assertEquals, assertStringIncludes } from "../../runtime/serve/_test_assert.ts";
import { makeFixtureRepository, startServeProcess } from "./server_process.ts";

Deno.test({
  name: "serve: GET /metrics shows a model's custom metrics after inference",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const repository = makeFixtureRepository(["custom_metrics"], false);
    const server = await startServeProcess({ repository });
    try {
      for (const data of [[1, 2, 3], [50]]) {
        const answer = await fetch(`${server.url}/v2/models/custom_metrics/infer`, {
          method: "POST",
          body: JSON.stringify({
            inputs: [{ name: "INPUT0", datatype: "FP32", shape: [data.length], data }],
          }),
        });
        assertEquals(answer.status, 200, await answer.text());
      }
      const metrics = await fetch(`${server.url}/metrics`);
      assertEquals(metrics.status, 200);
      assertEquals(metrics.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
      const text = await metrics.text();
      assertStringIncludes(text, "# TYPE custom_metrics_requests_total counter\n");
      assertStringIncludes(text, 'custom_metrics_requests_total{outcome="ok"} 2\n');
      assertStringIncludes(text, "custom_metrics_input_value_count 4\n");
      assertStringIncludes(text, "custom_metrics_input_value_sum 56\n");
      assertStringIncludes(text, 'custom_metrics_input_value_bucket{le="10"} 3\n');
    } finally {
      const { code, log } = await server.stop();
      Deno.removeSync(repository, { recursive: true });
      assertEquals(code, 0, log);
    }
  },
});
