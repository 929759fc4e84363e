/**
 * Triton's sequence batcher for models with `sequence_batching`, as far as a
 * one-process server needs it.
 *
 * Each instance has sequence slots (`max(1, max_batch_size)` of them, or
 * `oldest.max_candidate_sequences`). A request that starts a sequence (flag
 * START, from the `sequence_start` parameter) takes a free slot; every later
 * request of that sequence (same `sequence_id`, number or string) goes to the
 * same slot, hence the same instance, and runs after the previous one, in
 * arrival order. When no slot is free the sequence waits in a backlog until
 * one is released: by the request with the END flag, or when the sequence has
 * been idle for `max_sequence_idle_microseconds` (then its later requests are
 * refused as not started).
 *
 * A batch takes at most one request per slot of one instance (up to
 * `max_batch_size`). With the `direct` strategy it leaves as soon as the
 * instance is free, or, with `max_queue_delay_microseconds`, once
 * `minimum_slot_utilization` of the slots have a request or the delay passed;
 * `oldest` waits likewise for its largest preferred batch size. Each request
 * gets the model's control inputs (START, END, READY, CORRID). Batches are
 * never padded with empty slots, so READY is always true.
 *
 * @module
 */

import { ErrorCode } from "../api/error.ts";
import type { ModelConfig } from "../model_config/mod.ts";
import { failedOutcome, type QueuedRequest, runBatch } from "./batch_run.ts";
import type { BatchExecutor, Clock } from "./scheduler.ts";
import { controlInputs, type SequenceControls, sequenceControls } from "./sequence_controls.ts";
import type { ModelStatistics } from "./stats.ts";
import type { InferRequest, RequestOutcome, RequestScheduler } from "./types.ts";

/** Triton's default `max_sequence_idle_microseconds` (when the config gives 0). */
export const DEFAULT_MAX_SEQUENCE_IDLE_US = 1_000_000;

/** `TRITONSERVER_RequestFlag` values. */
const FLAG_SEQUENCE_START = 1;
const FLAG_SEQUENCE_END = 2;

/** How a model's sequences are scheduled. */
export interface SequencePolicy {
  /** `direct` or `oldest`. */
  readonly strategy: "direct" | "oldest";
  /** The model's `max_batch_size` (0: it does not batch). */
  readonly maxBatchSize: number;
  /** Sequence slots per instance. */
  readonly slotsPerInstance: number;
  /** How long a sequence may go without a request, in microseconds. */
  readonly maxSequenceIdleUs: number;
  /** A batch with this many requests leaves without waiting. */
  readonly batchThreshold: number;
  /** How long a smaller batch may wait, in microseconds (0: it leaves at once). */
  readonly maxQueueDelayUs: number;
  /** The control inputs to add. */
  readonly controls: SequenceControls;
  /**
   * `iterative_sequence`: the model reschedules a request until it is done
   * (the executor runs it again), and a request done for good ends its
   * sequence, as Triton's iterative sequencer does.
   */
  readonly iterative: boolean;
}

/**
 * The sequence policy a configuration with `sequence_batching` asks for.
 *
 * @throws {Error} If the config has no `sequence_batching`, or its control
 * inputs are invalid.
 *
 * @example
 * ```ts
 * import { sequencePolicy } from "./sequence_scheduler.ts";
 * import { parseModelConfigText } from "../model_config/mod.ts";
 *
 * const config = parseModelConfigText('name: "acc" max_batch_size: 4 sequence_batching { }');
 * console.log(sequencePolicy(config).slotsPerInstance); // 4
 * ```
 */
