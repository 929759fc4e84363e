/**
 * The stub process's trusted main thread (ffi/WIRE_FORMAT.md, "The stub
 * process"). It holds FFI, never runs model code, and:
 *
 * 1. attaches the region inherited as descriptor 3;
 * 2. reads INIT and validates it;
 * 3. resolves the model module and computes the Worker's permissions
 *    (sandbox/), and starts the model's Worker, which loads the runtime
 *    while
 * 4. the model directory is checked and the module type-checked (unless
 *    the same sources passed before: sandbox/checks/check_verdicts.ts), with a
 *    PROGRESS record every second meanwhile (the code for this and for 5
 *    loads only now, beside the Worker's runtime); only then
 *    does the Worker get its start message (arena, control page, futex
 *    proxy, model URL) and import the model. From then on the main thread
 *    leaves the rings alone: the Worker answers READY or ERROR itself and
 *    then serves the parent's records directly
 *    (runtime/worker/serve.ts -> run_batch.ts);
 * 5. serves the Worker's futex requests and watches both ends
 *    (futex_service.ts) until the Worker asks to exit (0 after FINALIZED)
 *    or something fails (exit 1: the parent restarts the stub); once the
 *    Worker first waits for work, it releases the file pages only starting
 *    needed (`releaseFilePages`).
 *
 * Usage (by libtriton_deno.so): `deno run ... runtime/stub/main.ts <libtriton_deno_stub.so>`.
 *
 * @module
 */

import { openStubLibrary, type StubLibrary } from "../../ffi/stub/bindings.ts";
import { writeErrorText } from "../wire/error_text.ts";
import { ERROR_CODE, MSG, PARENT_DOORBELL_FD, PROGRESS_PHASE } from "../wire/layout.ts";
import type { WorkerStart } from "../worker/start_message.ts";
import { EXIT_FAILURE } from "./exit_code.ts";
import { type InitArgs, InitArgsError, parseInitArgs } from "./init_args.ts";
import { ModelFileError } from "./model_file.ts";
import { type LocatedModel, locateModel, PrepareError } from "./prepare_model.ts";
import { attachRegion, type Region } from "./region.ts";
import { workerFailureText } from "./worker_failure.ts";

const IMPORT_MAP = pathOf(new URL("../import_map.json", import.meta.url));
const WORKER_MAIN = new URL("../worker/main.ts", import.meta.url);

function pathOf(url: URL): string {
  return decodeURIComponent(url.pathname);
}

/** The helper library: the one argument, or its place in the backend directory. */
function stubLibraryPath(): string {
  return Deno.args[0] ?? pathOf(new URL("../../libtriton_deno_stub.so", import.meta.url));
}

