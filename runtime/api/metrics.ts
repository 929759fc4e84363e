/**
 * Custom metrics a model reports through Triton's metrics endpoint, as
 * python_backend's `pb_utils.MetricFamily` offers them. Every operation is
 * checked at once, against Triton's rules, so a mistake fails at the line
 * that made it; then it is queued, and the runtime sends the queue to Triton
 * in batches ({@linkcode drainMetricOps}) instead of a round trip per update.
 * Each metric mirrors its value locally.
 *
 * @module
 */

import { describeValue } from "./describe.ts";
import { ErrorCode, TritonError } from "./error.ts";

/**
 * The kind of a metric family: a `counter` only goes up, a `gauge` goes up
 * and down, a `histogram` counts observations into buckets.
 *
 * @example
 * ```ts
 * import type { MetricKind } from "@triton/deno";
 *
 * const kind: MetricKind = "gauge";
 * console.log(kind);
 * ```
 */
export type MetricKind = "counter" | "gauge" | "histogram";

/**
 * `TRITONSERVER_MetricKind` codes of each {@linkcode MetricKind}.
 *
 * @internal For the runtime, which creates the families in Triton.
 */
export const METRIC_KIND_CODES: Readonly<Record<MetricKind, number>> = Object.freeze({
  counter: 0,
  gauge: 1,
  histogram: 2,
});

/**
 * What a {@linkcode MetricFamily} is created from.
 *
 * @example
 * ```ts
 * import type { MetricFamilyOptions } from "@triton/deno";
 *
 * const options: MetricFamilyOptions<"counter"> = {
 *   name: "requests_total",
 *   description: "Requests served",
 *   kind: "counter",
 * };
 * console.log(options.kind);
 * ```
 */
export interface MetricFamilyOptions<K extends MetricKind = MetricKind> {
  /** The metric name, matching `[a-zA-Z_:][a-zA-Z0-9_:]*` (not starting with `__`). */
  readonly name: string;
  /** The help text shown with the metric. */
  readonly description: string;
  /** The kind of every metric in the family. */
  readonly kind: K;
}

/**
 * What one {@linkcode Metric} of a family is created from.
 *
 * @example
 * ```ts
 * import type { MetricOptions } from "@triton/deno";
 *
 * const options: MetricOptions = { labels: { route: "/infer" }, buckets: [0.01, 0.1, 1] };
 * console.log(options.buckets?.length); // 3
 * ```
 */
export interface MetricOptions {
  /** Label names (`[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__`) and values. */
  readonly labels?: Readonly<Record<string, string>>;
  /** Histograms only, and required for them: finite upper bounds, strictly increasing. */
  readonly buckets?: readonly number[];
}

/**
 * The local value of a histogram: the sum and the count of its observations.
 *
 * @example
 * ```ts
 * import type { HistogramValue } from "@triton/deno";
 *
 * const value: HistogramValue = { sum: 1.5, count: 2 };
 * console.log(value.sum / value.count); // 0.75
 * ```
 */
export interface HistogramValue {
  /** The sum of every observed value. */
  readonly sum: number;
  /** How many values were observed. */
  readonly count: number;
}

/**
 * What {@linkcode Metric.value} holds for a kind: a number for counters and
 * gauges, a {@linkcode HistogramValue} for histograms.
 *
 * @example
 * ```ts
 * import type { MetricValue } from "@triton/deno";
 *
 * const value: MetricValue<"gauge"> = 3;
 * console.log(value);
 * ```
 */
export type MetricValue<K extends MetricKind> = K extends "histogram" ? HistogramValue : number;

/** Most labels one metric may have. */
export const MAX_METRIC_LABELS = 64;
/** Most buckets one histogram may have. */
export const MAX_HISTOGRAM_BUCKETS = 1024;
/** Longest name, description, label name or label value, in UTF-8 bytes. */
export const MAX_METRIC_TEXT_BYTES = 64 * 1024;

