import { assert, assertEquals, assertThrows } from "./_test_assert.ts";
import { ErrorCode, TritonError } from "./error.ts";
import { drainMetricOps, Metric, METRIC_KIND_CODES, MetricFamily } from "./metrics.ts";

interface Batch {
  families: { id: number; name: string; description: string; kind: string }[];
  metrics: { id: number; family: number; labels: Record<string, string>; buckets?: number[] }[];
  updates: [number, "inc" | "set" | "observe", number][];
  deletes: { metrics: number[]; families: number[] };
}

/** The next batch as plain data (what the wire encoder is given). */
function drain(): Batch | undefined {
  const batch = drainMetricOps();
  return batch === undefined ? undefined : JSON.parse(JSON.stringify(batch)) as Batch;
}

/** Drains what earlier tests left, so each test sees only its own operations. */
function fresh(): void {
  drainMetricOps();
}

function ids(batch: Batch): { family: number; metric: number } {
  return { family: batch.families[0].id, metric: batch.metrics[0].id };
}

Deno.test("kinds map to TRITONSERVER_MetricKind codes", () => {
  assertEquals(METRIC_KIND_CODES, { counter: 0, gauge: 1, histogram: 2 });
});

Deno.test("a new family and metric, and their updates, arrive in one batch", () => {
  fresh();
  const family = new MetricFamily({
    name: "t_requests_total",
    description: "Requests",
    kind: "counter",
  });
  const metric = family.metric({ labels: { route: "infer", code: "200" } });
  metric.increment(1);
  metric.increment(2);
  const batch = drain();
  assert(batch !== undefined);
  const { family: familyId, metric: metricId } = ids(batch);
  assertEquals(batch, {
    families: [{
      id: familyId,
      name: "t_requests_total",
      description: "Requests",
      kind: "counter",
    }],
    metrics: [{ id: metricId, family: familyId, labels: { route: "infer", code: "200" } }],
    updates: [[metricId, "inc", 3]],
    deletes: { metrics: [], families: [] },
  });
  assert(familyId !== metricId);
  assertEquals(drainMetricOps(), undefined);
  metric.increment(0.5);
  assertEquals(drain()?.updates, [[metricId, "inc", 0.5]]);
  assertEquals(metric.value, 3.5);
  family.delete();
});

Deno.test("increments merge only where Triton's sum would be exactly the local value", () => {
  fresh();
  const family = new MetricFamily({ name: "t_exact", description: "", kind: "gauge" });
  const metric = family.metric();
  const metricId = ids(drain()!).metric;
  metric.increment(0.1);
  assertEquals(drain()!.updates, [[metricId, "inc", 0.1]]);
  // Triton holds 0.1 now. (0.1 + 0.2) + 0.3 is not 0.1 + (0.2 + 0.3), so
  // merging the two would leave Triton off from the local value.
  metric.increment(0.2);
  metric.increment(0.3);
  const updates = drain()!.updates;
  assertEquals(updates, [[metricId, "inc", 0.2], [metricId, "inc", 0.3]]);
  let remote = 0.1;
  for (const [, , value] of updates) remote += value;
  assertEquals(remote, metric.value);
  assertEquals(metric.value, 0.1 + 0.2 + 0.3);
  // From zero, merging is always exact: 0 + (a + b) is (0 + a) + b.
  const other = family.metric({ labels: { from: "zero" } });
  const otherId = drain()!.metrics[0].id;
  other.increment(0.1);
  other.increment(0.2);
  assertEquals(drain()!.updates, [[otherId, "inc", 0.1 + 0.2]]);

  // Counting whole things (integers below 2^53) always merges.
  const counted = family.metric({ labels: { counts: "items" } });
  counted.increment(7);
  const countedId = drain()!.metrics[0].id;
  for (let i = 0; i < 1000; i++) counted.increment(1);
  assertEquals(drain()!.updates, [[countedId, "inc", 1000]]);
  assertEquals(counted.value, 1007);
  family.delete();
});

