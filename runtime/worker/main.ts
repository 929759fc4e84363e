/**
 * The model's Worker: an untrusted realm with only the sandbox's permissions
 * (read the model directory). It keeps nothing secret or powerful: the model
 * can see and forge anything here, and the trusted main thread checks every
 * record it sends.
 *
 * Order: harden the realm, wait for the start message, import and construct
 * the model, `initialize` it, answer READY or ERROR; then serve EXECUTE and
 * FINALIZE records from the channel, waiting with `Atomics.waitAsync` so the
 * event loop keeps running for async models.
 *
 * @module
 */

// The public API is loaded here, before the model: the model's
// `import "@triton/deno"` then resolves to this already-loaded module, which
// needs no read permission outside the model directory.
import "@triton/deno";
import { hardenRealm } from "../../sandbox/harden_realm.ts";
import { TritonError } from "../api/error.ts";
import { makeInitializeArgs } from "../api/internal.ts";
import { modelConfigFromTritonJson } from "../model_config/mod.ts";
import { writeErrorText } from "../wire/error_text.ts";
import { ERROR_CODE, FINALIZED_AUX, GROWN_AUX, MSG } from "../wire/layout.ts";
import type { WireRecord } from "../wire/ring.ts";
import { openWorkerChannel, type WorkerChannel } from "../wire/worker_channel.ts";
import { describeError, formatError } from "./describe_error.ts";
import { type LoadedModel, loadModel, ModelShapeError } from "./load_model.ts";
import { type BatchContext, runBatch } from "./run_batch.ts";
import type { WorkerStart } from "./start_message.ts";

// Kept before hardening disables it for the model: the runtime's own way out.
const closeWorker = globalThis.close.bind(globalThis);
hardenRealm();

let modelName = "(loading)";

// Errors the model leaves behind (a rejected promise nobody awaited, a throw
// in a timer) are logged, not fatal: the batch's own outcome decides.
self.addEventListener("unhandledrejection", (event: PromiseRejectionEvent) => {
  event.preventDefault();
  console.error(
    `model '${modelName}': unhandled promise rejection: ${
      formatError(describeError(event.reason))
    }`,
  );
});
self.addEventListener("error", (event: ErrorEvent) => {
  event.preventDefault();
  console.error(
    `model '${modelName}': uncaught error: ${
      formatError(describeError(event.error ?? event.message))
    }`,
  );
});

self.addEventListener("message", (event: Event) => {
  const message = (event as MessageEvent<WorkerStart>).data;
  start(message).catch((error) => {
    // A bug of the runtime itself: log the details, tell the main thread
    // (which fails the stub so that the parent restarts it), and stop.
    const text = `model '${modelName}': Worker runtime failed: ${
      formatError(describeError(error))
    }`;
    console.error(text);
    try {
      const channel = openWorkerChannel(message.channel);
      const written = writeErrorText(message.arena, channel.arenaSize(), 0, text);
      channel.toMain.push(
        record(MSG.ERROR, ERROR_CODE.INTERNAL, 0n, written.offset, written.length),
        1000,
      );
    } finally {
      closeWorker();
    }
  });
}, { once: true });

function record(kind: number, aux = 0, id = 0n, offset = 0, length = 0): WireRecord {
  return { kind, flags: 0, aux, id, offset, length };
}

async function start(message: WorkerStart): Promise<void> {
  const channel = openWorkerChannel(message.channel);
  const arena = message.arena;
  modelName = message.initialize.modelName;

  let model: LoadedModel;
  try {
    model = await loadModel(message.modelUrl);
    if (model.initialize !== undefined) {
      await model.initialize(makeInitializeArgs(message.initialize));
    }
  } catch (error) {
    const description = describeError(error, isTritonError);
    const code = description.code ??
      (error instanceof ModelShapeError ? ERROR_CODE.INVALID_ARG : ERROR_CODE.INTERNAL);
    const text = `failed to load model '${modelName}': ${formatError(description)}`;
    const written = writeErrorText(arena, channel.arenaSize(), message.errorTextOffset, text);
    channel.toMain.push(record(MSG.ERROR, code, 0n, written.offset, written.length));
    return;
  }

  const context: BatchContext = {
    model,
    modelName,
    // The runtime's own copy: the model may mutate the one it was given.
    config: modelConfigFromTritonJson(message.initialize.modelConfigJson),
    arena,
    channel,
    grow: (totalBytesNeeded) => grow(channel, totalBytesNeeded),
  };
  channel.toMain.push(record(MSG.READY));
  await serve(context, channel);
}

/**
 * Busy-wait after a batch before sleeping: back-to-back batches then skip a
 * wake-up (measured with add_sub, 4 elements, one client: p50 ~65-77 us with
 * 100 us against ~80-95 us with 20 us, on this 2-vCPU machine).
 */
const SPIN_AFTER_BATCH_MICROS = 100;

async function serve(context: BatchContext, channel: WorkerChannel): Promise<void> {
  for (;;) {
    const next = await channel.toWorker.popAsync(Infinity, SPIN_AFTER_BATCH_MICROS);
    if (next === undefined) continue;
    switch (next.kind) {
      case MSG.EXECUTE:
        channel.toMain.push(await runBatch(context, next));
        break;
      case MSG.FINALIZE:
        channel.toMain.push(record(MSG.FINALIZED, await finalize(context.model)));
        return;
      default: {
        const text = `the model runtime does not know record kind ${next.kind}`;
        const written = writeErrorText(context.arena, channel.arenaSize(), 0, text);
        channel.toMain.push(
          record(MSG.ERROR, ERROR_CODE.UNSUPPORTED, next.id, written.offset, written.length),
        );
      }
    }
  }
}

/** Sends GROW and blocks until GROWN: the allocator that asked is synchronous. */
function grow(channel: WorkerChannel, totalBytesNeeded: number): number {
  channel.toMain.push(record(MSG.GROW, 0, 0n, 0, totalBytesNeeded));
  const reply = channel.toWorker.pop();
  if (reply === undefined || reply.kind !== MSG.GROWN) {
    throw new Error(`expected GROWN after GROW, got record kind ${reply?.kind}`);
  }
  // The main thread published the new size before forwarding GROWN; when
  // refused it is unchanged (too small), and the allocator reports that.
  if (reply.aux !== GROWN_AUX.GRANTED && reply.aux !== GROWN_AUX.REFUSED) {
    throw new Error(`GROWN has an unknown answer ${reply.aux}`);
  }
  return channel.arenaSize();
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
