/**
 * Runs one batch on an executor's instance and records it in the model's
 * statistics: the step the dynamic and the sequence batcher share once they
 * have chosen a batch.
 *
 * @module
 */

import { ErrorCode } from "../api/error.ts";
import type { BatchExecutor } from "./scheduler.ts";
import type { ModelStatistics, RequestRecord } from "./stats.ts";
import type { InferRequest, RequestOutcome } from "./types.ts";

/** A request waiting for (or in) a batch. */
export interface QueuedRequest {
  /** The request. */
  readonly request: InferRequest;
  /** When it arrived (monotonic ns), for the queue time. */
  readonly arrivedNs: number;
  /** Answers the client. */
  readonly resolve: (outcome: RequestOutcome) => void;
}

/**
 * Executes `batch` on `instance` and records it; resolves with one outcome
 * per request, in order. An executor that throws, or answers with the wrong
 * number of outcomes, fails every request of the batch with `INTERNAL`.
 *
 * @example
 * ```ts
 * import { runBatch } from "./batch_run.ts";
 * import { FakeExecutor, fakeRequest } from "./_test_fakes.ts";
 * import { ModelStatistics } from "./stats.ts";
 *
 * const executor = new FakeExecutor(1, { autoComplete: true });
 * const batch = [{ request: fakeRequest("a"), arrivedNs: 0, resolve: () => {} }];
 * const outcomes = await runBatch(executor, 0, batch, new ModelStatistics("m", 1), () => 0);
 * console.log(outcomes[0].result.ok); // true
 * ```
 */
export async function runBatch(
  executor: BatchExecutor,
  instance: number,
  batch: readonly QueuedRequest[],
  stats: ModelStatistics,
  clock: () => number,
): Promise<RequestOutcome[]> {
  const startNs = clock();
  let outcomes: RequestOutcome[];
  try {
    outcomes = await executor.execute(instance, batch.map((queued) => queued.request));
    if (outcomes.length !== batch.length) {
      throw new Error(`executor returned ${outcomes.length} outcomes for ${batch.length} requests`);
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    outcomes = batch.map(() => failedOutcome(ErrorCode.INTERNAL, message));
  }
  const endNs = clock();
  const records: RequestRecord[] = batch.map((queued, i) => ({
    success: outcomes[i].result.ok,
    batchSize: queued.request.batchSize,
    totalNs: endNs - queued.arrivedNs,
    queueNs: startNs - queued.arrivedNs,
    timings: outcomes[i].timings,
  }));
  stats.recordBatch(records);
  return outcomes;
}

/** An outcome that fails a request without running it. */
export function failedOutcome(code: number, message: string): RequestOutcome {
  return { result: { ok: false, code, message }, timings: undefined, release() {} };
}
