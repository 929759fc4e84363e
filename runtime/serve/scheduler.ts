/**
 * The per-model scheduler: one queue spread over the model's instances, with
 * Triton's dynamic batching. A batch is a list of requests whose batch
 * dimensions add up to at most `max_batch_size`; the model sees the list
 * (as python_backend models do) and answers each request.
 *
 * Batches form as Triton's dynamic batcher forms them: whenever an instance
 * is free, the queue's head requests are gathered (same shapes for inputs
 * with variable dims, unless they allow ragged batches). The batch leaves at
 * once if it is full, reaches a preferred batch size, cannot grow (the next
 * request does not fit), or the oldest request has waited
 * `max_queue_delay_microseconds`; otherwise the scheduler waits for more.
 * Without `dynamic_batching` each request runs alone.
 *
 * @module
 */

import { ErrorCode } from "../api/error.ts";
import type { ModelConfig } from "../model_config/mod.ts";
import type { ModelSignature } from "./model_signature.ts";
import type { ModelStatistics, RequestRecord } from "./stats.ts";
import type { InferRequest, RequestOutcome } from "./types.ts";

/** Runs batches on a model's instances. */
export interface BatchExecutor {
  /** How many instances there are (numbered from 0). */
  readonly instanceCount: number;
  /**
   * Executes `requests` as one batch on instance `instance` (never called
   * for an instance that is still busy). Resolves with one outcome per
   * request, in order.
   */
  execute(instance: number, requests: readonly InferRequest[]): Promise<RequestOutcome[]>;
}

/** How a model's requests are grouped into batches. */
export interface BatchingPolicy {
  /** 0 when the model does not batch. */
  readonly maxBatchSize: number;
  /** Whether dynamic batching is on. */
  readonly dynamic: boolean;
  /** Batch sizes to dispatch as soon as they can be formed, ascending. */
  readonly preferredBatchSizes: readonly number[];
  /** How long the oldest request may wait for a batch to fill, in microseconds. */
  readonly maxQueueDelayUs: number;
  /** Inputs whose shapes must be equal within a batch. */
  readonly equalShapeInputs: ReadonlySet<string>;
}

/**
 * The batching policy a configuration asks for.
 *
 * @example
 * ```ts
 * import { batchingPolicy } from "./scheduler.ts";
 * import { modelSignature } from "./model_signature.ts";
 * import { parseModelConfigText } from "../model_config/mod.ts";
 *
 * const config = parseModelConfigText(
 *   'name: "m" max_batch_size: 8 dynamic_batching { preferred_batch_size: [4] }',
 * );
 * console.log(batchingPolicy(config, modelSignature(config)).preferredBatchSizes); // [4]
 * ```
 */
export function batchingPolicy(config: ModelConfig, signature: ModelSignature): BatchingPolicy {
  const dynamic = config.schedulingChoice.case === "dynamicBatching" &&
    config.maxBatchSize > 0;
  const settings = config.schedulingChoice.case === "dynamicBatching"
    ? config.schedulingChoice.value
    : undefined;
  const equalShapeInputs = new Set(
    signature.inputs
      .filter((input) => !input.allowRaggedBatch && input.dims.includes(-1))
      .map((input) => input.name),
  );
  return {
    maxBatchSize: config.maxBatchSize,
    dynamic,
    preferredBatchSizes: [...(settings?.preferredBatchSize ?? [])]
      .filter((size) => size > 0 && size <= config.maxBatchSize)
      .sort((a, b) => a - b),
    maxQueueDelayUs: Number(settings?.maxQueueDelayMicroseconds ?? 0n),
    equalShapeInputs,
  };
}

/** A request waiting in the queue. */
interface Pending {
  readonly request: InferRequest;
  readonly arrivedNs: number;
  readonly resolve: (outcome: RequestOutcome) => void;
}

/** A monotonic clock in nanoseconds; replaceable in tests. */
export type Clock = () => number;

const defaultClock: Clock = () => performance.now() * 1e6;

/**
 * Queues requests for one model version and runs them in batches on its
 * instances.
 *
 * @example
 * ```ts ignore
 * const scheduler = new Scheduler(executor, policy, stats);
 * const outcome = await scheduler.submit(request);
 * ```
 */
export class Scheduler {
  #executor: BatchExecutor;
  #policy: BatchingPolicy;
  #stats: ModelStatistics;
  #clock: Clock;
  #queue: Pending[] = [];
  #idle: number[];
  #inFlight = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerDueNs = 0;
  #closedReason: string | undefined;
  #drainWaiters: (() => void)[] = [];

  /**
   * @param executor Runs the batches.
   * @param policy How to batch.
   * @param stats Where executed batches are recorded.
   * @param clock Monotonic nanoseconds (tests pass a fake).
   */
  constructor(
    executor: BatchExecutor,
    policy: BatchingPolicy,
    stats: ModelStatistics,
    clock: Clock = defaultClock,
  ) {
    this.#executor = executor;
    this.#policy = policy;
    this.#stats = stats;
    this.#clock = clock;
    this.#idle = Array.from({ length: executor.instanceCount }, (_, i) => i);
  }

