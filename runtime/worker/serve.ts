/**
 * The Worker's loop, once the model is READY: it takes each record from
 * the region's `to_stub` ring and runs it. An EXECUTE is a batch
 * (runtime/worker/run_batch.ts; a decoupled model's goes to
 * runtime/worker/run_decoupled.ts, and a model with several batches in
 * flight runs each as a promise); FINALIZE ends the model and the loop.
 *
 * Between records: spin on `to_stub` while the next batch usually comes
 * within microseconds (runtime/worker/spin_policy.ts; back-to-back batches
 * then cost no system call), then sleep in a blocking read of the Worker's
 * doorbell (runtime/wire/doorbell.ts), which the parent rings: one thread
 * hop, no event loop in between; after a whole tick without a record, sleep
 * in the event loop, so that the model's timers and I/O run on time.
 *
 * @module
 */

import { ErrorCode, TritonError } from "../api/error.ts";
import { drainMetricOps } from "../api/internal.ts";
import { writeErrorTextIn } from "../wire/error_text.ts";
import { ERROR_CODE, FINALIZED_AUX, MSG, TRACE_EVENT } from "../wire/layout.ts";
import type { LogSender } from "../wire/log_sender.ts";
import { encodeMetricBatch } from "../wire/metrics_codec.ts";
import { wireRecord } from "../wire/ring.ts";
import { describeError, formatError } from "./describe_error.ts";
import type { Inbox } from "./inbox.ts";
import type { LoadedModel } from "./load_model.ts";
import type { ParentLink } from "./parent_link.ts";
import { type BatchAnswer, type BatchContext, batchFailure, runBatch } from "./run_batch.ts";
import { type OpenRequests, runDecoupledBatch } from "./run_decoupled.ts";
import { SpinPolicy } from "./spin_policy.ts";
import type { TraceMarks } from "./trace_marks.ts";

/** Exit code that has the parent start a new stub. */
export const EXIT_RESTART = 1;

/** What the loop serves with: the model and the region, as `main.ts` set them up. */
export interface ServeLoop {
  /** The model, its configuration and the arena. */
  context: BatchContext;
  /** The rings and doorbells to the parent. */
  link: ParentLink;
  /** Where records arrive (side records go to their handlers). */
  inbox: Inbox;
  /** The model's log lines, sent before each answer. */
  slot: LogSender;
  /** A decoupled model's requests still open. */
  open: OpenRequests;
  /** The parent's hop tracing. */
  marks: TraceMarks;
  /** Whether the parent may send several batches at once (`deno.max_batches_in_flight`). */
  batchesOverlap: boolean;
  /**
   * Whether an error that escaped the model (outside anything it awaits)
   * leaves its running work stuck: a permission denial or a resource limit.
   */
  mustInterrupt: (error: unknown) => boolean;
  /**
   * Receives the function that fails the running work at once for such an
   * error and restarts the stub (the realm's error handlers call it);
   * it returns whether it did.
   */
  setInterrupt: (interrupt: (error: unknown) => boolean) => void;
}

/** How long to busy-wait for the next batch (runtime/worker/spin_policy.ts). */
const spinPolicy = new SpinPolicy();

/**
 * Serves records until FINALIZE (or until the stub must restart).
 *
 * @param loop The model, the region and the realm's hooks.
 */