// Prometheus' (and so Triton's) syntax; names starting "__" are reserved.
const FAMILY_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

type UpdateOp = "inc" | "set" | "observe";

interface FamilyRecord {
  id: number;
  name: string;
  description: string;
  kind: MetricKind;
}

interface MetricRecord {
  id: number;
  family: number;
  labels: Record<string, string>;
  buckets?: number[];
}

/** The queued updates of one metric, kept minimal as they arrive. */
interface PendingUpdates {
  ops: [UpdateOp, number][];
  /** The metric's value before the last queued `inc` (to check merging is exact). */
  incBase: number;
}

// What the next drainMetricOps reports. Maps keep insertion order.
const newFamilies = new Map<number, FamilyRecord>();
const newMetrics = new Map<number, MetricRecord>();
const pendingUpdates = new Map<number, PendingUpdates>();
let deletedMetrics: number[] = [];
let deletedFamilies: number[] = [];

let nextId = 1;
const liveFamilies = new Map<string, MetricFamily>();

// Metrics come from family.metric(), never from model code directly.
let constructing = false;

/**
 * A family of metrics sharing a name, a description and a kind; each
 * {@linkcode Metric} in it has its own labels.
 *
 * @typeParam K The kind, which types `metric.value`.
 *
 * @example Count requests per route, and time them
 * ```ts
 * import { MetricFamily } from "@triton/deno";
 *
 * const requests = new MetricFamily({
 *   name: "example_requests_total",
 *   description: "Requests served",
 *   kind: "counter",
 * });
 * const infer = requests.metric({ labels: { route: "infer" } });
 * infer.increment(1);
 *
 * const latency = new MetricFamily({
 *   name: "example_latency_seconds",
 *   description: "Time per request",
 *   kind: "histogram",
 * }).metric({ buckets: [0.001, 0.01, 0.1, 1] });
 * latency.observe(0.004);
 * console.log(infer.value, latency.value); // 1 { sum: 0.004, count: 1 }
 * ```
 */
export class MetricFamily<K extends MetricKind = MetricKind> {
  /** The family's name. */
  readonly name: string;
  /** The family's help text. */
  readonly description: string;
  /** The kind of its metrics. */
  readonly kind: K;
  readonly #id: number;
  readonly #metrics = new Map<string, Metric<K>>();
  #deleted = false;

