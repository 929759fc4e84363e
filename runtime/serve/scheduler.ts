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
 * With `dynamic_batching`, the queue follows the configured priority levels
 * and queue policies (size limits, timeouts): see queue_policy.ts.
 *
 * @module
 */

import { ErrorCode } from "../api/error.ts";
import type { ModelConfig } from "../model_config/mod.ts";
import { failedOutcome, type QueuedRequest, runBatch } from "./batch_run.ts";
import type { ModelSignature } from "./model_signature.ts";
import { FIFO_POLICY, type PriorityPolicy, priorityPolicy, RequestQueue } from "./queue_policy.ts";
import type { ModelStatistics } from "./stats.ts";
import type { InferRequest, RequestOutcome, RequestScheduler } from "./types.ts";

export { failedOutcome };

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
  /** Priority levels and queue policies (a plain FIFO when absent). */
  readonly priority?: PriorityPolicy;
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
 *
 * @throws {Error} If the priority settings are inconsistent.
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
    priority: dynamic ? priorityPolicy(settings) : FIFO_POLICY,
  };
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
export class Scheduler implements RequestScheduler {
  #executor: BatchExecutor;
  #policy: BatchingPolicy;
  #stats: ModelStatistics;
  #clock: Clock;
  #queue: RequestQueue<QueuedRequest>;
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
    this.#queue = new RequestQueue(policy.priority ?? FIFO_POLICY);
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
   * closed scheduler, or a full queue, answers `UNAVAILABLE` at once; a
   * request that waits past its queue timeout gets `UNAVAILABLE` ("Request
   * timeout expired") when the policy rejects.
   */
  submit(request: InferRequest): Promise<RequestOutcome> {
    if (this.#closedReason !== undefined) {
      return Promise.resolve(failedOutcome(ErrorCode.UNAVAILABLE, this.#closedReason));
    }
    return new Promise((resolve) => {
      const arrivedNs = this.#clock();
      const full = this.#queue.enqueue(
        { request, arrivedNs, resolve },
        request.priority,
        request.timeoutUs,
        arrivedNs,
      );
      if (full !== undefined) {
        this.#stats.recordRejected(0);
        resolve(failedOutcome(ErrorCode.UNAVAILABLE, logPrefix(request) + full));
        return;
      }
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
    this.#rejectExpired();
    while (this.#idle.length > 0 && this.#queue.length > 0) {
      const now = this.#clock();
      const count = this.#batchLength(now);
      if (count === 0) {
        const head = this.#queue.items()[0];
        this.#armTimer(head.arrivedNs + this.#policy.maxQueueDelayUs * 1000);
        break;
      }
      const batch = this.#queue.take(count);
      const instance = this.#idle.shift()!;
      this.#run(instance, batch);
    }
    const deadline = this.#queue.nextDeadline();
    if (deadline !== undefined) this.#armTimer(deadline + 1);
    if (this.#queue.length === 0) this.#disarmTimer();
  }

  /** Answers the requests whose queue timeout passed, under a REJECT policy. */
  #rejectExpired(): void {
    const now = this.#clock();
    for (const queued of this.#queue.expire(now)) {
      this.#stats.recordRejected(now - queued.arrivedNs);
      queued.resolve(failedOutcome(ErrorCode.UNAVAILABLE, "Request timeout expired"));
    }
    if (this.#queue.length === 0 && this.#inFlight === 0) {
      for (const waiter of this.#drainWaiters.splice(0)) waiter();
    }
  }

  /** How many head requests to dispatch now (0: wait for more). */
  #batchLength(now: number): number {
    const policy = this.#policy;
    if (!policy.dynamic || policy.maxBatchSize === 0) return 1;
    const queue = this.#queue.items();
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

  async #run(instance: number, batch: QueuedRequest[]): Promise<void> {
    this.#inFlight += 1;
    const outcomes = await runBatch(this.#executor, instance, batch, this.#stats, this.#clock);
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

/** Triton's prefix for messages about a request with an id: `[request id: <id>] `. */
export function logPrefix(request: InferRequest): string {
  return request.id === "" ? "" : `[request id: ${request.id}] `;
}
