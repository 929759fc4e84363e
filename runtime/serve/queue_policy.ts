/**
 * The dynamic batcher's queue as Triton keeps it: one queue per priority
 * level (lower levels first), each with its queue policy — a size limit,
 * and a timeout after which a waiting request is rejected ("Request timeout
 * expired") or delayed behind the level's other requests.
 *
 * A request's `priority` parameter picks its level; 0, or a level beyond
 * `priority_levels`, means `default_priority_level`. Without
 * `priority_levels` every request shares level 0. Its `timeout` parameter
 * shortens the level's default timeout when the policy allows an override
 * (it cannot lengthen it, nor set one where the policy has none).
 *
 * @module
 */

import {
  type ModelDynamicBatching,
  type ModelQueuePolicy,
  ModelQueuePolicy_TimeoutAction,
} from "../model_config/mod.ts";

/** What happens to a request that waited longer than its timeout. */
export type TimeoutAction = "REJECT" | "DELAY";

/** One priority level's queue policy (`ModelQueuePolicy`). */
export interface QueuePolicy {
  /** Reject the request, or move it behind the level's other requests. */
  readonly timeoutAction: TimeoutAction;
  /** How long a request may wait, in microseconds; 0 for no limit. */
  readonly defaultTimeoutUs: number;
  /** Whether a request's `timeout` may shorten `defaultTimeoutUs`. */
  readonly allowTimeoutOverride: boolean;
  /** How many requests the level may hold; 0 for no limit. */
  readonly maxQueueSize: number;
}

/** How requests are ordered and limited (from `dynamic_batching`). */
export interface PriorityPolicy {
  /** `priority_levels`; 0 means no priorities. */
  readonly levels: number;
  /** The level of requests that give none (or one out of range). */
  readonly defaultLevel: number;
  /** Per level, its policy (levels not listed use `defaultPolicy`). */
  readonly perLevel: ReadonlyMap<number, QueuePolicy>;
  /** `default_queue_policy`. */
  readonly defaultPolicy: QueuePolicy;
}

/** No priorities, no limits, no timeouts: a plain FIFO. */
export const FIFO_POLICY: PriorityPolicy = Object.freeze({
  levels: 0,
  defaultLevel: 0,
  perLevel: new Map(),
  defaultPolicy: Object.freeze({
    timeoutAction: "REJECT",
    defaultTimeoutUs: 0,
    allowTimeoutOverride: false,
    maxQueueSize: 0,
  }),
});

/**
 * The priority policy of a `dynamic_batching` setting.
 *
 * @throws {Error} If `default_priority_level` is outside `1..priority_levels`.
 *
 * @example
 * ```ts
 * import { priorityPolicy } from "./queue_policy.ts";
 * import { parseModelConfigText } from "../model_config/mod.ts";
 *
 * const config = parseModelConfigText(
 *   'dynamic_batching { priority_levels: 2 default_priority_level: 2 }',
 * );
 * if (config.schedulingChoice.case === "dynamicBatching") {
 *   console.log(priorityPolicy(config.schedulingChoice.value).defaultLevel); // 2
 * }
 * ```
 */
export function priorityPolicy(settings: ModelDynamicBatching | undefined): PriorityPolicy {
  if (settings === undefined) return FIFO_POLICY;
  const levels = Number(settings.priorityLevels);
  const defaultLevel = Number(settings.defaultPriorityLevel);
  if (levels > 0 && (defaultLevel < 1 || defaultLevel > levels)) {
    throw new Error(
      `default_priority_level must be in range [1, ${levels}] (priority_levels), ` +
        `got ${defaultLevel}`,
    );
  }
  const perLevel = new Map<number, QueuePolicy>();
  for (const [level, policy] of Object.entries(settings.priorityQueuePolicy)) {
    perLevel.set(Number(level), queuePolicy(policy));
  }
  return {
    levels,
    defaultLevel: levels > 0 ? defaultLevel : 0,
    perLevel,
    defaultPolicy: settings.defaultQueuePolicy === undefined
      ? FIFO_POLICY.defaultPolicy
      : queuePolicy(settings.defaultQueuePolicy),
  };
}

function queuePolicy(policy: ModelQueuePolicy): QueuePolicy {
  return {
    timeoutAction: policy.timeoutAction === ModelQueuePolicy_TimeoutAction.DELAY
      ? "DELAY"
      : "REJECT",
    defaultTimeoutUs: Number(policy.defaultTimeoutMicroseconds),
    allowTimeoutOverride: policy.allowTimeoutOverride,
    maxQueueSize: policy.maxQueueSize,
  };
}