Deno.test("set overrides queued updates, and increments after a set fold into it", () => {
  fresh();
  const family = new MetricFamily({ name: "t_gauge", description: "g", kind: "gauge" });
  const metric = family.metric({ labels: { q: "a" } });
  const metricId = ids(drain()!).metric;
  metric.increment(5);
  metric.set(2);
  metric.increment(-0.5);
  metric.increment(3);
  assertEquals(drain()!.updates, [[metricId, "set", 4.5]]);
  assertEquals(metric.value, 4.5);
  metric.increment(-10);
  assertEquals(drain()!.updates, [[metricId, "inc", -10]]);
  assertEquals(metric.value, -5.5);
  family.delete();
});

Deno.test("updates of different metrics are kept apart, each in its own order", () => {
  fresh();
  const family = new MetricFamily({ name: "t_two", description: "", kind: "counter" });
  const a = family.metric({ labels: { which: "a" } });
  const b = family.metric({ labels: { which: "b" } });
  const batch = drain()!;
  const [aId, bId] = batch.metrics.map((metric) => metric.id);
  a.increment(1);
  b.increment(2);
  a.increment(3);
  b.increment(4);
  assertEquals(drain()!.updates, [[aId, "inc", 4], [bId, "inc", 6]]);
  a.increment(0);
  assertEquals(drainMetricOps(), undefined, "a zero increment changes nothing");
  family.delete();
});

Deno.test("histogram observations are each sent; value is sum and count", () => {
  fresh();
  const family = new MetricFamily({ name: "t_latency", description: "s", kind: "histogram" });
  const metric = family.metric({ labels: { stage: "pre" }, buckets: [0.1, 1, 10] });
  metric.observe(0.5);
  metric.observe(2);
  metric.observe(0.5);
  const batch = drain()!;
  const { metric: metricId } = ids(batch);
  assertEquals(batch.metrics[0].buckets, [0.1, 1, 10]);
  assertEquals(batch.updates, [
    [metricId, "observe", 0.5],
    [metricId, "observe", 2],
    [metricId, "observe", 0.5],
  ]);
  assertEquals(metric.value, { sum: 3, count: 3 });
  assertEquals(metric.buckets, [0.1, 1, 10]);
  assert(Object.isFrozen(metric.buckets) && Object.isFrozen(metric.value));
  family.delete();
});

Deno.test("operations a kind does not support throw UNSUPPORTED naming the metric", () => {
  fresh();
  const counters = new MetricFamily({ name: "t_c", description: "", kind: "counter" });
  const gauges = new MetricFamily({ name: "t_g", description: "", kind: "gauge" });
  const histograms = new MetricFamily({ name: "t_h", description: "", kind: "histogram" });
  const counter = counters.metric({ labels: { a: "1" } });
  const gauge = gauges.metric();
  const histogram = histograms.metric({ buckets: [1] });
  const cases: [() => void, string][] = [
    [() => counter.set(1), 'metric t_c{a="1"} is a counter: only gauges support set()'],
    [() => counter.observe(1), 'metric t_c{a="1"} is a counter: only histograms support observe()'],
    [() => gauge.observe(1), "metric t_g is a gauge: only histograms support observe()"],
    [() => histogram.increment(1), "metric t_h is a histogram: use observe(), not increment()"],
    [() => histogram.set(1), "metric t_h is a histogram: only gauges support set()"],
  ];
  for (const [operation, message] of cases) {
    assertEquals(assertThrows(operation, TritonError, message).code, ErrorCode.UNSUPPORTED);
  }
  const negative = assertThrows(
    () => counter.increment(-1),
    TritonError,
    'metric t_c{a="1"} is a counter: increment(-1) must not be negative',
  );
  assertEquals(negative.code, ErrorCode.INVALID_ARG);
  for (const bad of [NaN, Infinity, "1" as unknown as number]) {
    const error = assertThrows(
      () => gauge.set(bad),
      TritonError,
      "metric t_g: set() needs a finite number",
    );
    assertEquals(error.code, ErrorCode.INVALID_ARG);
  }
  // Nothing that failed was queued or counted.
  assertEquals(drain()!.updates, []);
  assertEquals([counter.value, gauge.value, histogram.value], [0, 0, { sum: 0, count: 0 }]);
  for (const family of [counters, gauges, histograms]) family.delete();
});