function fatal(message: string): never {
  console.error(`triton deno stub: ${message}`);
  Deno.exit(EXIT_FAILURE);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Sends ERROR (batch id 0) with `text` at `offset` and exits for a restart. */
function failInit(region: Region, code: number, offset: number, text: string): never {
  const written = writeErrorText(region.arena, region.startArenaSize, offset, text);
  region.toParent.push({
    kind: MSG.ERROR,
    flags: 0,
    aux: code,
    id: 0n,
    offset: written.offset,
    length: written.length,
  });
  Deno.exit(EXIT_FAILURE);
}

/**
 * Tells the parent the stub is alive and what it is doing: its start
 * timeout measures silence. Dropped if the ring is full (the parent is
 * reading it, and the records before say the same).
 */
function reportProgress(region: Region, phase: number): void {
  region.toParent.tryPush({
    kind: MSG.PROGRESS,
    flags: 0,
    aux: phase,
    id: 0n,
    offset: 0,
    length: 0,
  });
}

function errorCodeOf(error: unknown): number {
  if (error instanceof InitArgsError) return ERROR_CODE.INVALID_ARG;
  if (error instanceof PrepareError || error instanceof ModelFileError) return error.code;
  return ERROR_CODE.INTERNAL;
}

async function main(): Promise<number> {
  let library: StubLibrary;
  let region: Region;
  try {
    library = openStubLibrary(stubLibraryPath());
    region = attachRegion(library);
  } catch (error) {
    fatal(errorMessage(error));
  }
  // Read once, before any model code can write the control page; a parent
  // that is already gone has left us to init (or a subreaper).
  const parentPid = library.parentPid();
  if (parentPid !== region.parentPid) return EXIT_FAILURE;
  const parentAlive = () => library.parentPid() === parentPid;

  // 2. INIT is written before the stub starts; wait for it all the same.
  let initRecord = region.toStub.pop(1000);
  while (initRecord === undefined) {
    if (!parentAlive()) return EXIT_FAILURE;
    initRecord = region.toStub.pop(1000);
  }
  // The stub's half is empty until the Worker starts: the main thread's
  // own ERROR text goes at its start.
  const initErrorAt = region.stubBase;
  if (initRecord.kind !== MSG.INIT) {
    failInit(region, ERROR_CODE.INTERNAL, 0, `expected INIT, got record kind ${initRecord.kind}`);
  }
  reportProgress(region, PROGRESS_PHASE.STARTED);

  // 3. The module and the permissions; then the Worker starts loading.
  let init: InitArgs;
  let located: LocatedModel;
  try {
    const { offset, length } = initRecord;
    if (offset + length > region.stubBase) {
      throw new InitArgsError(`INIT payload [${offset}, +${length}) lies outside the arena`);
    }
    const text = new TextDecoder("utf-8", { fatal: true }).decode(
      new Uint8Array(region.arena, offset, length),
    );
    init = parseInitArgs(text);
    located = await locateModel(init);
    // Before any Worker exists: WebGPU needs no permission, so it goes
    // unless the model was granted it (the parent then left it on too).
    if (!located.sandbox.gpu) library.disableWebGpu();
  } catch (error) {
    failInit(region, errorCodeOf(error), initErrorAt, errorMessage(error));
  }
  let workerFailure: string | undefined;
  // Either end's departure as an event: the main thread of an idle stub
  // waits for it instead of looking every second.
  const ended = Promise.withResolvers<void>();
  let parentWatched = true;
  library.parentExit(PARENT_DOORBELL_FD).then((gone) => {
    if (gone) ended.resolve();
    else parentWatched = false;
  });
  let worker: Worker;
  try {
    worker = new Worker(WORKER_MAIN, {
      type: "module",
      name: `model ${init.model_name}`,
      deno: { permissions: located.permissions },
    });
  } catch (error) {
    // Deno refused to give the Worker what the sandbox record grants (more
    // than this process holds): a load error naming the parameters.
    failInit(
      region,
      ERROR_CODE.INVALID_ARG,
      initErrorAt,
      `the model's permissions (deno.allow_read, deno.allow_write, deno.allow_net, ` +
        `deno.allow_env, deno.allow_sys) cannot be granted to its Worker: ${errorMessage(error)}`,
    );
  }
  worker.addEventListener("error", (event) => {
    event.preventDefault();
    if (workerFailure !== undefined) return;
    // It answers the work in flight (a request, or the load): no server
    // path in it; the stub's standard error (Triton's) has the whole text.
    const { full, client } = workerFailureText(event, located.repository);
    workerFailure = client;
    ended.resolve();
    if (client !== full) console.error(`triton deno stub: model '${init.model_name}': ${full}`);
  });
  worker.addEventListener("messageerror", () => {
    workerFailure ??= "the model's Worker could not receive its start message";
    ended.resolve();
  });

  // What only the rest of the start needs (the checks, the futex service)
  // loads now, while the Worker loads its runtime: not before `new Worker`.
  const [{ checkModel }, { createFutexProxy }, { FutexService }] = await Promise.all([
    import("./check_model.ts"),
    import("../wire/futex_proxy.ts"),
    import("./futex_service.ts"),
  ]);

  // 4. The checks, while the Worker loads; the model is imported only after them.
  try {
    await checkModel(
      located,
      init,
      IMPORT_MAP,
      () => reportProgress(region, PROGRESS_PHASE.CHECKING),
    );
  } catch (error) {
    failInit(region, errorCodeOf(error), initErrorAt, errorMessage(error));
  }
  const proxy = createFutexProxy();
  const arenaForWorker = region.newArenaView();
  const controlForWorker = region.newControlView();
  const start: WorkerStart = {
    arena: arenaForWorker,
    control: controlForWorker,
    proxy,
    modelUrl: located.modelUrl,
    errorTextOffset: initErrorAt,
    stubBase: region.stubBase,
    initialize: {
      modelConfigJson: init.model_config,
      modelName: init.model_name,
      modelVersion: init.model_version,
      modelRepository: init.model_repository,
      modelInstanceName: init.model_instance_name,
      modelInstanceKind: init.model_instance_kind,
      modelInstanceDeviceId: init.model_instance_device_id,
    },
    allowGpu: located.sandbox.gpu,
    batchesInFlight: located.sandbox.maxBatchesInFlight,
    autoComplete: init.auto_complete === "1",
    trace: init.backend_options.trace === "1",
  };
  // The main thread's last ring access (INIT) is behind it: after this
  // message the Worker alone uses the rings.
  worker.postMessage(start, [arenaForWorker, controlForWorker]);

  // 5. Futex calls for the Worker until it asks to exit, or a failure.
  const service = new FutexService(region, proxy, {
    parentAlive,
    workerFailure: () => workerFailure,
    // Pages of the deno binary used only to start, or while busy (V8's
    // optimizing compilers, mostly), leave the stub's resident memory once
    // it is ready, and again each time it falls idle (the page cache, which
    // all stubs share, keeps them).
    settled: () => library.releaseFilePages(),
    ended: () => parentWatched ? ended.promise : undefined,
  });
  return await service.run(initErrorAt);
}

Deno.exit(await main());
