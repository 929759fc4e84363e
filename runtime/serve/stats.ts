/**
 * Per-model-version statistics in the shape of Triton's statistics extension
 * (`GET /v2/models/{m}/stats`).
 *
 * @module
 */

import type { ExecutionTimings } from "./types.ts";

/** A count and a cumulative duration in nanoseconds. */
export interface DurationStat {
  /** How many times it was recorded. */
  count: number;
  /** Total nanoseconds. */
  ns: number;
}

/** One entry of `batch_stats`. */
export interface BatchStat {
  /** The batch size executed. */
  batch_size: number;
  /** Input preparation for batches of this size. */
  compute_input: DurationStat;
  /** Model compute for batches of this size. */
  compute_infer: DurationStat;
  /** Output handling for batches of this size. */
  compute_output: DurationStat;
}

/** One entry of `model_stats`, as Triton serializes it. */
export interface ModelStatJson {
  name: string;
  version: string;
  last_inference: number;
  inference_count: number;
  execution_count: number;
  inference_stats: Record<
    | "success"
    | "fail"
    | "queue"
    | "compute_input"
    | "compute_infer"
    | "compute_output"
    | "cache_hit"
    | "cache_miss",
    DurationStat
  >;
  response_stats: Record<string, never>;
  batch_stats: BatchStat[];
  memory_usage: never[];
}

/** What the scheduler reports about one request after its batch ran. */
export interface RequestRecord {
  /** Whether the request succeeded. */
  readonly success: boolean;
  /** The request's batch dimension. */
  readonly batchSize: number;
  /** From arrival to response, in nanoseconds. */
  readonly totalNs: number;
  /** Time spent queued before its batch started, in nanoseconds. */
  readonly queueNs: number;
  /** The backend's timings, when it reported them. */
  readonly timings: ExecutionTimings | undefined;
}

const zero = (): DurationStat => ({ count: 0, ns: 0 });

function add(stat: DurationStat, ns: number): void {
  stat.count += 1;
  stat.ns += Math.max(0, Math.round(ns));
}

/**
 * Accumulates the statistics of one model version.
 *
 * @example
 * ```ts
 * import { ModelStatistics } from "./stats.ts";
 *
 * const stats = new ModelStatistics("add_sub", 1);
 * stats.recordBatch([{ success: true, batchSize: 1, totalNs: 900, queueNs: 100, timings: undefined }]);
 * console.log(stats.toJson().inference_count); // 1
 * ```
 */
export class ModelStatistics {
  #name: string;
  #version: number;
  #lastInference = 0;
  #inferenceCount = 0;
  #executionCount = 0;
  #inference = {
    success: zero(),
    fail: zero(),
    queue: zero(),
    compute_input: zero(),
    compute_infer: zero(),
    compute_output: zero(),
    cache_hit: zero(),
    cache_miss: zero(),
  };
  #batches = new Map<number, BatchStat>();

  /**
   * @param name The model's name.
   * @param version The version these statistics are for.
   */
  constructor(name: string, version: number) {
    this.#name = name;
    this.#version = version;
  }

  /**
   * Records one executed batch: per request success or failure, queue and
   * compute times; per batch the execution count and `batch_stats` for the
   * batch's total size (the sum of its successful requests' batch sizes).
   */
  recordBatch(records: readonly RequestRecord[]): void {
    if (records.length === 0) return;
    this.#lastInference = Date.now();
    let batchSize = 0;
    let first: ExecutionTimings | undefined;
    for (const record of records) {
      if (!record.success) {
        add(this.#inference.fail, record.totalNs);
        continue;
      }
      batchSize += record.batchSize;
      this.#inferenceCount += record.batchSize;
      add(this.#inference.success, record.totalNs);
      add(this.#inference.queue, record.queueNs);
      const timings = record.timings;
      if (timings !== undefined) {
        first ??= timings;
        add(this.#inference.compute_input, timings.computeInputNs);
        add(this.#inference.compute_infer, timings.computeInferNs);
        add(this.#inference.compute_output, timings.computeOutputNs);
      }
    }
    if (batchSize === 0) return;
    this.#executionCount += 1;
    let batch = this.#batches.get(batchSize);
    if (batch === undefined) {
      batch = {
        batch_size: batchSize,
        compute_input: zero(),
        compute_infer: zero(),
        compute_output: zero(),
      };
      this.#batches.set(batchSize, batch);
    }
    // The requests of one batch share its execution; any one's timings describe the batch.
    add(batch.compute_input, first?.computeInputNs ?? 0);
    add(batch.compute_infer, first?.computeInferNs ?? 0);
    add(batch.compute_output, first?.computeOutputNs ?? 0);
  }

  /** Records a request that failed before it reached the model (e.g. the model went away). */
  recordRejected(totalNs: number): void {
    add(this.#inference.fail, totalNs);
  }

  /** The statistics as Triton's JSON `model_stats` entry. */
  toJson(): ModelStatJson {
    const copy = (stat: DurationStat): DurationStat => ({ count: stat.count, ns: stat.ns });
    return {
      name: this.#name,
      version: String(this.#version),
      last_inference: this.#lastInference,
      inference_count: this.#inferenceCount,
      execution_count: this.#executionCount,
      inference_stats: {
        success: copy(this.#inference.success),
        fail: copy(this.#inference.fail),
        queue: copy(this.#inference.queue),
        compute_input: copy(this.#inference.compute_input),
        compute_infer: copy(this.#inference.compute_infer),
        compute_output: copy(this.#inference.compute_output),
        cache_hit: copy(this.#inference.cache_hit),
        cache_miss: copy(this.#inference.cache_miss),
      },
      response_stats: {},
      batch_stats: [...this.#batches.values()]
        .sort((a, b) => a.batch_size - b.batch_size)
        .map((batch) => ({
          batch_size: batch.batch_size,
          compute_input: copy(batch.compute_input),
          compute_infer: copy(batch.compute_infer),
          compute_output: copy(batch.compute_output),
        })),
      memory_usage: [],
    };
  }
}
