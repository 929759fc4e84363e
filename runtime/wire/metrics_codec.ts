/**
 * The METRICS payload (ffi/WIRE_FORMAT.md, "Metric batches"): the model
 * API's queued metric operations as the parent reads them
 * (ffi/src/metrics_batch.c): a `tdn_metrics_header` with five counts, then
 * the new families, the new metrics, the updates and the deleted ids, each
 * item a fixed little-endian part followed by its strings (or buckets),
 * packed without padding.
 *
 * The parent checks every item again (the Worker is untrusted); this side
 * writes what it is given, having been checked by the model API.
 *
 * @example
 * ```ts
 * import { encodeMetricBatch } from "./metrics_codec.ts";
 *
 * const bytes = encodeMetricBatch({
 *   families: [{ id: 1, name: "requests_total", description: "", kind: "counter" }],
 *   metrics: [{ id: 2, family: 1, labels: { route: "a" } }],
 *   updates: [[2, "inc", 3]],
 *   deletes: { metrics: [], families: [] },
 * });
 * console.log(bytes.byteLength); // 24 + 34 + 41 + 24
 * ```
 *
 * @module
 */

import { METRIC_KIND, METRIC_OP, METRICS_HEADER, METRICS_NO_BUCKETS } from "./layout.ts";

/** One batch of metric operations, in the model API's terms. */
export interface MetricBatch {
  /** Families created since the last batch. */
  readonly families: readonly {
    readonly id: number;
    readonly name: string;
    readonly description: string;
    readonly kind: keyof typeof KIND_CODES;
  }[];
  /** Metrics created since the last batch. */
  readonly metrics: readonly {
    readonly id: number;
    readonly family: number;
    readonly labels: Readonly<Record<string, string>>;
    readonly buckets?: readonly number[];
  }[];
  /** `[metric id, operation, value]`, in order. */
  readonly updates: readonly (readonly [number, keyof typeof OP_CODES, number])[];
  /** Ids deleted since the last batch. */
  readonly deletes: { readonly metrics: readonly number[]; readonly families: readonly number[] };
}

const KIND_CODES = {
  counter: METRIC_KIND.COUNTER,
  gauge: METRIC_KIND.GAUGE,
  histogram: METRIC_KIND.HISTOGRAM,
} as const;
const OP_CODES = { inc: METRIC_OP.INC, set: METRIC_OP.SET, observe: METRIC_OP.OBSERVE } as const;

const FAMILY_FIXED = 20;
const METRIC_FIXED = 24;
const LABEL_FIXED = 8;
const UPDATE_SIZE = 24;
const TWO_TO_32 = 2 ** 32;
const utf8 = new TextEncoder();

/**
 * Encodes a batch as one METRICS payload.
 *
 * @param batch The operations.
 * @returns The payload's bytes.
 */
export function encodeMetricBatch(batch: MetricBatch): Uint8Array {
  const families = batch.families.map((family) => ({
    family,
    name: utf8.encode(family.name),
    description: utf8.encode(family.description),
  }));
  const metrics = batch.metrics.map((metric) => ({
    metric,
    labels: Object.entries(metric.labels).map(([name, value]) => [
      utf8.encode(name),
      utf8.encode(value),
    ]),
  }));
  let size = METRICS_HEADER.SIZE + UPDATE_SIZE * batch.updates.length +
    8 * (batch.deletes.metrics.length + batch.deletes.families.length);
  for (const { name, description } of families) {
    size += FAMILY_FIXED + name.byteLength + description.byteLength;
  }
  for (const { metric, labels } of metrics) {
    size += METRIC_FIXED + 8 * (metric.buckets?.length ?? 0);
    for (const [name, value] of labels) size += LABEL_FIXED + name.byteLength + value.byteLength;
  }
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  view.setUint32(METRICS_HEADER.FAMILY_COUNT, families.length, true);
  view.setUint32(METRICS_HEADER.METRIC_COUNT, metrics.length, true);
  view.setUint32(METRICS_HEADER.UPDATE_COUNT, batch.updates.length, true);
  view.setUint32(METRICS_HEADER.DELETED_METRIC_COUNT, batch.deletes.metrics.length, true);
  view.setUint32(METRICS_HEADER.DELETED_FAMILY_COUNT, batch.deletes.families.length, true);
  view.setUint32(METRICS_HEADER.RESERVED, 0, true);
  let at = METRICS_HEADER.SIZE;
  const u32 = (value: number) => {
    view.setUint32(at, value, true);
    at += 4;
  };
  const u64 = (value: number) => {
    view.setUint32(at, value % TWO_TO_32, true);
    view.setUint32(at + 4, Math.floor(value / TWO_TO_32), true);
    at += 8;
  };
  const raw = (data: Uint8Array) => {
    bytes.set(data, at);
    at += data.byteLength;
  };
  for (const { family, name, description } of families) {
    u64(family.id);
    u32(KIND_CODES[family.kind]);
    u32(name.byteLength);
    u32(description.byteLength);
    raw(name);
    raw(description);
  }
  for (const { metric, labels } of metrics) {
    u64(metric.id);
    u64(metric.family);
    u32(labels.length);
    u32(metric.buckets === undefined ? METRICS_NO_BUCKETS : metric.buckets.length);
    for (const [name, value] of labels) {
      u32(name.byteLength);
      u32(value.byteLength);
      raw(name);
      raw(value);
    }
    for (const bound of metric.buckets ?? []) {
      view.setFloat64(at, bound, true);
      at += 8;
    }
  }
  for (const [id, op, value] of batch.updates) {
    u64(id);
    u32(OP_CODES[op]);
    u32(0);
    view.setFloat64(at, value, true);
    at += 8;
  }
  for (const id of batch.deletes.metrics) u64(id);
  for (const id of batch.deletes.families) u64(id);
  return bytes;
}
