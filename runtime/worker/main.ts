/**
 * The model's Worker: an untrusted realm with only the sandbox's permissions
 * (the model directory, plus what its sandbox grants). It keeps nothing secret or powerful: the model
 * can see and forge anything here, including the records on the region's
 * rings, and the parent checks every record and every byte it reads.
 *
 * Order: wait for the start message, harden the realm as it says (WebGPU
 * granted or not; denials and the model's output go to Triton's log through
 * LOG records, runtime/wire/log_sender.ts), import and construct
 * the model, `initialize` it, answer READY or ERROR on the region's
 * `to_parent` ring; then serve EXECUTE and FINALIZE records straight from
 * the region's `to_stub` ring (runtime/worker/parent_link.ts): the main
 * thread is not on the request path.
 *
 * Waiting between batches: spin on `to_stub` when the next batch usually
 * comes within microseconds (runtime/worker/spin_policy.ts; back-to-back
 * batches then cost no system call), then sleep in a blocking read of the Worker's
 * doorbell (runtime/wire/doorbell.ts), which the parent rings: one thread
 * hop, no event loop in between. The main thread's first tick (within
 * 50 ms with timers pending, a second without) moves it to a sleep in its
 * event loop, where the model's timers and promises run on their own and
 * no more ticks come, until a record does. Awaiting
 * the answers of calls to other models, it sleeps on its doorbell as well,
 * once the model's ready work has run, ticked every 10 ms. With a decoupled
 * model's work pending it sleeps through the main thread's futex proxy
 * (runtime/wire/futex_proxy.ts) without blocking its event loop.
 *
 * @module
 */

// The public API is loaded here, before the model: the model's
// `import "@triton/deno"` then resolves to this already-loaded module, which
// needs no read permission outside the model directory.
import "@triton/deno";
import { denialOf, formatDenial, limitHitOf, workerRefusalOf } from "./denials.ts";
import { hardenRealm } from "./harden_realm.ts";
import { ErrorCode, TritonError } from "../api/error.ts";
import {
  drainMetricOps,
  makeAutoCompleteConfig,
  makeInitializeArgs,
  setBlsTransport,
  setLogSink,
} from "../api/internal.ts";
import { modelConfigFromJson } from "../model_config/from_json.ts";
import { writeErrorText, writeErrorTextIn } from "../wire/error_text.ts";
import {
  ERROR_CODE,
  FINALIZED_AUX,
  LOG_LEVEL,
  MSG,
  PROGRESS_PHASE,
  READY_FLAG,
  RECORD_FLAG,
  TRACE_EVENT,
} from "../wire/layout.ts";
import { stdioDoorbell } from "../wire/doorbell.ts";
import { LogSender } from "../wire/log_sender.ts";
import type { WireRecord } from "../wire/ring.ts";
import { encodeMetricBatch } from "../wire/metrics_codec.ts";
import { StubArena } from "../wire/stub_arena.ts";
import { WorkerBlsTransport } from "./bls_transport.ts";
import { Cancellations } from "./cancellations.ts";
import { Inbox } from "./inbox.ts";
import { parseInstanceArgs } from "./instance_args.ts";
import { OpenRequests, runDecoupledBatch } from "./run_decoupled.ts";
import { clientText } from "./client_text.ts";
import { describeError, formatError } from "./describe_error.ts";
import { type LoadedModel, loadModel, ModelShapeError } from "./load_model.ts";
import { openParentLink, type ParentLink } from "./parent_link.ts";
import { type BatchAnswer, type BatchContext, batchFailure, runBatch } from "./run_batch.ts";
import { ReadinessProbes } from "./readiness.ts";
import { SpinPolicy } from "./spin_policy.ts";
import { trackTimers } from "./timers.ts";
import { TraceMarks } from "./trace_marks.ts";
import type { WorkerStart } from "./start_message.ts";

// Kept before hardening disables it for the model: the runtime's own way out.
// The realm is hardened when the start message says how (WebGPU granted or
// not), before the model is imported.
const closeWorker = globalThis.close.bind(globalThis);
// Bound before the realm is hardened, which takes Deno.stdin and
// Deno.stdout from the model: the doorbells on descriptors 0 and 1.
const doorbell = stdioDoorbell();
// Wrapped before any model code runs: a blocked idle Worker with no timers
// pending is ticked after a second instead of after 50 ms.
const timers = trackTimers();

let modelName = "(loading)";

/** Where permission denials go (Triton's log, through the parent); set at start. */
let logSlot: LogSender | undefined;

