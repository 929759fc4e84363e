/**
 * End-to-end: custom metrics through the test host and the real backend.
 * The model API queues metric operations, the stub sends them as METRICS
 * records, and the parent applies them through Triton's metrics API; what
 * Triton would serve on its metrics endpoint is `host.metricsText()`.
 * Also: two instances sharing families, a restarted stub, names the model
 * API would refuse sent by a model that defeated its checks
 * (tests/fixtures/forged_metrics), refused item by item with warnings while
 * requests still succeed, and a decoupled model. Batches that do not frame
 * and items no encoder would write are refused by the parent's reader in
 * tests/wire/wire_test.ts and tests/units/metrics_check.c.
 */

import { assert, assertEquals, assertStringIncludes } from "./harness/assert.ts";
import { exampleModelDir, fixtureDir } from "./harness/fixtures.ts";
import type { Host, InferRequest, LoadedModel, RequestResult } from "./harness/host.ts";
import { findStubPids, isGone, waitFor } from "./harness/processes.ts";
import { withHost } from "./harness/session.ts";

const CUSTOM = exampleModelDir("custom_metrics");
const FORGED = fixtureDir("forged_metrics");
const REFUSED = "custom metric operation refused";

function fp32(id: string, values: number[]): InferRequest {
  return {
    id,
    inputs: [{
      name: "INPUT0",
      datatype: "FP32",
      shape: [values.length],
      data: new Float32Array(values),
    }],
  };
}

function payload(id: string, batch: unknown): InferRequest {
  const text = typeof batch === "string" ? batch : JSON.stringify(batch);
  return { id, inputs: [{ name: "PAYLOAD", datatype: "BYTES", shape: [1], data: [text] }] };
}

/** The samples of a Prometheus text exposition: `name{labels}` -> value. */
function samples(text: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    found.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return found;
}

function assertSucceeded(results: RequestResult[], expectedErrors: (string | null)[] = []): void {
  results.forEach((result, i) => {
    const expected = expectedErrors[i] ?? null;
    if (expected === null) {
      assertEquals(result.error, null, `request '${result.id}' failed`);
    } else {
      assertStringIncludes(result.error?.message ?? "", expected);
    }
    assertEquals(result.releaseCount, 1);
    assert(result.final, `request '${result.id}' got no FINAL response`);
  });
}

function counterOf(host: Host): { ok: number | undefined; refused: number | undefined } {
  const values = samples(host.metricsText());
  return {
    ok: values.get('custom_metrics_requests_total{outcome="ok"}'),
    refused: values.get('custom_metrics_requests_total{outcome="refused"}'),
  };
}

/** Lines of the host's log that refuse a metric operation. */
function refusals(host: Host): string[] {
  return host.log().split("\n").filter((line) => line.includes(REFUSED));
}

/** Runs `body` with metric names of earlier tests forgotten, then checks nothing is left. */
function withMetrics(body: (host: Host) => void | Promise<void>): Promise<void> {
  return withHost(async (host) => {
    host.resetMetrics();
    host.clearLog();
    await body(host);
    assertEquals(host.metricsText(), "", "metrics left after the models were unloaded");
    host.resetMetrics();
  });
}

Deno.test("custom_metrics: counter, gauge and histogram values after several batches", () =>
  withMetrics((host) => {
    const model = host.loadModel(CUSTOM, { instanceCount: 1 });
    assertSucceeded(model.execute(0, [fp32("r1", [1, 2, 3]), fp32("r2", [0.5, 50])]));
    assertSucceeded(
      model.execute(0, [fp32("r3", [NaN, 1]), fp32("r4", [-1, 200, 7])]),
      ["INPUT0[0] is NaN"],
    );
    const values = samples(host.metricsText());
    assertEquals(Object.fromEntries(values), {
      'custom_metrics_requests_total{outcome="ok"}': 3,
      'custom_metrics_requests_total{outcome="refused"}': 1,
      "custom_metrics_last_input_size": 3,
      "custom_metrics_input_value_count": 8,
      "custom_metrics_input_value_sum": 262.5,
      'custom_metrics_input_value_bucket{le="0"}': 1,
      'custom_metrics_input_value_bucket{le="1"}': 3,
      'custom_metrics_input_value_bucket{le="10"}': 6,
      'custom_metrics_input_value_bucket{le="100"}': 7,
      'custom_metrics_input_value_bucket{le="+Inf"}': 8,
    });
    assertStringIncludes(
      host.metricsText(),
      "# HELP custom_metrics_requests_total Requests executed, by outcome\n" +
        "# TYPE custom_metrics_requests_total counter\n",
    );
    assertEquals(refusals(host), []);
    model.unload();
  }));