export async function serve(loop: ServeLoop): Promise<void> {
  const { context, link, inbox, slot, open, marks } = loop;
  const decoupled = context.config.modelTransactionPolicy?.decoupled === true;
  // A model that is not decoupled but may have several batches in flight
  // (deno.max_batches_in_flight; the parent enforces the number) runs each
  // batch as a promise, as a decoupled model does, and answers each with
  // its RESULT when it settles.
  const overlapping = !decoupled && loop.batchesOverlap;
  let running = 0;
  // The batch of a model that is not decoupled runs between these.
  let batchRunning = false;
  let interrupted = false;
  loop.setInterrupt((error) => {
    if (interrupted || (!batchRunning && running === 0 && open.size === 0)) return false;
    if (!loop.mustInterrupt(error)) return false;
    // The work in flight fails now (batch id 0: all of it), and the stub
    // restarts, so that nothing the stuck work does later can reach the
    // arena or the rings.
    interrupted = true;
    context.halted = () => true;
    const { code, text } = batchFailure(context, error);
    slot.flush();
    const written = writeErrorTextIn(context.stubArena.scope(), `${text}; the stub is restarting`);
    link.toParent.push(wireRecord(MSG.ERROR, code, 0n, written.offset, written.length));
    link.requestExit(EXIT_RESTART);
    return true;
  });
  /** A batch's RESULT to the parent, with the log lines and metrics before it. */
  const sendAnswer = (answer: BatchAnswer) => {
    slot.flush();
    flushMetrics(context, link);
    marks.mark(TRACE_EVENT.RESULT_SENT, answer.record.id);
    link.toParent.push(answer.record);
    answer.scope.seal(link.toParent.published);
    marks.flush();
  };
  // A stream that outlives its execute keeps the event loop busy (the
  // model sends from timers and promises) until it closes.
  open.onEmpty = () => {
    if (running === 0) link.setEventLoopBusy(false);
  };
  for (;;) {
    // Spin without a promise on the busy path; sleep (letting the event
    // loop turn) only when nothing came.
    const answeredAt = performance.now();
    const spin = spinPolicy.nextSpinMicros();
    let next = inbox.poll(spin);
    while (next === undefined) {
      // Idle: block on the doorbell, no promise between wake-up and record.
      const woke = inbox.nextBlocking(link.sleepOnDoorbell);
      if (woke === "tick") {
        // A whole tick without a record: sleep in the event loop until one
        // comes, so that the model's timers and I/O run on time and no
        // thread wakes this one for nothing (an idle instance costs no CPU).
        link.sleepInEventLoop(true);
        try {
          next = await inbox.nextAsync();
        } finally {
          link.sleepInEventLoop(false);
        }
      } else if (woke === undefined || woke === "closed") {
        next = await inbox.nextAsync();
      } else {
        next = woke;
      }
    }
    spinPolicy.noteWait(spin, (performance.now() - answeredAt) * 1000);
    switch (next.kind) {
      case MSG.EXECUTE: {
        marks.mark(TRACE_EVENT.EXECUTE_TAKEN, next.id);
        if (decoupled) {
          slot.flush();
          running++;
          link.setEventLoopBusy(true);
          runDecoupledBatch(context, next, link.toParent, open).catch((error) => {
            console.error(
              `model '${context.modelName}': decoupled batch failed: ${
                formatError(describeError(error))
              }`,
            );
          }).finally(() => {
            flushMetrics(context, link);
            running--;
            if (running === 0 && open.size === 0) link.setEventLoopBusy(false);
            slot.flush();
          });
          marks.flush();
          break;
        }
        // Lines that waited while the parent was idle go out while it listens.
        slot.flush();
        if (overlapping) {
          running++;
          link.setEventLoopBusy(true);
          const batchId = next.id;
          runBatch(context, next).then((answer) => {
            // Already answered for, and the stub is on its way out.
            if (!interrupted) sendAnswer(answer);
          }, (error) => {
            // runBatch answers the model's failures itself; this is the
            // runtime's own, and the batch still gets its answer now.
            if (interrupted) return;
            const { code, text } = batchFailure(context, error);
            const scope = context.stubArena.scope();
            const written = writeErrorTextIn(scope, text);
            link.toParent.push(
              wireRecord(MSG.ERROR, code, batchId, written.offset, written.length),
            );
            scope.seal(link.toParent.published);
          }).finally(() => {
            running--;
            if (running === 0 && open.size === 0) link.setEventLoopBusy(false);
          });
          marks.flush();
          break;
        }
        batchRunning = true;
        const answer = await runBatch(context, next);
        batchRunning = false;
        // Already answered for, and the stub is on its way out.
        if (interrupted) return;
        sendAnswer(answer);
        break;
      }
      case MSG.FINALIZE:
        if (decoupled || overlapping) await closeLeftovers(context.modelName, open, () => running);
        {
          const outcome = await finalize(context.modelName, context.model);
          // Every line the model logged goes out before FINALIZED: the
          // parent reads the ring until then.
          await drainLog(slot);
          link.toParent.push(wireRecord(MSG.FINALIZED, outcome));
        }
        link.requestExit(0);
        return;
      default: {
        const known = next.kind < 64;
        const text = known
          ? `the stub received record kind ${next.kind} while idle`
          : `the model runtime does not know record kind ${next.kind}`;
        const scope = context.stubArena.scope();
        const written = writeErrorTextIn(scope, text);
        link.toParent.push(
          wireRecord(
            MSG.ERROR,
            known ? ERROR_CODE.INTERNAL : ERROR_CODE.UNSUPPORTED,
            next.id,
            written.offset,
            written.length,
          ),
        );
        scope.seal(link.toParent.published);
      }
    }
  }
}

/**
 * Sends the model's queued metric operations as one METRICS record (the
 * parent applies them through Triton's metrics API). Called with each
 * batch's answer: updates are batched, never a round trip each.
 */
export function flushMetrics(context: BatchContext, link: ParentLink): void {
  const ops = drainMetricOps();
  if (ops === undefined) return;
  const scope = context.stubArena.scope();
  const bytes = encodeMetricBatch(ops);
  const offset = scope.reserve(bytes.byteLength);
  new Uint8Array(context.arena, offset, bytes.byteLength).set(bytes);
  link.toParent.push(wireRecord(MSG.METRICS, 0, 0n, offset, bytes.byteLength));
  scope.seal(link.toParent.published);
}

/** Sends every queued log line, waiting (up to 2 s) for room on the ring. */
async function drainLog(slot: LogSender): Promise<void> {
  const giveUpAt = performance.now() + 2000;
  slot.flush();
  while (slot.pending > 0 && performance.now() < giveUpAt) {
    await new Promise((resolve) => setTimeout(resolve, 1));
    slot.flush();
  }
}

/**
 * Before the finalize of a model whose batches overlap (decoupled, or
 * `deno.max_batches_in_flight` above 1): waits (up to 2 s) for running
 * executes, then closes every request the model left open with an error
 * that says so: a request must never hang.
 */
async function closeLeftovers(
  modelName: string,
  open: OpenRequests,
  running: () => number,
): Promise<void> {
  const giveUpAt = performance.now() + 2000;
  while (running() > 0 && performance.now() < giveUpAt) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  for (const request of [...open]) {
    request.fail(
      new TritonError(
        `model '${modelName}' did not close the response sender of request '${request.requestId}' before the instance was finalized`,
        ErrorCode.INTERNAL,
      ),
    );
  }
}

/** Runs the model's `finalize`; its failure is logged, and the parent told. */
async function finalize(modelName: string, model: LoadedModel): Promise<number> {
  if (model.finalize === undefined) return FINALIZED_AUX.OK;
  try {
    await model.finalize();
    return FINALIZED_AUX.OK;
  } catch (error) {
    console.error(`model '${modelName}': finalize() failed: ${formatError(describeError(error))}`);
    return FINALIZED_AUX.THREW;
  }
}