/**
 * Reports a denied import (a TypeError the loader threw), node's chdir or
 * abort refused in the Worker, or a resource limit (memory, descriptors)
 * that reached the runtime.
 */
function noticeError(error: unknown): void {
  const denial = denialOf(error) ?? workerRefusalOf(error);
  if (denial !== undefined) logSlot?.send(LOG_LEVEL.WARN, formatDenial(denial));
  const limit = limitHitOf(error);
  if (limit !== undefined) logSlot?.send(LOG_LEVEL.WARN, limit);
}

/**
 * Set while model work runs: fails it at once when a permission denial or
 * a resource limit escapes the model outside anything it awaits (Node's
 * `dgram`, for one, throws a denial from a tick of its own), since that
 * work would otherwise wait for its deadline. Returns whether it did.
 */
let interruptWork: ((error: unknown) => boolean) | undefined;
// Taken before any model code runs.
const NotCapable = Deno.errors.NotCapable;

/** Whether `error` is a permission denial or a resource limit. */
function deniedOrLimited(error: unknown): boolean {
  return error instanceof NotCapable || denialOf(error) !== undefined ||
    limitHitOf(error) !== undefined;
}

// Errors the model leaves behind (a rejected promise nobody awaited, a throw
// in a timer) are logged, not fatal: the batch's own outcome decides, except
// for denials and limits that leave the running work stuck (interruptWork).
self.addEventListener("unhandledrejection", (event: PromiseRejectionEvent) => {
  event.preventDefault();
  noticeError(event.reason);
  interruptWork?.(event.reason);
  console.error(
    `model '${modelName}': unhandled promise rejection: ${
      formatError(describeError(event.reason))
    }`,
  );
});
self.addEventListener("error", (event: ErrorEvent) => {
  event.preventDefault();
  noticeError(event.error);
  interruptWork?.(event.error);
  console.error(
    `model '${modelName}': uncaught error: ${
      formatError(describeError(event.error ?? event.message))
    }`,
  );
});

self.addEventListener("message", (event: Event) => {
  const message = (event as MessageEvent<WorkerStart>).data;
  let link: ParentLink | undefined;
  start(message, (opened) => (link = opened)).catch((error) => {
    // A bug of the runtime itself (or a model that broke the rings): log
    // the details, tell the parent if the rings still work, and have the
    // main thread end the stub so that the parent restarts it.
    const text = `model '${modelName}': Worker runtime failed: ${
      formatError(describeError(error))
    }`;
    console.error(text);
    try {
      if (link !== undefined) {
        // The stub is about to die: its half's start is as good as any place.
        const written = writeErrorText(
          message.arena,
          message.arena.byteLength,
          message.stubBase,
          text,
        );
        link.toParent.tryPush(
          record(MSG.ERROR, ERROR_CODE.INTERNAL, 0n, written.offset, written.length),
        );
      }
    } finally {
      link?.requestExit(EXIT_RESTART);
      closeWorker();
    }
  });
}, { once: true });

/** Exit code that has the parent start a new stub. */
const EXIT_RESTART = 1;

function record(kind: number, aux = 0, id = 0n, offset = 0, length = 0): WireRecord {
  return { kind, flags: 0, aux, id, offset, length };
}

