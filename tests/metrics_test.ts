/**
 * End-to-end: custom metrics through the test host and the real backend.
 * The model API queues metric operations, the stub sends them as METRICS
 * records, and the parent applies them through Triton's metrics API; what
 * Triton would serve on its metrics endpoint is `host.metricsText()`.
 * Also: two instances sharing families, a restarted stub, forged batches
 * (tests/fixtures/forged_metrics) refused item by item with warnings while
 * requests still succeed, and a decoupled model.
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

/** The forged fixture's first, valid batch: a counter and a gauge with one metric each. */
const VALID_BATCH = {
  families: [
    { id: 1, name: "forged_total", description: "A forged counter", kind: "counter" },
    { id: 2, name: "forged_gauge", description: "A forged gauge", kind: "gauge" },
  ],
  metrics: [{ id: 3, family: 1, labels: { a: "x" } }, { id: 4, family: 2, labels: {} }],
  updates: [[3, "inc", 2], [4, "set", 7]],
  deletes: { metrics: [], families: [] },
};

function emptyBatch(parts: Record<string, unknown>): Record<string, unknown> {
  return {
    families: [],
    metrics: [],
    updates: [],
    deletes: { metrics: [], families: [] },
    ...parts,
  };
}

function loadForged(host: Host): LoadedModel {
  const model = host.loadModel(FORGED);
  assertSucceeded(model.execute(0, [payload("valid", VALID_BATCH)]));
  assertEquals(Object.fromEntries(samples(host.metricsText())), {
    'forged_total{a="x"}': 2,
    "forged_gauge": 7,
  });
  return model;
}