  /** Requests queued and not yet dispatched. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Batches executing now. */
  get executing(): number {
    return this.#inFlight;
  }

  /**
   * Queues a request; resolves with its outcome once its batch has run. A
   * closed scheduler answers `UNAVAILABLE` at once.
   */
  submit(request: InferRequest): Promise<RequestOutcome> {
    if (this.#closedReason !== undefined) {
      return Promise.resolve(failedOutcome(ErrorCode.UNAVAILABLE, this.#closedReason));
    }
    return new Promise((resolve) => {
      this.#queue.push({ request, arrivedNs: this.#clock(), resolve });
      this.#pump();
    });
  }

  /**
   * Stops taking requests (later ones get `UNAVAILABLE` with `reason`) and
   * resolves once every queued and running request has finished.
   */
  close(reason: string): Promise<void> {
    this.#closedReason ??= reason;
    this.#pump();
    return this.#drained();
  }

  #drained(): Promise<void> {
    if (this.#queue.length === 0 && this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Dispatches every batch that should leave now; arms a timer for the rest. */
  #pump(): void {
    while (this.#idle.length > 0 && this.#queue.length > 0) {
      const now = this.#clock();
      const count = this.#batchLength(now);
      if (count === 0) {
        this.#armTimer(this.#queue[0].arrivedNs + this.#policy.maxQueueDelayUs * 1000);
        return;
      }
      const batch = this.#queue.splice(0, count);
      const instance = this.#idle.shift()!;
      this.#run(instance, batch);
    }
    if (this.#queue.length === 0) this.#disarmTimer();
  }

  /** How many head requests to dispatch now (0: wait for more). */
  #batchLength(now: number): number {
    const policy = this.#policy;
    if (!policy.dynamic || policy.maxBatchSize === 0) return 1;
    const queue = this.#queue;
    const first = queue[0].request;
    let total = 0;
    let count = 0;
    let blocked = false;
    let preferredCount = 0;
    for (const pending of queue) {
      const size = pending.request.batchSize;
      if (total + size > policy.maxBatchSize || !this.#sameShapes(first, pending.request)) {
        blocked = true;
        break;
      }
      total += size;
      count += 1;
      if (policy.preferredBatchSizes.includes(total)) preferredCount = count;
    }
    if (count === 0) return 1; // A lone request larger than the limit is rejected before this.
    if (total === policy.maxBatchSize || blocked) return count; // It cannot grow.
    // The largest preferred size that the queued requests form leaves at once.
    if (preferredCount > 0) return preferredCount;
    const delayNs = policy.maxQueueDelayUs * 1000;
    if (delayNs === 0 || now - queue[0].arrivedNs >= delayNs) return count;
    return 0;
  }

  #sameShapes(a: InferRequest, b: InferRequest): boolean {
    if (a === b || this.#policy.equalShapeInputs.size === 0) return true;
    for (const name of this.#policy.equalShapeInputs) {
      const left = a.inputs.find((input) => input.name === name)?.shape;
      const right = b.inputs.find((input) => input.name === name)?.shape;
      if (left === undefined || right === undefined) {
        if (left !== right) return false;
        continue;
      }
      if (left.length !== right.length) return false;
      // Dimension 0 is the batch dimension, which may differ.
      for (let i = 1; i < left.length; i++) if (left[i] !== right[i]) return false;
    }
    return true;
  }

  async #run(instance: number, batch: Pending[]): Promise<void> {
    this.#inFlight += 1;
    const startNs = this.#clock();
    let outcomes: RequestOutcome[];
    try {
      outcomes = await this.#executor.execute(instance, batch.map((pending) => pending.request));
      if (outcomes.length !== batch.length) {
        throw new Error(
          `executor returned ${outcomes.length} outcomes for ${batch.length} requests`,
        );
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      outcomes = batch.map(() => failedOutcome(ErrorCode.INTERNAL, message));
    }
    const endNs = this.#clock();
    const records: RequestRecord[] = batch.map((pending, i) => ({
      success: outcomes[i].result.ok,
      batchSize: pending.request.batchSize,
      totalNs: endNs - pending.arrivedNs,
      queueNs: startNs - pending.arrivedNs,
      timings: outcomes[i].timings,
    }));
    this.#stats.recordBatch(records);
    this.#inFlight -= 1;
    this.#idle.push(instance);
    this.#idle.sort((a, b) => a - b);
    for (let i = 0; i < batch.length; i++) batch[i].resolve(outcomes[i]);
    this.#pump();
    if (this.#queue.length === 0 && this.#inFlight === 0) {
      for (const waiter of this.#drainWaiters.splice(0)) waiter();
    }
  }

  #armTimer(dueNs: number): void {
    if (this.#timer !== undefined && this.#timerDueNs <= dueNs) return;
    this.#disarmTimer();
    this.#timerDueNs = dueNs;
    const delayMs = Math.max(0, (dueNs - this.#clock()) / 1e6);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#pump();
    }, delayMs);
  }

  #disarmTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** An outcome that fails a request without running it. */
export function failedOutcome(code: number, message: string): RequestOutcome {
  return { result: { ok: false, code, message }, timings: undefined, release() {} };
}