async function start(message: WorkerStart, opened: (link: ParentLink) => void): Promise<void> {
  const arena = message.arena;
  const link = openParentLink(
    message.control,
    message.proxy,
    doorbell,
    () => timers.pending() > 0,
  );
  opened(link);
  modelName = message.initialize.modelName;
  // Everything this thread writes goes in the stub's half of the arena.
  const stubArena = new StubArena({
    arena,
    base: message.stubBase,
    size: message.stubBase,
    parentDone: () => link.toParent.peerDone(),
  });
  const slot = new LogSender(stubArena, link.toParent);
  logSlot = slot;
  hardenRealm({
    allowGpu: message.allowGpu,
    onDenial: (denial) => slot.send(LOG_LEVEL.WARN, formatDenial(denial)),
    output: (level, text) => slot.send(level, text),
  });

  // The model's logger writes to Triton's log the same way.
  setLogSink((level, text) => slot.send(level, text));

  const inbox = new Inbox(link.toStub);
  // The parent's hop tracing (ffi/src/trace.h), when it is on.
  const marks = new TraceMarks(link.toParent, message.trace === true);
  // Calls to other models work from initialize on (not while the module
  // loads); while they are in flight the transport keeps the inbox read.
  const bls = new WorkerBlsTransport({
    arena,
    stubArena,
    inbox,
    toParent: link.toParent,
    setBusy: (busy) => link.setEventLoopBusy(busy, "bls"),
    marks,
  });

  let model: LoadedModel;
  try {
    // Phase markers for the parent's start timeout (it measures silence).
    link.toParent.tryPush(record(MSG.PROGRESS, PROGRESS_PHASE.LOADING));
    model = await loadModel(message.modelUrl);
    if (message.autoComplete) await autoComplete(model, message, link, arena, stubArena);
    setBlsTransport(bls);
    if (model.initialize !== undefined) {
      link.toParent.tryPush(record(MSG.PROGRESS, PROGRESS_PHASE.INITIALIZING));
      await model.initialize(makeInitializeArgs(message.initialize));
    }
  } catch (thrown) {
    // The model's own error, and which of its methods threw it if not the module or initialize.
    const error = thrown instanceof AutoCompleteThrew ? thrown.cause : thrown;
    const phase = thrown instanceof AutoCompleteThrew
      ? "its static autoCompleteConfig threw: "
      : "";
    noticeError(error);
    const description = describeError(error, isTritonError);
    const code = description.code ??
      (error instanceof ModelShapeError ? ERROR_CODE.INVALID_ARG : ERROR_CODE.INTERNAL);
    const full = `failed to load model '${modelName}': ${phase}${formatError(description)}`;
    // Triton's log keeps every frame; the load error, which Triton's
    // repository index and a client's load request show, keeps the model's
    // own frames (relative) and no server path.
    slot.send(LOG_LEVEL.ERROR, full);
    const text = clientText(full, message.initialize.modelRepository);
    slot.flush();
    const written = writeErrorTextIn(stubArena.scope(), text);
    link.toParent.push(record(MSG.ERROR, code, 0n, written.offset, written.length));
    link.requestExit(EXIT_RESTART);
    return;
  }

  // Requests of a decoupled model still open (their FINAL not sent).
  const open = new OpenRequests();
  const cancellations = new Cancellations(inbox, (batchId, index) => {
    // The parent ended the request itself; this is its last record for it.
    const acknowledge = () =>
      link.toParent.push({
        kind: MSG.RESPONSE,
        flags: RECORD_FLAG.CLOSED,
        aux: index,
        id: batchId,
        offset: 0,
        length: 0,
      });
    const entry = open.find(batchId, index);
    if (entry === undefined) acknowledge();
    else entry.endedByServer(acknowledge);
  });
  const context: BatchContext = {
    model,
    modelName,
    // The runtime's own copy: the model may mutate the one it was given.
    config: modelConfigFromJson(message.initialize.modelConfigJson),
    arena,
    stubArena,
    cancellations,
    noticeError,
    // What leaves the stub in an error is cut to what a client may see;
    // Triton's log gets the whole text first.
    modelDirectory: message.initialize.modelRepository,
    logFailure: (text) => slot.send(LOG_LEVEL.ERROR, text),
    marks,
  };
  context.flushMetrics = () => flushMetrics(context, link);
  // The model's isReady(), asked by the parent when Triton checks readiness.
  const readiness = new ReadinessProbes(model, {
    stubArena,
    toParent: link.toParent,
    setBusy: (busy) => link.setEventLoopBusy(busy, "ready"),
  });
  inbox.on(MSG.IS_READY, (probe) => readiness.probe(probe.id));
  // The main thread stopped touching the rings before it posted the start
  // message: from here on this thread alone uses them.
  slot.flush();
  link.toParent.push(record(MSG.READY, readiness.hooked ? READY_FLAG.HAS_IS_READY : 0));
  await serve(context, link, inbox, slot, open, marks, message.batchesInFlight > 1);
}

/** How long to busy-wait for the next batch (runtime/worker/spin_policy.ts). */
const spinPolicy = new SpinPolicy();