Deno.test("forged METRICS items are refused one by one, logged, and requests still succeed", () =>
  withMetrics((host) => {
    const model = loadForged(host);
    host.clearLog();
    const hostile = emptyBatch({
      families: [
        { id: 1, name: "again", description: "", kind: "gauge" }, // id in use
        { id: 10, name: "1bad", description: "", kind: "gauge" }, // invalid name
        { id: 11, name: "forged_total", description: "", kind: "gauge" }, // another kind
        { id: 12, name: "summary_x", description: "", kind: "summary" }, // unknown kind
        { id: 13, name: "extra", description: "", kind: "gauge", more: 1 }, // unknown member
      ],
      metrics: [
        { id: 20, family: 1, labels: { "bad-name": "v" } },
        { id: 21, family: 1, labels: { __reserved: "v" } },
        { id: 22, family: 1, labels: { a: 5 } },
        { id: 23, family: 42, labels: {} }, // unknown family
        { id: 24, family: 2, labels: {}, buckets: [1, 2] }, // buckets on a gauge
        { id: 1.5, family: 1, labels: {} }, // not a whole id
      ],
      updates: [
        [99, "inc", 1], // unknown metric
        [3, "set", 5], // a counter set
        [3, "inc", -1], // a counter decremented
        [4, "observe", 1], // a gauge observed
        [4, "add", 1], // unknown operation
        [4, "set"], // short
      ],
      deletes: { metrics: [77], families: [78] },
    });
    assertSucceeded(model.execute(0, [payload("hostile", hostile)]));
    const lines = refusals(host);
    const reasons = [
      "deleting metric id 77: no metric has this id",
      "deleting family id 78: no family has this id",
      "family 'again': id 1 is already in use",
      "family '1bad' (id 10): the name must match",
      "family 'forged_total' (id 11) declared a gauge, but the model already has it as a counter",
      "kind 'summary' is not counter, gauge or histogram",
      "a family has an unknown member 'more'",
      "label name 'bad-name' must match",
      "label name '__reserved' must match",
      "label 'a' must be a string, got a number",
      "metric id 23: its family id 42 is unknown",
      "buckets are for histograms, and its family is a gauge",
      "id 1.5 is not a whole number",
      "inc 1 on metric id 99: no metric has this id",
      "set 5 on metric id 3 of counter 'forged_total': only a gauge can be set",
      "inc -1 on metric id 3 of counter 'forged_total': a counter only increases",
      "observe 1 on metric id 4 of gauge 'forged_gauge': only a histogram observes",
      "operation 'add' is not inc, set or observe",
      "an update must be [id, operation, value], got an array of another length",
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
    assertSucceeded(model.execute(0, [payload("after", emptyBatch({ updates: [[3, "inc", 1]] }))]));
    assertEquals(samples(host.metricsText()).get('forged_total{a="x"}'), 3);
    model.unload();
  }));

Deno.test("a forged METRICS batch of the wrong shape is refused whole", () =>
  withMetrics((host) => {
    const model = loadForged(host);
    host.clearLog();
    const cases: [string | Record<string, unknown>, string][] = [
      ["not json", "the batch is not readable: invalid JSON at byte 0"],
      [{ families: [] }, 'the batch must have "metrics", an array; it has none'],
      [emptyBatch({ updates: {} }), 'the batch must have "updates", an array; it has an object'],
      [emptyBatch({ extra: 1 }), "the batch has an unknown member 'extra'"],
      [emptyBatch({ updates: [[3, "inc", null]] }), "null is not accepted here"],
      ['{"families":[[[[[[1]]]]]]}', "objects and arrays nested too deeply"],
      [
        '{"families":[],"metrics":[],"updates":[[3,"inc",1e999]],"deletes":{"metrics":[],"families":[]}}',
        "the number 1e999 is too large for a double",
      ],
      [
        emptyBatch({
          metrics: [{
            id: 9,
            family: 1,
            labels: Object.fromEntries(
              Array.from({ length: 65 }, (_, i) => [`l${i}`, "v"]),
            ),
          }],
        }),
        "an object with more than 64 members",
      ],
    ];
    for (const [index, [batch, reason]] of cases.entries()) {
      const text = typeof batch === "string" ? batch : JSON.stringify(batch);
      assertSucceeded(model.execute(0, [payload(`case-${index}`, text)]));
      const lines = host.log().split("\n").filter((line) => line.includes("refused whole"));
      assertEquals(lines.length, 1, `case ${index}: ${host.log()}`);
      assertStringIncludes(lines[0], reason, `case ${index}`);
      assertStringIncludes(lines[0], "model 'forged_metrics', instance 'forged_metrics_0'");
      host.clearLog();
    }
    assertEquals(samples(host.metricsText()).get('forged_total{a="x"}'), 2);
    model.unload();
  }));

Deno.test("refusal warnings are rate-limited per instance, and the dropped ones are counted", () =>
  withMetrics(async (host) => {
    const model = loadForged(host);
    host.clearLog();
    const updates = Array.from({ length: 100 }, (_, i) => [1000 + i, "inc", 1]);
    assertSucceeded(model.execute(0, [payload("flood", emptyBatch({ updates }))]));
    const logged = refusals(host);
    assertEquals(logged.length, 20, "the burst allowance");
    await new Promise((resolve) => setTimeout(resolve, 450));
    host.clearLog();
    assertSucceeded(
      model.execute(0, [payload("later", emptyBatch({ updates: [[5000, "inc", 1]] }))]),
    );
    const [later] = refusals(host);
    assertStringIncludes(later, "inc 1 on metric id 5000");
    assertStringIncludes(later, "[80 earlier warning(s) about its metrics suppressed]");
    model.unload();
  }));

Deno.test("forged histograms: buckets are checked, and a valid one is observed", () =>
  withMetrics((host) => {
    const model = loadForged(host);
    host.clearLog();
    const batch = emptyBatch({
      families: [{ id: 30, name: "forged_seconds", description: "h", kind: "histogram" }],
      metrics: [
        { id: 31, family: 30, labels: {} }, // no buckets
        { id: 32, family: 30, labels: { le: "1" }, buckets: [1] }, // reserved label
        { id: 33, family: 30, labels: { k: "a" }, buckets: [2, 1] }, // not increasing
        { id: 34, family: 30, labels: { k: "b" }, buckets: [0.5, 1] },
      ],
      updates: [[34, "observe", 0.75], [34, "inc", 1]],
    });
    assertSucceeded(model.execute(0, [payload("histogram", batch)]));
    const lines = refusals(host);
    const reasons = [
      'metric id 31: a histogram needs "buckets"',
      "label name 'le' is reserved for histogram buckets",
      "buckets must be strictly increasing, but bucket 1 (1) follows 2",
      "inc 1 on metric id 34 of histogram 'forged_seconds': a histogram is observed",
    ];
    assertEquals(lines.length, reasons.length, lines.join("\n"));
    reasons.forEach((reason, i) => assertStringIncludes(lines[i], reason));
    const values = samples(host.metricsText());
    assertEquals(values.get('forged_seconds_count{k="b"}'), 1);
    assertEquals(values.get('forged_seconds_bucket{k="b",le="0.5"}'), 0);
    assertEquals(values.get('forged_seconds_bucket{k="b",le="1"}'), 1);
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
    assertSucceeded(intruder.execute(0, [
      payload(
        "squat",
        emptyBatch({
          families: [
            { id: 1, name: "custom_metrics_requests_total", description: "", kind: "counter" },
            { id: 2, name: "nv_inference_count", description: "", kind: "counter" },
          ],
          metrics: [{ id: 3, family: 1, labels: { outcome: "ok" } }],
          updates: [[3, "inc", 1e9]],
        }),
      ),
    ]));
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