/** The level a request's `priority` parameter puts it at. */
export function priorityLevel(policy: PriorityPolicy, priority: number): number {
  if (policy.levels === 0) return 0;
  return priority === 0 || priority > policy.levels ? policy.defaultLevel : priority;
}

interface Entry<T> {
  readonly item: T;
  readonly level: number;
  readonly order: number;
  /** When it times out (monotonic ns), 0 for never. */
  readonly deadlineNs: number;
  delayed: boolean;
}

/**
 * Requests ordered by level, then (within a level) waiting ones before
 * delayed ones, then arrival.
 *
 * @example
 * ```ts
 * import { FIFO_POLICY, RequestQueue } from "./queue_policy.ts";
 *
 * const queue = new RequestQueue<string>(FIFO_POLICY);
 * queue.enqueue("a", 0, 0n, 0);
 * console.log(queue.items()); // ["a"]
 * ```
 */
export class RequestQueue<T> {
  readonly #policy: PriorityPolicy;
  #entries: Entry<T>[] = [];
  #order = 0;

  /** @param policy The levels and their queue policies. */
  constructor(policy: PriorityPolicy) {
    this.#policy = policy;
  }

  /** How many requests wait. */
  get length(): number {
    return this.#entries.length;
  }

  /**
   * Queues `item`. Returns the reason when its level is full (Triton's
   * "Exceeds maximum queue size"), else `undefined`.
   */
  enqueue(item: T, priority: number, timeoutUs: bigint, nowNs: number): string | undefined {
    const level = priorityLevel(this.#policy, priority);
    const policy = this.#levelPolicy(level);
    if (
      policy.maxQueueSize > 0 &&
      this.#entries.filter((entry) => entry.level === level).length >= policy.maxQueueSize
    ) {
      return "Exceeds maximum queue size";
    }
    let timeout = policy.defaultTimeoutUs;
    const requested = Number(timeoutUs);
    // Only shorter, as Triton's PolicyQueue has it: with no default timeout
    // (0) a request's own timeout does not apply in the queue.
    if (policy.allowTimeoutOverride && requested !== 0 && requested < timeout) {
      timeout = requested;
    }
    const entry: Entry<T> = {
      item,
      level,
      order: this.#order++,
      deadlineNs: timeout === 0 ? 0 : nowNs + timeout * 1000,
      delayed: false,
    };
    // Insert after every entry that goes first; most requests land at the end.
    let at = this.#entries.length;
    while (at > 0 && this.#before(entry, this.#entries[at - 1])) at--;
    this.#entries.splice(at, 0, entry);
    return undefined;
  }

  /**
   * Applies the timeouts at `nowNs`: expired requests under REJECT are
   * removed and returned; under DELAY they move behind their level.
   */
  expire(nowNs: number): T[] {
    const rejected: T[] = [];
    let moved = false;
    this.#entries = this.#entries.filter((entry) => {
      if (entry.deadlineNs === 0 || entry.delayed || nowNs <= entry.deadlineNs) return true;
      if (this.#levelPolicy(entry.level).timeoutAction === "DELAY") {
        entry.delayed = true;
        moved = true;
        return true;
      }
      rejected.push(entry.item);
      return false;
    });
    if (moved) this.#entries.sort((a, b) => (this.#before(a, b) ? -1 : 1));
    return rejected;
  }

  /** The earliest deadline still to act on (monotonic ns), or `undefined`. */
  nextDeadline(): number | undefined {
    let earliest: number | undefined;
    for (const entry of this.#entries) {
      if (entry.deadlineNs === 0 || entry.delayed) continue;
      if (earliest === undefined || entry.deadlineNs < earliest) earliest = entry.deadlineNs;
    }
    return earliest;
  }

  /** The waiting requests in the order they are served. */
  items(): T[] {
    return this.#entries.map((entry) => entry.item);
  }

  /** Removes and returns the first `count` requests. */
  take(count: number): T[] {
    return this.#entries.splice(0, count).map((entry) => entry.item);
  }

  #levelPolicy(level: number): QueuePolicy {
    return this.#policy.perLevel.get(level) ?? this.#policy.defaultPolicy;
  }

  /** Whether `a` is served before `b`. */
  #before(a: Entry<T>, b: Entry<T>): boolean {
    if (a.level !== b.level) return a.level < b.level;
    if (a.delayed !== b.delayed) return !a.delayed;
    return a.order < b.order;
  }
}
