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
 * the region's `to_stub` ring (runtime/worker/serve.ts, through
 * runtime/worker/parent_link.ts): the main thread is not on the request path.
 *
 * Waiting between batches (runtime/worker/serve.ts): spin, then sleep on
 * the Worker's doorbell. The main thread's first tick (within
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
import { TritonError } from "../api/error.ts";
import {
  makeAutoCompleteConfig,
  makeInitializeArgs,
  setBlsTransport,
  setLogSink,
} from "../api/internal.ts";
import { modelConfigFromJson } from "../model_config/from_json.ts";
import { writeErrorText, writeErrorTextIn } from "../wire/error_text.ts";
import {
  ERROR_CODE,
  LOG_LEVEL,
  MSG,
  PROGRESS_PHASE,
  READY_FLAG,
  RECORD_FLAG,
} from "../wire/layout.ts";
import { stdioDoorbell } from "../wire/doorbell.ts";
import { LogSender } from "../wire/log_sender.ts";
import { wireRecord } from "../wire/ring.ts";
import { StubArena } from "../wire/stub_arena.ts";
import { WorkerBlsTransport } from "./bls_transport.ts";
import { Cancellations } from "./cancellations.ts";
import { Inbox } from "./inbox.ts";
import { parseInstanceArgs } from "./instance_args.ts";
import { OpenRequests } from "./run_decoupled.ts";
import { clientText } from "./client_text.ts";
import { describeError, formatError } from "./describe_error.ts";
import { type LoadedModel, loadModel, ModelShapeError } from "./load_model.ts";
import { openParentLink, type ParentLink } from "./parent_link.ts";
import type { BatchContext } from "./run_batch.ts";
import { EXIT_RESTART, flushMetrics, serve } from "./serve.ts";
import { ReadinessProbes } from "./readiness.ts";
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
          wireRecord(MSG.ERROR, ERROR_CODE.INTERNAL, 0n, written.offset, written.length),
        );
      }
    } finally {
      link?.requestExit(EXIT_RESTART);
      closeWorker();
    }
  });
}, { once: true });

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
    link.toParent.tryPush(wireRecord(MSG.PROGRESS, PROGRESS_PHASE.LOADING));
    model = await loadModel(message.modelUrl);
    if (message.autoComplete) await autoComplete(model, message, link, arena, stubArena);
    setBlsTransport(bls);
    if (model.initialize !== undefined) {
      link.toParent.tryPush(wireRecord(MSG.PROGRESS, PROGRESS_PHASE.INITIALIZING));
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
    link.toParent.push(wireRecord(MSG.ERROR, code, 0n, written.offset, written.length));
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
  link.toParent.push(wireRecord(MSG.READY, readiness.hooked ? READY_FLAG.HAS_IS_READY : 0));
  await serve({
    context,
    link,
    inbox,
    slot,
    open,
    marks,
    batchesOverlap: message.batchesInFlight > 1,
    mustInterrupt: deniedOrLimited,
    setInterrupt: (interrupt) => (interruptWork = interrupt),
  });
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
  link.toParent.push(wireRecord(MSG.CONFIG, 0, 0n, offset, length));
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

function isTritonError(value: unknown): value is TritonError {
  return value instanceof TritonError;
}