Deno.test("custom_metrics: two instances share each family and add up the same series", () =>
  withMetrics((host) => {
    const model = host.loadModel(CUSTOM);
    assertEquals(model.instanceCount, 2);
    assertSucceeded(model.execute(0, [fp32("a", [1, 2])]));
    assertSucceeded(model.execute(1, [fp32("b", [3]), fp32("c", [4, 5, 6])]));
    const text = host.metricsText();
    assertEquals(text.split("# TYPE custom_metrics_requests_total counter").length, 2);
    assertEquals(counterOf(host), { ok: 3, refused: 0 });
    const values = samples(text);
    assertEquals(values.get("custom_metrics_input_value_count"), 6);
    assertEquals(values.get("custom_metrics_input_value_sum"), 21);
    // The gauge is one series that both set; the last set wins.
    assertEquals(values.get("custom_metrics_last_input_size"), 3);
    assertEquals(refusals(host), []);
    model.unload();
  }));

Deno.test({
  name: "custom_metrics: a restarted stub numbers its metrics afresh; the other instance's stay",
  // Kills a stub while the host holds the model.
  sanitizeOps: false,
  fn: () =>
    withMetrics(async (host) => {
      const model = host.loadModel(CUSTOM);
      assertSucceeded(model.execute(0, [fp32("a", [1])]));
      assertSucceeded(model.execute(1, [fp32("b", [2])]));
      const [victim] = findStubPids(CUSTOM);
      Deno.kill(victim, "SIGKILL");
      assert(await waitFor(() => isGone(victim), 5_000), "the killed stub was not reaped");
      // One of these finds its stub dead and restarts it; the new stub
      // declares its families and metrics again, from id 1.
      assertSucceeded(model.execute(0, [fp32("c", [3])]));
      assertSucceeded(model.execute(1, [fp32("d", [4])]));
      assertStringIncludes(host.log(), "restarted (pid");
      assertEquals(refusals(host), []);
      // The other instance kept the shared series alive, so nothing was lost.
      assertEquals(counterOf(host), { ok: 4, refused: 0 });
      assertEquals(samples(host.metricsText()).get("custom_metrics_input_value_sum"), 10);
      model.unload();
    }),
});

Deno.test({
  name: "custom_metrics: the metrics of a lone stub that restarted start over",
  sanitizeOps: false,
  fn: () =>
    withMetrics(async (host) => {
      const model = host.loadModel(CUSTOM, { instanceCount: 1 });
      assertSucceeded(model.execute(0, [fp32("a", [1, 2])]));
      const [victim] = findStubPids(CUSTOM);
      Deno.kill(victim, "SIGKILL");
      assert(await waitFor(() => isGone(victim), 5_000), "the killed stub was not reaped");
      assertSucceeded(model.execute(0, [fp32("b", [5])]));
      assertEquals(refusals(host), []);
      assertEquals(counterOf(host), { ok: 1, refused: 0 });
      const values = samples(host.metricsText());
      assertEquals(values.get("custom_metrics_input_value_count"), 1);
      assertEquals(values.get("custom_metrics_input_value_sum"), 5);
      model.unload();
    }),
});

/** A step of the forged fixture (tests/fixtures/forged_metrics/1/model.ts). */
interface Step {
  family: string;
  kind: "counter" | "gauge" | "histogram";
  description?: string;
  labels?: Record<string, string>;
  op?: ["inc" | "set", number];
}

/** The forged fixture's first, valid steps: a counter and a gauge with one metric each. */
const VALID_STEPS: Step[] = [
  { family: "forged_total", kind: "counter", labels: { a: "x" }, op: ["inc", 2] },
  { family: "forged_gauge", kind: "gauge", labels: {}, op: ["set", 7] },
];

function steps(id: string, list: Step[]): InferRequest {
  return payload(id, JSON.stringify(list));
}

function loadForged(host: Host): LoadedModel {
  const model = host.loadModel(FORGED);
  assertSucceeded(model.execute(0, [steps("valid", VALID_STEPS)]));
  assertEquals(Object.fromEntries(samples(host.metricsText())), {
    'forged_total{a="x"}': 2,
    "forged_gauge": 7,
  });
  return model;
}