Deno.test("family names follow Prometheus' syntax; duplicates are refused", () => {
  fresh();
  const bad: unknown[] = ["", "1abc", "a-b", "a b", "__reserved", "ü", 7, undefined];
  for (const name of bad) {
    const error = assertThrows(
      () => new MetricFamily({ name: name as string, description: "", kind: "counter" }),
      TritonError,
      "is invalid: it must match [a-zA-Z_:][a-zA-Z0-9_:]* and not start with '__'",
    );
    assertEquals(error.code, ErrorCode.INVALID_ARG);
  }
  for (const name of ["a", "_a", ":a:b_1", "A9"]) {
    new MetricFamily({ name: `t_ok${name}`, description: "", kind: "gauge" }).delete();
  }
  assertThrows(
    () => new MetricFamily({ name: "nv_inference_count", description: "", kind: "counter" }),
    TritonError,
    "names that start with nv_ belong to Triton's own metrics",
  );
  assertThrows(
    () => new MetricFamily({ name: "t_k", description: "", kind: "summary" as "gauge" }),
    TritonError,
    `metric family 't_k': kind must be "counter", "gauge" or "histogram", got a string ("summary")`,
  );
  assertThrows(
    () => new MetricFamily({ name: "t_k", description: 5 as unknown as string, kind: "gauge" }),
    TritonError,
    "metric family 't_k': description must be a string, got a number (5)",
  );
  assertThrows(
    () => new MetricFamily(null as never),
    TritonError,
    "MetricFamily needs { name, description, kind }, got null",
  );
  const first = new MetricFamily({ name: "t_dup", description: "", kind: "gauge" });
  assertThrows(
    () => new MetricFamily({ name: "t_dup", description: "", kind: "counter" }),
    TritonError,
    "metric family 't_dup' already exists in this model; reuse it or delete() it first",
  );
  first.delete();
  new MetricFamily({ name: "t_dup", description: "", kind: "counter" }).delete();
});

Deno.test("labels and buckets are checked, naming the family", () => {
  fresh();
  const counters = new MetricFamily({ name: "t_labels", description: "", kind: "counter" });
  const histograms = new MetricFamily({ name: "t_buckets", description: "", kind: "histogram" });
  const cases: [() => unknown, string][] = [
    [
      () => counters.metric({ labels: { "bad-name": "x" } }),
      `metric family 't_labels': label name "bad-name" is invalid`,
    ],
    [() => counters.metric({ labels: { __x: "x" } }), `label name "__x" is invalid`],
    [() => counters.metric({ labels: { "9": "x" } }), `label name "9" is invalid`],
    [
      () => counters.metric({ labels: { a: 1 as unknown as string } }),
      "metric family 't_labels': label 'a' must be a string, got a number (1)",
    ],
    [
      () => counters.metric({ labels: ["a"] as unknown as Record<string, string> }),
      "metric family 't_labels': labels must be an object of strings, got an array",
    ],
    [
      () => counters.metric({ buckets: [1] }),
      "metric family 't_labels': buckets are for histograms, not a counter",
    ],
    [
      () => histograms.metric(),
      "metric family 't_buckets': a histogram metric needs buckets, an array of upper bounds; got undefined",
    ],
    [
      () => histograms.metric({ buckets: [1, 1] }),
      "buckets must be strictly increasing, but bucket 1 (1) follows 1",
    ],
    [() => histograms.metric({ buckets: [2, 1] }), "bucket 1 (1) follows 2"],
    [
      () => histograms.metric({ buckets: [1, Infinity] }),
      "metric family 't_buckets': bucket 1 must be a finite number, got a number (Infinity)",
    ],
    [() => histograms.metric({ buckets: [NaN] }), "bucket 0 must be a finite number"],
    [
      () => histograms.metric({ labels: { le: "1" }, buckets: [1] }),
      `label name "le" is reserved for histogram buckets`,
    ],
    [
      () => counters.metric({ labels: { a: "x".repeat(64 * 1024 + 1) } }),
      "the value of label 'a' is longer than 65536 bytes",
    ],
    [
      () => counters.metric("a" as never),
      "metric family 't_labels': metric() takes { labels?, buckets? }, got a string",
    ],
  ];
  for (const [build, message] of cases) {
    assertEquals(assertThrows(build, TritonError, message).code, ErrorCode.INVALID_ARG);
  }
  // An empty bucket list is a histogram with only the +Inf bucket.
  histograms.metric({ labels: { n: "0" }, buckets: [] }).observe(1);
  counters.metric({ labels: { le: "fine on a counter" } });
  counters.metric({ labels: { a: "1", b: "2" } });
  assertThrows(
    () => counters.metric({ labels: { b: "2", a: "1" } }),
    TritonError,
    `metric family 't_labels' already has a metric {b="2",a="1"}; reuse it or delete() it first`,
  );
  counters.delete();
  histograms.delete();
});