async function serve(
  context: BatchContext,
  link: ParentLink,
  inbox: Inbox,
  slot: LogSender,
  open: OpenRequests,
  marks: TraceMarks,
  batchesOverlap: boolean,
): Promise<void> {
  const decoupled = context.config.modelTransactionPolicy?.decoupled === true;
  // A model that is not decoupled but may have several batches in flight
  // (deno.max_batches_in_flight; the parent enforces the number) runs each
  // batch as a promise, as a decoupled model does, and answers each with
  // its RESULT when it settles.
  const overlapping = !decoupled && batchesOverlap;
  let running = 0;
  // The batch of a model that is not decoupled runs between these.
  let batchRunning = false;
  let interrupted = false;
  interruptWork = (error) => {
    if (interrupted || (!batchRunning && running === 0 && open.size === 0)) return false;
    if (!deniedOrLimited(error)) return false;
    // The work in flight fails now (batch id 0: all of it), and the stub
    // restarts, so that nothing the stuck work does later can reach the
    // arena or the rings.
    interrupted = true;
    context.halted = () => true;
    const { code, text } = batchFailure(context, error);
    slot.flush();
    const written = writeErrorTextIn(context.stubArena.scope(), `${text}; the stub is restarting`);
    link.toParent.push(record(MSG.ERROR, code, 0n, written.offset, written.length));
    link.requestExit(EXIT_RESTART);
    return true;
  };
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
              `model '${modelName}': decoupled batch failed: ${formatError(describeError(error))}`,
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
            link.toParent.push(record(MSG.ERROR, code, batchId, written.offset, written.length));
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
        if (decoupled || overlapping) await closeLeftovers(open, () => running);
        {
          const outcome = await finalize(context.model);
          // Every line the model logged goes out before FINALIZED: the
          // parent reads the ring until then.
          await drainLog(slot);
          link.toParent.push(record(MSG.FINALIZED, outcome));
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
          record(
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
 * Auto-completion (ffi/src/auto_complete.h): runs the model class's static
 * `autoCompleteConfig` on the configuration, answers CONFIG with the result
 * (nothing when the class has no such method), then waits for INSTANCE and
 * takes from it the instance's identity and the final configuration, which
 * `initialize` and the runtime then use.
 */
async function autoComplete(
  model: LoadedModel,
  message: WorkerStart,
  link: ParentLink,
  arena: ArrayBuffer,
  stubArena: StubArena,
): Promise<void> {
  const modelClass = (model as { constructor?: unknown }).constructor as
    | { autoCompleteConfig?: unknown }
    | undefined;
  const method = modelClass?.autoCompleteConfig;
  let offset = 0;
  let length = 0;
  const scope = stubArena.scope();
  if (typeof method === "function") {
    const config = makeAutoCompleteConfig(message.initialize.modelConfigJson);
    try {
      await method.call(modelClass, config);
    } catch (error) {
      throw new AutoCompleteThrew(error);
    }
    const bytes = new TextEncoder().encode(JSON.stringify(config.config));
    offset = scope.reserve(bytes.byteLength);
    new Uint8Array(arena, offset, bytes.byteLength).set(bytes);
    length = bytes.byteLength;
  }
  link.toParent.push(record(MSG.CONFIG, 0, 0n, offset, length));
  scope.seal(link.toParent.published);
  const instance = await link.toStub.popAsync(Infinity, 50);
  if (instance === undefined || instance.kind !== MSG.INSTANCE) {
    throw new Error(`expected INSTANCE after CONFIG, got record kind ${instance?.kind}`);
  }
  const text = new TextDecoder("utf-8", { fatal: true }).decode(
    new Uint8Array(arena, instance.offset, instance.length),
  );
  link.toStub.markDone();
  const fields = parseInstanceArgs(text);
  message.initialize.modelConfigJson = fields.model_config;
  message.initialize.modelInstanceName = fields.model_instance_name;
  message.initialize.modelInstanceKind = fields.model_instance_kind;
  message.initialize.modelInstanceDeviceId = fields.model_instance_device_id;
}

/** What the model's static autoCompleteConfig threw (`cause`). */
class AutoCompleteThrew extends Error {
  /** @param cause The model's error. */
  constructor(cause: unknown) {
    super("autoCompleteConfig threw", { cause });
    this.name = "AutoCompleteThrew";
  }
}

/**
 * Sends the model's queued metric operations as one METRICS record (the
 * parent applies them through Triton's metrics API). Called with each
 * batch's answer: updates are batched, never a round trip each.
 */
function flushMetrics(context: BatchContext, link: ParentLink): void {
  const ops = drainMetricOps();
  if (ops === undefined) return;
  const scope = context.stubArena.scope();
  const bytes = encodeMetricBatch(ops);
  const offset = scope.reserve(bytes.byteLength);
  new Uint8Array(context.arena, offset, bytes.byteLength).set(bytes);
  link.toParent.push(record(MSG.METRICS, 0, 0n, offset, bytes.byteLength));
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
async function closeLeftovers(open: OpenRequests, running: () => number): Promise<void> {
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

async function finalize(model: LoadedModel): Promise<number> {
  if (model.finalize === undefined) return FINALIZED_AUX.OK;
  try {
    await model.finalize();
    return FINALIZED_AUX.OK;
  } catch (error) {
    console.error(`model '${modelName}': finalize() failed: ${formatError(describeError(error))}`);
    return FINALIZED_AUX.THREW;
  }
}

function isTritonError(value: unknown): value is TritonError {
  return value instanceof TritonError;
}