Deno.test("what the model API's checks would refuse, the parent refuses item by item", () =>
  withMetrics((host) => {
    const model = loadForged(host);
    host.clearLog();
    // The fixture defeats the API's name checks in its realm; the METRICS
    // batch is then the runtime's own encoding of invalid names.
    assertSucceeded(model.execute(0, [steps("hostile", [
      { family: "1bad", kind: "gauge" },
      { family: "nv_inference_count", kind: "counter" },
      { family: "__reserved_family", kind: "gauge" },
      { family: "forged_total", kind: "counter", labels: { "bad-name": "v" }, op: ["inc", 1] },
      { family: "forged_total", kind: "counter", labels: { __reserved: "v" } },
    ])]));
    const lines = refusals(host);
    const reasons = [
      "family '1bad' (id 5): the name must match",
      "family 'nv_inference_count' (id 6): names that start with nv_ are Triton's own metrics",
      "family '__reserved_family' (id 7): the name must match",
      "metric id 8: label name 'bad-name' must match",
      "metric id 9: label name '__reserved' must match",
      "inc 1 on metric id 8: no metric has this id",
    ];
    assertEquals(lines.length, reasons.length, lines.join("\n"));
    reasons.forEach((reason, i) => {
      assertStringIncludes(lines[i], "model 'forged_metrics', instance 'forged_metrics_0'");
      assertStringIncludes(lines[i], reason);
    });
    // Nothing changed, and the model still serves and reports.
    assertEquals(Object.fromEntries(samples(host.metricsText())), {
      'forged_total{a="x"}': 2,
      "forged_gauge": 7,
    });
    assertSucceeded(model.execute(0, [steps("after", [{ ...VALID_STEPS[0], op: ["inc", 1] }])]));
    assertEquals(samples(host.metricsText()).get('forged_total{a="x"}'), 3);
    model.unload();
  }));

Deno.test("refusal warnings are rate-limited per instance, and the dropped ones are counted", () =>
  withMetrics(async (host) => {
    const model = loadForged(host);
    host.clearLog();
    const flood = Array.from(
      { length: 100 },
      (_, i): Step => ({ family: `1bad_${i}`, kind: "gauge" }),
    );
    assertSucceeded(model.execute(0, [steps("flood", flood)]));
    const logged = refusals(host);
    assertEquals(logged.length, 20, "the burst allowance");
    await new Promise((resolve) => setTimeout(resolve, 450));
    host.clearLog();
    assertSucceeded(model.execute(0, [steps("later", [{ family: "2bad", kind: "gauge" }])]));
    const [later] = refusals(host);
    assertStringIncludes(later, "family '2bad'");
    assertStringIncludes(later, "[80 earlier warning(s) about its metrics suppressed]");
    model.unload();
  }));

Deno.test("a decoupled model's metrics arrive through the decoupled path", () =>
  withMetrics(async (host) => {
    const model = host.loadModel(fixtureDir("decoupled_metrics"));
    const results = model.execute(0, [fp32("a", [1, 2, 3]), fp32("b", [4])]);
    assertSucceeded(results);
    assertEquals(results.map((r) => r.responses.filter((response) => !response.flagsOnly).length), [
      3,
      1,
    ]);
    assertSucceeded(model.execute(0, [fp32("c", [5, 6])]));
    // The last batch's METRICS record may still be on its way when the
    // responses are in: the parent reads it on its pump thread.
    const total = () => samples(host.metricsText()).get("decoupled_metrics_responses_total");
    await waitFor(() => total() === 6, 5_000);
    assertEquals(total(), 6);
    assertEquals(refusals(host), []);
    model.unload();
  }));

Deno.test("a model cannot write into another model's metric family, nor into Triton's", () =>
  withMetrics((host) => {
    const owner = host.loadModel(CUSTOM, { instanceCount: 1 });
    assertSucceeded(owner.execute(0, [fp32("r1", [1])]));
    assertEquals(counterOf(host).ok, 1);
    const intruder = host.loadModel(FORGED);
    host.clearLog();
    assertSucceeded(intruder.execute(0, [steps("squat", [
      {
        family: "custom_metrics_requests_total",
        kind: "counter",
        labels: { outcome: "ok" },
        op: ["inc", 1e9],
      },
      { family: "nv_inference_count", kind: "counter" },
    ])]));
    assertEquals(counterOf(host).ok, 1, "the owner's series moved");
    const lines = refusals(host).join("\n");
    assertStringIncludes(
      lines,
      "family 'custom_metrics_requests_total' (id 1) belongs to another model",
    );
    assertStringIncludes(lines, "names that start with nv_ are Triton's own metrics");
    intruder.unload();
    owner.unload();
  }));