Deno.test("a metric is made only by its family", () => {
  assertThrows(
    () => new Metric(null as never, 1, {}, undefined, () => {}),
    TritonError,
    "a Metric is made by family.metric({ labels }), not with new Metric()",
  );
});

Deno.test("deleting sends deletes; created-and-deleted within a batch sends nothing", () => {
  fresh();
  const transient = new MetricFamily({ name: "t_transient", description: "", kind: "gauge" });
  transient.metric().set(1);
  transient.delete();
  assertEquals(drainMetricOps(), undefined);

  const family = new MetricFamily({ name: "t_del", description: "", kind: "gauge" });
  const kept = family.metric({ labels: { k: "kept" } });
  const gone = family.metric({ labels: { k: "gone" } });
  const batch = drain()!;
  const [keptId, goneId] = batch.metrics.map((metric) => metric.id);
  gone.set(3);
  kept.set(4);
  gone.delete();
  gone.delete(); // idempotent
  assert(gone.deleted && !kept.deleted);
  assertEquals(drain(), {
    families: [],
    metrics: [],
    updates: [[keptId, "set", 4]],
    deletes: { metrics: [goneId], families: [] },
  });
  const error = assertThrows(
    () => gone.set(1),
    TritonError,
    'metric t_del{k="gone"} was deleted; set() is not allowed',
  );
  assertEquals(error.code, ErrorCode.INVALID_ARG);

  // The same labels may be used again once deleted: deletes are applied first.
  const again = family.metric({ labels: { k: "gone" } });
  again.set(1);
  const recreated = drain()!;
  assertEquals(recreated.metrics.length, 1);
  assert(recreated.metrics[0].id !== goneId);

  const familyId = batch.families[0].id;
  family.delete();
  assert(family.deleted && kept.deleted && again.deleted);
  const final = drain()!;
  assertEquals(final.deletes.families, [familyId]);
  assertEquals(final.deletes.metrics.sort(), [keptId, recreated.metrics[0].id].sort());
  assertThrows(() => family.metric(), TritonError, "metric family 't_del' was deleted");
  family.delete();
  assertEquals(drainMetricOps(), undefined);
});

Deno.test("value reflects only accepted operations", () => {
  fresh();
  const family = new MetricFamily({ name: "t_value", description: "", kind: "counter" });
  const metric = family.metric();
  metric.increment(2);
  assertThrows(() => metric.increment(-1), TritonError);
  metric.increment(0.25);
  assertEquals(metric.value, 2.25);
  family.delete();
  assertEquals(metric.value, 2.25);
});