  /**
   * @throws {TritonError} `INVALID_ARG` if the name does not follow
   * Prometheus' syntax or starts with `nv_` (Triton's own), the description is not a string, the kind is
   * unknown, or a family of this name already exists in this model (reuse it,
   * or delete it first).
   */
  constructor(options: MetricFamilyOptions<K>) {
    if (typeof options !== "object" || options === null) {
      throw invalid(
        `MetricFamily needs { name, description, kind }, got ${describeValue(options)}`,
      );
    }
    const { name, description, kind } = options;
    if (typeof name !== "string" || !FAMILY_NAME.test(name) || name.startsWith("__")) {
      throw invalid(
        `metric family name ${describeValue(name)} is invalid: it must match ` +
          "[a-zA-Z_:][a-zA-Z0-9_:]* and not start with '__'",
      );
    }
    if (name.startsWith("nv_")) {
      throw invalid(
        `metric family name '${name}' is Triton's: names that start with nv_ belong to ` +
          "Triton's own metrics",
      );
    }
    checkText(name, `metric family '${name}': the name`);
    if (typeof description !== "string") {
      throw invalid(
        `metric family '${name}': description must be a string, got ${describeValue(description)}`,
      );
    }
    checkText(description, `metric family '${name}': the description`);
    if (kind !== "counter" && kind !== "gauge" && kind !== "histogram") {
      throw invalid(
        `metric family '${name}': kind must be "counter", "gauge" or "histogram", got ${
          describeValue(kind)
        }`,
      );
    }
    if (liveFamilies.has(name)) {
      throw invalid(
        `metric family '${name}' already exists in this model; reuse it or delete() it first`,
      );
    }
    this.name = name;
    this.description = description;
    this.kind = kind;
    this.#id = nextId++;
    liveFamilies.set(name, this);
    newFamilies.set(this.#id, { id: this.#id, name, description, kind });
    Object.freeze(this);
  }

  /** Whether {@linkcode MetricFamily.delete} was called. */
  get deleted(): boolean {
    return this.#deleted;
  }

  /**
   * Creates the metric of this family with the given labels.
   *
   * @throws {TritonError} `INVALID_ARG` naming the family if it was deleted,
   * a label name or value is invalid, a metric with the same labels exists
   * already, a histogram has no (or unsorted, or non-finite) `buckets`, or
   * another kind has `buckets`.
   *
   * @example
   * ```ts
   * import { MetricFamily } from "@triton/deno";
   *
   * const queue = new MetricFamily({
   *   name: "example_queue_depth",
   *   description: "Items waiting",
   *   kind: "gauge",
   * }).metric({ labels: { queue: "main" } });
   * queue.set(3);
   * queue.increment(-1);
   * console.log(queue.value); // 2
   * ```
   */
  metric(options: MetricOptions = {}): Metric<K> {
    const owner = `metric family '${this.name}'`;
    if (this.#deleted) throw invalid(`${owner} was deleted; it can make no more metrics`);
    if (typeof options !== "object" || options === null) {
      throw invalid(
        `${owner}: metric() takes { labels?, buckets? }, got ${describeValue(options)}`,
      );
    }
    const labels = checkLabels(options.labels, this.kind, owner);
    const buckets = checkBuckets(options.buckets, this.kind, owner);
    const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
    if (this.#metrics.has(key)) {
      throw invalid(
        `${owner} already has a metric ${formatLabels(labels)}; reuse it or delete() it first`,
      );
    }
    const id = nextId++;
    constructing = true;
    let metric: Metric<K>;
    try {
      metric = new Metric<K>(this, id, labels, buckets, () => this.#metrics.delete(key));
    } finally {
      constructing = false;
    }
    this.#metrics.set(key, metric);
    const record: MetricRecord = { id, family: this.#id, labels: { ...labels } };
    if (buckets !== undefined) record.buckets = Array.from(buckets);
    newMetrics.set(id, record);
    return metric;
  }

  /**
   * Deletes the family and every metric in it; they disappear from Triton's
   * metrics. Later calls do nothing.
   *
   * @example
   * ```ts
   * import { MetricFamily } from "@triton/deno";
   *
   * const family = new MetricFamily({ name: "example_tmp", description: "", kind: "gauge" });
   * family.delete();
   * console.log(family.deleted); // true
   * ```
   */
  delete(): void {
    if (this.#deleted) return;
    for (const metric of Array.from(this.#metrics.values())) metric.delete();
    this.#deleted = true;
    liveFamilies.delete(this.name);
    if (!newFamilies.delete(this.#id)) deletedFamilies.push(this.#id);
  }
}

/**
 * One metric: a family's name with particular label values. Made by
 * {@linkcode MetricFamily.metric}.
 *
 * @typeParam K The family's kind.
 *
 * @example
 * ```ts
 * import { MetricFamily } from "@triton/deno";
 *
 * const errors = new MetricFamily({
 *   name: "example_errors_total",
 *   description: "Failed requests",
 *   kind: "counter",
 * }).metric({ labels: { reason: "bad_input" } });
 * errors.increment(1);
 * console.log(errors.value); // 1
 * ```
 */
export class Metric<K extends MetricKind = MetricKind> {
  /** The family this metric belongs to. */
  readonly family: MetricFamily<K>;
  /** The metric's labels (frozen). */
  readonly labels: Readonly<Record<string, string>>;
  /** A histogram's bucket bounds (frozen); `undefined` for other kinds. */
  readonly buckets: readonly number[] | undefined;
  readonly #id: number;
  readonly #forget: () => void;
  #value = 0;
  #count = 0;
  #deleted = false;

  /** @internal Made by `MetricFamily.metric`; model code cannot construct one. */
  constructor(
    family: MetricFamily<K>,
    id: number,
    labels: Readonly<Record<string, string>>,
    buckets: readonly number[] | undefined,
    forget: () => void,
  ) {
    if (!constructing) {
      throw invalid("a Metric is made by family.metric({ labels }), not with new Metric()");
    }
    this.family = family;
    this.#id = id;
    this.labels = labels;
    this.buckets = buckets;
    this.#forget = forget;
    Object.freeze(this);
  }

  /**
   * The value as this model has changed it: a number for counters and
   * gauges, `{ sum, count }` for histograms. Other instances (or models)
   * that share the metric in Triton are not reflected.
   */
  get value(): MetricValue<K> {
    if (this.family.kind === "histogram") {
      return Object.freeze({ sum: this.#value, count: this.#count }) as MetricValue<K>;
    }
    return this.#value as MetricValue<K>;
  }

  /** Whether the metric (or its family) was deleted. */
  get deleted(): boolean {
    return this.#deleted;
  }

  /**
   * Adds `value` (a counter takes only `value >= 0`; a gauge goes down with
   * a negative one).
   *
   * @throws {TritonError} `UNSUPPORTED` for a histogram; `INVALID_ARG` for a
   * non-finite value, a negative value on a counter, or a deleted metric.
   */
  increment(value: number): void {
    this.#check("increment", value);
    if (this.family.kind === "histogram") {
      throw new TritonError(
        `${this.#describe()} is a histogram: use observe(), not increment()`,
        ErrorCode.UNSUPPORTED,
      );
    }
    if (this.family.kind === "counter" && value < 0) {
      throw invalid(`${this.#describe()} is a counter: increment(${value}) must not be negative`);
    }
    if (value === 0) return;
    const before = this.#value;
    this.#value = before + value;
    queueIncrement(this.#id, before, value, this.#value);
  }

  /**
   * Sets a gauge to `value`.
   *
   * @throws {TritonError} `UNSUPPORTED` for a counter or a histogram;
   * `INVALID_ARG` for a non-finite value or a deleted metric.
   */
  set(value: number): void {
    this.#check("set", value);
    if (this.family.kind !== "gauge") {
      throw new TritonError(
        `${this.#describe()} is a ${this.family.kind}: only gauges support set()`,
        ErrorCode.UNSUPPORTED,
      );
    }
    this.#value = value;
    // A set makes every queued update of this metric irrelevant.
    pendingUpdates.set(this.#id, { ops: [["set", value]], incBase: 0 });
  }

  /**
   * Records one observation in a histogram.
   *
   * @throws {TritonError} `UNSUPPORTED` for a counter or a gauge;
   * `INVALID_ARG` for a non-finite value or a deleted metric.
   */
  observe(value: number): void {
    this.#check("observe", value);
    if (this.family.kind !== "histogram") {
      throw new TritonError(
        `${this.#describe()} is a ${this.family.kind}: only histograms support observe()`,
        ErrorCode.UNSUPPORTED,
      );
    }
    this.#value += value;
    this.#count++;
    const pending = pendingUpdates.get(this.#id);
    if (pending === undefined) {
      pendingUpdates.set(this.#id, { ops: [["observe", value]], incBase: 0 });
    } else pending.ops.push(["observe", value]);
  }

  /**
   * Deletes the metric: it disappears from Triton's metrics, and its family
   * may create one with the same labels again. Later calls do nothing.
   */
  delete(): void {
    if (this.#deleted) return;
    this.#deleted = true;
    this.#forget();
    pendingUpdates.delete(this.#id);
    // Created and deleted between two drains: Triton never needs to hear of it.
    if (!newMetrics.delete(this.#id)) deletedMetrics.push(this.#id);
  }

  #check(operation: string, value: unknown): asserts value is number {
    if (this.#deleted) {
      throw invalid(`${this.#describe()} was deleted; ${operation}() is not allowed`);
    }
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw invalid(
        `${this.#describe()}: ${operation}() needs a finite number, got ${describeValue(value)}`,
      );
    }
  }

  #describe(): string {
    return `metric ${this.family.name}${formatLabels(this.labels)}`;
  }
}

/**
 * Queues `inc value` for a metric, merging it into the queued `inc` before it
 * when Triton would then compute exactly the value mirrored here (floating
 * point addition is not associative, so this is checked, not assumed).
 */
function queueIncrement(id: number, before: number, value: number, after: number): void {
  const pending = pendingUpdates.get(id);
  if (pending === undefined) {
    pendingUpdates.set(id, { ops: [["inc", value]], incBase: before });
    return;
  }
  const last = pending.ops[pending.ops.length - 1];
  if (last[0] === "set") {
    // set x then inc v leaves x + v: the same one addition Triton would do.
    last[1] = after;
  } else if (last[0] === "inc" && pending.incBase + (last[1] + value) === after) {
    last[1] += value;
  } else {
    pending.ops.push(["inc", value]);
    pending.incBase = before;
  }
}

/**
 * The metric operations queued since the last {@linkcode drainMetricOps}:
 * what the runtime sends as one METRICS record (runtime/wire/metrics_codec.ts
 * encodes it).
 *
 * @internal For the runtime.
 */
export interface MetricOpsBatch {
  /** New families. */
  readonly families: readonly Readonly<FamilyRecord>[];
  /** New metrics. */
  readonly metrics: readonly Readonly<MetricRecord>[];
  /** `[metricId, operation, value]`, in order. */
  readonly updates: readonly (readonly [number, UpdateOp, number])[];
  /** Deleted metric and family ids. */
  readonly deletes: { readonly metrics: readonly number[]; readonly families: readonly number[] };
}

/**
 * Takes every queued metric operation as one batch, or `undefined` when
 * nothing is queued.
 *
 * Apply it in this order: `deletes.metrics`, `deletes.families`, then
 * `families`, `metrics`, `updates` (in array order). Deleting first lets a
 * model delete a metric and create one with the same labels within one
 * batch. Ids are unique across families and metrics. `kind` is
 * `"counter"`, `"gauge"` or `"histogram"` (see
 * {@linkcode METRIC_KIND_CODES}); every value is a finite number. Families
 * and metrics created and deleted within one batch do not appear at all.
 *
 * @internal Used by the Worker runtime through internal.ts.
 *
 * @example
 * ```ts
 * import { drainMetricOps, MetricFamily } from "./metrics.ts";
 *
 * const family = new MetricFamily({ name: "doc_total", description: "d", kind: "counter" });
 * const metric = family.metric();
 * metric.increment(1);
 * metric.increment(2);
 * console.log(drainMetricOps());
 * // { families: [{ id: 1, name: "doc_total", description: "d", kind: "counter" }],
 * //   metrics: [{ id: 2, family: 1, labels: {} }], updates: [[2, "inc", 3]],
 * //   deletes: { metrics: [], families: [] } }
 * console.log(drainMetricOps()); // undefined
 * ```
 */
export function drainMetricOps(): MetricOpsBatch | undefined {
  if (
    newFamilies.size === 0 && newMetrics.size === 0 && pendingUpdates.size === 0 &&
    deletedMetrics.length === 0 && deletedFamilies.length === 0
  ) {
    return undefined;
  }
  const updates: [number, UpdateOp, number][] = [];
  for (const [id, pending] of pendingUpdates) {
    for (const [op, value] of pending.ops) updates.push([id, op, value]);
  }
  const batch: MetricOpsBatch = {
    families: Array.from(newFamilies.values()),
    metrics: Array.from(newMetrics.values()),
    updates,
    deletes: { metrics: deletedMetrics, families: deletedFamilies },
  };
  newFamilies.clear();
  newMetrics.clear();
  pendingUpdates.clear();
  deletedMetrics = [];
  deletedFamilies = [];
  return batch;
}

function checkLabels(
  value: unknown,
  kind: MetricKind,
  owner: string,
): Readonly<Record<string, string>> {
  if (value === undefined) return Object.freeze({});
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalid(`${owner}: labels must be an object of strings, got ${describeValue(value)}`);
  }
  const keys = Object.keys(value);
  if (keys.length > MAX_METRIC_LABELS) {
    throw invalid(`${owner}: ${keys.length} labels given; the limit is ${MAX_METRIC_LABELS}`);
  }
  const entries: [string, string][] = [];
  for (const key of keys) {
    if (!LABEL_NAME.test(key) || key.startsWith("__")) {
      throw invalid(
        `${owner}: label name ${JSON.stringify(key)} is invalid: it must match ` +
          "[a-zA-Z_][a-zA-Z0-9_]* and not start with '__'",
      );
    }
    // Prometheus adds "le" to every histogram bucket itself.
    if (kind === "histogram" && key === "le") {
      throw invalid(`${owner}: label name "le" is reserved for histogram buckets`);
    }
    checkText(key, `${owner}: label name '${key}'`);
    const item: unknown = (value as Record<string, unknown>)[key];
    if (typeof item !== "string") {
      throw invalid(`${owner}: label '${key}' must be a string, got ${describeValue(item)}`);
    }
    checkText(item, `${owner}: the value of label '${key}'`);
    entries.push([key, item]);
  }
  return Object.freeze(Object.fromEntries(entries));
}

function checkBuckets(
  value: unknown,
  kind: MetricKind,
  owner: string,
): readonly number[] | undefined {
  if (kind !== "histogram") {
    if (value !== undefined) throw invalid(`${owner}: buckets are for histograms, not a ${kind}`);
    return undefined;
  }
  if (!Array.isArray(value)) {
    throw invalid(
      `${owner}: a histogram metric needs buckets, an array of upper bounds; got ${
        describeValue(value)
      }`,
    );
  }
  if (value.length > MAX_HISTOGRAM_BUCKETS) {
    throw invalid(`${owner}: ${value.length} buckets given; the limit is ${MAX_HISTOGRAM_BUCKETS}`);
  }
  const buckets = Array.from(value as unknown[]);
  for (let i = 0; i < buckets.length; i++) {
    const bound = buckets[i];
    if (typeof bound !== "number" || !Number.isFinite(bound)) {
      throw invalid(`${owner}: bucket ${i} must be a finite number, got ${describeValue(bound)}`);
    }
    if (i > 0 && bound <= (buckets[i - 1] as number)) {
      throw invalid(
        `${owner}: buckets must be strictly increasing, but bucket ${i} (${bound}) ` +
          `follows ${buckets[i - 1]}`,
      );
    }
  }
  return Object.freeze(buckets as number[]);
}

const encoder = new TextEncoder();

function checkText(text: string, what: string): void {
  if (
    text.length * 3 > MAX_METRIC_TEXT_BYTES &&
    encoder.encode(text).byteLength > MAX_METRIC_TEXT_BYTES
  ) {
    throw invalid(`${what} is longer than ${MAX_METRIC_TEXT_BYTES} bytes`);
  }
}

function formatLabels(labels: Readonly<Record<string, string>>): string {
  const parts = Object.entries(labels).map(([key, value]) => `${key}=${JSON.stringify(value)}`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

function invalid(message: string): TritonError {
  return new TritonError(message, ErrorCode.INVALID_ARG);
}