export function sequencePolicy(config: ModelConfig): SequencePolicy {
  if (config.schedulingChoice.case !== "sequenceBatching") {
    throw new Error(`model '${config.name}' has no sequence_batching`);
  }
  const settings = config.schedulingChoice.value;
  const maxBatchSize = Math.max(0, config.maxBatchSize);
  const batchLimit = Math.max(1, maxBatchSize);
  const idle = Number(settings.maxSequenceIdleMicroseconds);
  const common = {
    maxBatchSize,
    maxSequenceIdleUs: idle > 0 ? idle : DEFAULT_MAX_SEQUENCE_IDLE_US,
    controls: sequenceControls(config),
    iterative: settings.iterativeSequence,
  };
  if (settings.strategyChoice.case === "oldest") {
    const oldest = settings.strategyChoice.value;
    const slots = oldest.maxCandidateSequences > 0 ? oldest.maxCandidateSequences : batchLimit;
    const preferred = oldest.preferredBatchSize.filter((size) => size > 0);
    return {
      ...common,
      strategy: "oldest",
      slotsPerInstance: slots,
      batchThreshold: Math.min(
        batchLimit,
        preferred.length > 0 ? Math.max(...preferred) : batchLimit,
      ),
      maxQueueDelayUs: Number(oldest.maxQueueDelayMicroseconds),
    };
  }
  const direct = settings.strategyChoice.case === "direct"
    ? settings.strategyChoice.value
    : undefined;
  const utilization = direct?.minimumSlotUtilization ?? 0;
  return {
    ...common,
    strategy: "direct",
    slotsPerInstance: batchLimit,
    batchThreshold: Math.max(1, Math.min(batchLimit, Math.ceil(utilization * batchLimit))),
    maxQueueDelayUs: Number(direct?.maxQueueDelayMicroseconds ?? 0n),
  };
}

/** A request of a sequence, waiting for its slot's turn. */
interface SequenceRequest extends QueuedRequest {
  /** Whether it ends its sequence (its slot is released once it is taken). */
  readonly ends: boolean;
}

interface Slot {
  readonly instance: number;
  readonly index: number;
  /** The sequence it serves, `undefined` when free. */
  key: string | undefined;
  readonly queue: SequenceRequest[];
  /** Release once the queue is drained (the sequence was reaped while requests waited). */
  releaseWhenDrained: boolean;
}

interface Backlog {
  readonly key: string;
  readonly queue: SequenceRequest[];
}

/**
 * Schedules the requests of a sequence-batched model.
 *
 * @example
 * ```ts ignore
 * const scheduler = new SequenceScheduler("acc", executor, sequencePolicy(config), stats);
 * const outcome = await scheduler.submit(request); // request.correlationId, request.flags
 * ```
 */
export class SequenceScheduler implements RequestScheduler {
  readonly #model: string;
  readonly #executor: BatchExecutor;
  readonly #policy: SequencePolicy;
  readonly #stats: ModelStatistics;
  readonly #clock: Clock;
  readonly #slots: Slot[] = [];
  readonly #bySequence = new Map<string, Slot>();
  readonly #backlog: Backlog[] = [];
  readonly #backlogBySequence = new Map<string, Backlog>();
  readonly #lastSeenNs = new Map<string, number>();
  readonly #busy: boolean[];
  #inFlight = 0;
  #closedReason: string | undefined;
  #drainWaiters: (() => void)[] = [];
  #batchTimer: ReturnType<typeof setTimeout> | undefined;
  #batchTimerDueNs = 0;
  #reaper: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param model The model's name, for messages.
   * @param executor Runs the batches.
   * @param policy How to schedule.
   * @param stats Where executed batches are recorded.
   * @param clock Monotonic nanoseconds (tests pass a fake).
   */
  constructor(
    model: string,
    executor: BatchExecutor,
    policy: SequencePolicy,
    stats: ModelStatistics,
    clock: Clock = () => performance.now() * 1e6,
  ) {
    this.#model = model;
    this.#executor = executor;
    this.#policy = policy;
    this.#stats = stats;
    this.#clock = clock;
    this.#busy = Array.from({ length: executor.instanceCount }, () => false);
    for (let instance = 0; instance < executor.instanceCount; instance++) {
      for (let index = 0; index < policy.slotsPerInstance; index++) {
        this.#slots.push({ instance, index, key: undefined, queue: [], releaseWhenDrained: false });
      }
    }
  }

  /** Sequences holding a slot. */
  get activeSequences(): number {
    return this.#slots.filter((slot) => slot.key !== undefined).length;
  }

  /** Sequences waiting for a slot. */
  get backlogged(): number {
    return this.#backlog.length;
  }

  /** Requests queued and not yet dispatched. */
  get queued(): number {
    return this.#slots.reduce((sum, slot) => sum + slot.queue.length, 0) +
      this.#backlog.reduce((sum, backlog) => sum + backlog.queue.length, 0);
  }

