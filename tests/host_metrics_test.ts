/**
 * Tests of the host's custom metrics (TRITONSERVER_MetricFamily, _Metric,
 * _MetricArgs, _Parameter labels) and their Prometheus text, driven by the
 * C test backend's "metrics" role (tests/harness/fake_backend/).
 */

import { assertEquals } from "./harness/assert.ts";
import { fakeBlsConfig, responseParameters, withFakeBlsHost } from "./harness/fake_bls.ts";
import type { Host, LoadedModel } from "./harness/host.ts";

function loadMetricsModel(host: Host, modelDir: string): LoadedModel {
  host.resetMetrics();
  return host.loadModel(modelDir, { configText: fakeBlsConfig("metrics", "metrics") });
}

function run(model: LoadedModel, id: string): Record<string, unknown> {
  const [result] = model.execute(0, [{ id, inputs: [] }]);
  assertEquals(result.error, null);
  return responseParameters(result);
}

const EXPECTED_TEXT = `# HELP fake_requests_total Requests seen, by "path"\\nand model \\\\ all
# TYPE fake_requests_total counter
fake_requests_total{model="m"} 0
fake_requests_total{model="m",path="a\\"b\\\\c"} 4.5
# HELP fake_queue_depth Queued requests
# TYPE fake_queue_depth gauge
fake_queue_depth 5
# HELP fake_latency_seconds Latency
# TYPE fake_latency_seconds histogram
fake_latency_seconds_count{model="m"} 4
fake_latency_seconds_sum{model="m"} 6.05
fake_latency_seconds_bucket{model="m",le="0.1"} 1
fake_latency_seconds_bucket{model="m",le="0.5"} 2
fake_latency_seconds_bucket{model="m",le="1"} 3
fake_latency_seconds_bucket{model="m",le="+Inf"} 4
`;

Deno.test("custom metric families, labels and histograms in Prometheus text", () =>
  withFakeBlsHost((host, modelDir) => {
    const model = loadMetricsModel(host, modelDir);
    assertEquals(run(model, "create"), {
      counter_value: 4.5,
      gauge_value: 5,
      histogram_kind: 2,
      create_code: "none",
    });
    assertEquals(host.metricsText(), EXPECTED_TEXT);
    // Deleting the metrics removes their series; empty families are not shown.
    run(model, "delete");
    assertEquals(host.metricsText(), "");
    assertEquals(host.violations().live.metrics, 0);
    model.unload();
  }));

Deno.test("the rules Triton enforces on metrics, and the violations they count", () =>
  withFakeBlsHost((host, modelDir) => {
    const model = loadMetricsModel(host, modelDir);
    run(model, "create");
    const errors = run(model, "errors");
    const expected: Record<string, [string, string]> = {
      other_kind: ["Invalid argument", "Family name already exists with different type"],
      bad_name: ["Invalid argument", "Invalid metric name"],
      negative_increment: [
        "Invalid argument",
        "TRITONSERVER_METRIC_KIND_COUNTER can only be incremented monotonically by " +
        "non-negative values.",
      ],
      counter_set: ["Unsupported", "TRITONSERVER_METRIC_KIND_COUNTER does not support Set"],
      gauge_observe: ["Unsupported", "TRITONSERVER_METRIC_KIND_GAUGE does not support Observe"],
      histogram_value: ["Unsupported", "TRITONSERVER_METRIC_KIND_HISTOGRAM does not support Value"],
      histogram_increment: [
        "Unsupported",
        "TRITONSERVER_METRIC_KIND_HISTOGRAM does not support Increment",
      ],
      histogram_without_buckets: [
        "Invalid argument",
        "Bucket boundaries not found in Metric args.",
      ],
      histogram_args_unset: ["Invalid argument", "Metric args not set to histogram kind."],
      unsorted_buckets: ["Invalid argument", "Bucket Boundaries must be strictly sorted"],
      counter_with_args: [
        "Invalid argument",
        "Unexpected args found in counter Metric constructor.",
      ],
      bad_label: ["Invalid argument", "Invalid label name"],
      int_label: [
        "Invalid argument",
        "Parameter [number] must have a type of TRITONSERVER_PARAMETER_STRING to be added as a " +
        "label.",
      ],
      family_with_metrics: [
        "Internal",
        "Must call MetricDelete on all dependent metrics before calling MetricFamilyDelete.",
      ],
      metric_twice: ["Invalid argument", "invalid metric"],
    };
    for (const [name, [code, message]] of Object.entries(expected)) {
      assertEquals([errors[`${name}_code`], errors[`${name}_message`]], [code, message], name);
    }
    assertEquals(errors.bytes_parameter_null, true);
    const { violations } = host.violations();
    assertEquals(violations.metric_family_deleted_with_metrics, 1);
    assertEquals(violations.deleted_twice, 1);
    host.resetViolations();
    // The failed calls changed nothing that is shown.
    assertEquals(host.metricsText(), EXPECTED_TEXT);
    // Unloading finalizes the instance, which deletes what is left.
    model.unload();
    assertEquals(host.metricsText(), "");
  }));

Deno.test("a family name keeps its kind after its handles are gone, until reset", () =>
  withFakeBlsHost((host, modelDir) => {
    const first = loadMetricsModel(host, modelDir);
    run(first, "create");
    run(first, "delete");
    // Triton never unregisters a family name: another kind is still refused.
    assertEquals(run(first, "errors").other_kind_code, "Invalid argument");
    first.unload();
    host.resetMetrics();
    host.resetViolations(); // "errors" broke the rules on purpose
    const second = host.loadModel(modelDir, {
      configText: fakeBlsConfig("metrics2", "metrics"),
    });
    assertEquals(run(second, "create").create_code, "none");
    assertEquals(host.metricsText(), EXPECTED_TEXT);
    second.unload();
  }));
