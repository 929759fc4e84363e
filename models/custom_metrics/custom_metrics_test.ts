import { assert, assertEquals } from "../../runtime/api/_test_assert.ts";
import { checkResponse, drainMetricOps } from "../../runtime/api/internal.ts";
import { loadTestModelConfig, TestArena, testRequest } from "../../runtime/api/test_support.ts";
import CustomMetrics from "./1/model.ts";

const { config } = await loadTestModelConfig(new URL("./", import.meta.url));

interface Batch {
  families: { id: number; name: string; kind: string }[];
  metrics: { id: number; family: number; labels: Record<string, string>; buckets?: number[] }[];
  updates: [number, string, number][];
}

function drain(): Batch {
  const batch = drainMetricOps();
  assert(batch !== undefined, "no metric operations were queued");
  return JSON.parse(JSON.stringify(batch));
}

Deno.test("custom_metrics copies INPUT0 and queues its metric operations", () => {
  const arena = new TestArena();
  const model = new CustomMetrics();
  const first = drain(); // The families and metrics, made when the module loaded.
  assertEquals(first.families.map((family) => [family.name, family.kind]), [
    ["custom_metrics_requests_total", "counter"],
    ["custom_metrics_last_input_size", "gauge"],
    ["custom_metrics_input_value", "histogram"],
  ]);
  assertEquals(first.metrics.map((metric) => metric.labels), [
    { outcome: "ok" },
    { outcome: "refused" },
    {},
    {},
  ]);
  assertEquals(first.metrics[3].buckets, [0, 1, 10, 100]);
  const [ok, refused, size, values] = first.metrics.map((metric) => metric.id);

  const responses = model.execute([
    testRequest(arena, [arena.input("INPUT0", "FP32", [3], [0.5, 5, 50])]),
    testRequest(arena, [arena.input("INPUT0", "FP32", [2], [1, NaN])]),
  ]);
  assert(checkResponse(responses[0], config, []).ok);
  assertEquals(Array.from(responses[0].outputs[0].data as Float32Array), [0.5, 5, 50]);
  assertEquals(responses[1].error?.message, "INPUT0[1] is NaN; only finite values are accepted");
  const batch = drain();
  assertEquals(batch.families, []);
  assertEquals(batch.updates, [
    [size, "set", 2],
    [values, "observe", 0.5],
    [values, "observe", 5],
    [values, "observe", 50],
    [ok, "inc", 1],
    [refused, "inc", 1],
  ]);
});