  /**
   * Routes a request to its sequence's slot; resolves once it has run.
   * Refused at once (`INVALID_ARG`, Triton's messages) when it has a batch
   * size above 1, no correlation id, or continues a sequence that was never
   * started (or was released as idle).
   */
  submit(request: InferRequest): Promise<RequestOutcome> {
    const starts = (request.flags & FLAG_SEQUENCE_START) !== 0;
    const ends = (request.flags & FLAG_SEQUENCE_END) !== 0 || this.#policy.iterative;
    const model = this.#model;
    if (this.#closedReason !== undefined) {
      return refuse(
        ErrorCode.UNAVAILABLE,
        starts
          ? "Server is stopping, scheduler for model has stopped accepting new inference requests"
          : this.#closedReason,
      );
    }
    if (request.batchSize > 1) {
      return refuse(
        ErrorCode.INVALID_ARG,
        `inference request to model '${model}' must specify batch-size 1 due to requirements ` +
          "of sequence batcher",
      );
    }
    const id = request.correlationId;
    if (id === 0n || id === "") {
      return refuse(
        ErrorCode.INVALID_ARG,
        `inference request to model '${model}' must specify a non-zero or non-empty ` +
          "correlation ID",
      );
    }
    const key = typeof id === "bigint" ? `n${id}` : `s${id}`;
    const slot = this.#bySequence.get(key);
    const backlog = this.#backlogBySequence.get(key);
    if (!starts && slot === undefined && backlog === undefined) {
      return refuse(
        ErrorCode.INVALID_ARG,
        `inference request for sequence ${id} to model '${model}' must specify the START flag ` +
          "on the first request of the sequence",
      );
    }
    const controls = controlInputs(this.#policy.controls, request, this.#policy.maxBatchSize > 0);
    if (typeof controls === "string") {
      return refuse(ErrorCode.INVALID_ARG, `inference request to model '${model}': ${controls}`);
    }
    const withControls: InferRequest = controls.length === 0
      ? request
      : { ...request, inputs: [...request.inputs, ...controls] };

    return new Promise((resolve) => {
      const now = this.#clock();
      this.#lastSeenNs.set(key, now);
      const queued: SequenceRequest = { request: withControls, arrivedNs: now, resolve, ends };
      if (slot !== undefined) {
        // A START for a sequence that never ended continues in its slot, as Triton does.
        slot.queue.push(queued);
        if (ends) this.#bySequence.delete(key);
      } else if (backlog !== undefined) {
        backlog.queue.push(queued);
        if (ends) this.#backlogBySequence.delete(key);
      } else {
        const free = this.#freeSlot();
        if (free !== undefined) {
          free.key = key;
          free.queue.push(queued);
          if (!ends) this.#bySequence.set(key, free);
        } else {
          const waiting: Backlog = { key, queue: [queued] };
          this.#backlog.push(waiting);
          if (!ends) this.#backlogBySequence.set(key, waiting);
        }
      }
      this.#armReaper();
      this.#pump();
    });
  }

  /** See {@linkcode RequestScheduler.close}; the idle reaper stops too. */
  close(reason: string): Promise<void> {
    this.#closedReason ??= reason;
    if (this.#reaper !== undefined) clearTimeout(this.#reaper);
    this.#reaper = undefined;
    this.#pump();
    if (this.queued === 0 && this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** A free slot on the instance serving the fewest sequences (lowest first). */
  #freeSlot(): Slot | undefined {
    let best: Slot | undefined;
    let bestLoad = Infinity;
    for (const slot of this.#slots) {
      if (slot.key !== undefined) continue;
      const load = this.#slots.filter((other) =>
        other.instance === slot.instance && other.key !== undefined
      ).length;
      if (load < bestLoad) {
        best = slot;
        bestLoad = load;
      }
    }
    return best;
  }

  /** Frees a slot, handing it to the oldest backlogged sequence if any. */
  #release(slot: Slot): void {
    slot.key = undefined;
    slot.releaseWhenDrained = false;
    const next = this.#backlog.shift();
    if (next === undefined) return;
    slot.key = next.key;
    slot.queue.push(...next.queue);
    if (this.#backlogBySequence.get(next.key) === next) {
      this.#backlogBySequence.delete(next.key);
      this.#bySequence.set(next.key, slot);
    }
  }

  #pump(): void {
    for (let instance = 0; instance < this.#busy.length; instance++) {
      if (this.#busy[instance]) continue;
      const ready = this.#slots
        .filter((slot) => slot.instance === instance && slot.queue.length > 0)
        .sort((a, b) => a.queue[0].arrivedNs - b.queue[0].arrivedNs);
      if (ready.length === 0) continue;
      const limit = Math.max(1, this.#policy.maxBatchSize);
      const chosen = ready.slice(0, limit);
      const oldestNs = chosen[0].queue[0].arrivedNs;
      const delayNs = this.#policy.maxQueueDelayUs * 1000;
      const waited = this.#clock() - oldestNs;
      if (
        this.#closedReason === undefined && delayNs > 0 &&
        chosen.length < this.#policy.batchThreshold && waited < delayNs
      ) {
        this.#armBatchTimer(oldestNs + delayNs);
        continue;
      }
      const batch = chosen.map((slot) => {
        const queued = slot.queue.shift()!;
        if (queued.ends || (slot.releaseWhenDrained && slot.queue.length === 0)) {
          this.#release(slot);
        }
        return queued;
      });
      this.#run(instance, batch);
    }
    this.#checkDrained();
  }

  async #run(instance: number, batch: SequenceRequest[]): Promise<void> {
    this.#busy[instance] = true;
    this.#inFlight += 1;
    const outcomes = await runBatch(this.#executor, instance, batch, this.#stats, this.#clock);
    this.#inFlight -= 1;
    this.#busy[instance] = false;
    for (let i = 0; i < batch.length; i++) batch[i].resolve(outcomes[i]);
    this.#pump();
  }

  #checkDrained(): void {
    if (this.queued === 0 && this.#inFlight === 0) {
      for (const waiter of this.#drainWaiters.splice(0)) waiter();
    }
  }

  #armBatchTimer(dueNs: number): void {
    if (this.#batchTimer !== undefined && this.#batchTimerDueNs <= dueNs) return;
    if (this.#batchTimer !== undefined) clearTimeout(this.#batchTimer);
    this.#batchTimerDueNs = dueNs;
    this.#batchTimer = setTimeout(() => {
      this.#batchTimer = undefined;
      this.#pump();
    }, Math.max(0, (dueNs - this.#clock()) / 1e6));
  }

  /** Arms the idle check for the sequence that goes idle first. */
  #armReaper(): void {
    if (this.#reaper !== undefined || this.#closedReason !== undefined) return;
    if (this.#lastSeenNs.size === 0) return;
    const idleNs = this.#policy.maxSequenceIdleUs * 1000;
    const oldest = Math.min(...this.#lastSeenNs.values());
    const delayMs = Math.max(0, (oldest + idleNs - this.#clock()) / 1e6) + 1;
    const reaper = setTimeout(() => {
      this.#reaper = undefined;
      this.reapIdle();
      this.#armReaper();
    }, delayMs);
    // Idle sequences alone must not keep the process running.
    Deno.unrefTimer(reaper);
    this.#reaper = reaper;
  }

  /**
   * Releases the slots of sequences idle for longer than
   * `max_sequence_idle_microseconds` (their queued requests still run first).
   * Runs on a timer; public for tests with a fake clock.
   */
  reapIdle(): void {
    const now = this.#clock();
    const idleNs = this.#policy.maxSequenceIdleUs * 1000;
    for (const [key, seenNs] of this.#lastSeenNs) {
      if (now - seenNs < idleNs) continue;
      const slot = this.#bySequence.get(key);
      if (slot !== undefined) {
        this.#bySequence.delete(key);
        this.#lastSeenNs.delete(key);
        if (slot.queue.length === 0) this.#release(slot);
        else slot.releaseWhenDrained = true;
      } else if (!this.#backlogBySequence.has(key)) {
        this.#lastSeenNs.delete(key); // Ended, or already released.
      }
      // A backlogged sequence is looked at again once it holds a slot.
    }
    this.#pump();
  }
}

function refuse(code: number, message: string): Promise<RequestOutcome> {
  return Promise.resolve(failedOutcome(code, message));
}
