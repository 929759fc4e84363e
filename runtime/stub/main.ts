/**
 * The stub process's trusted main thread (ffi/WIRE_FORMAT.md, "The stub
 * process"). It holds FFI, never runs model code, and:
 *
 * 1. attaches the region inherited as descriptor 3;
 * 2. reads INIT and validates it;
 * 3. resolves the model module, checks its directory, type-checks it and
 *    computes the Worker's permissions (sandbox/);
 * 4. starts the model's Worker with those permissions and hands it the arena
 *    and the channel;
 * 5. relays records until FINALIZE (exit 0) or a failure (ERROR, exit 1: the
 *    parent restarts the stub).
 *
 * Usage (by libtriton_deno.so): `deno run ... runtime/stub/main.ts <libtriton_deno_stub.so>`.
 *
 * @module
 */

import { openStubLibrary, type StubLibrary } from "../../ffi/stub/bindings.ts";
import { writeErrorText } from "../wire/error_text.ts";
import { alignUp, ERROR_CODE, MSG } from "../wire/layout.ts";
import { createWorkerChannel, openWorkerChannel } from "../wire/worker_channel.ts";
import type { WorkerStart } from "../worker/start_message.ts";
import { type InitArgs, InitArgsError, parseInitArgs } from "./init_args.ts";
import { ModelFileError } from "./model_file.ts";
import { PrepareError, type PreparedModel, prepareModel } from "./prepare_model.ts";
import { attachRegion, type Region } from "./region.ts";
import { EXIT_FAILURE, Relay } from "./relay.ts";

const IMPORT_MAP = new URL("../import_map.json", import.meta.url).pathname;
const WORKER_MAIN = new URL("../worker/main.ts", import.meta.url);

/** The helper library: the one argument, or its place in the backend directory. */
function stubLibraryPath(): string {
  return Deno.args[0] ?? new URL("../../libtriton_deno_stub.so", import.meta.url).pathname;
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
  const written = writeErrorText(region.arena, region.arenaSize(), offset, text);
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

function errorCodeOf(error: unknown): number {
  if (error instanceof InitArgsError) return ERROR_CODE.INVALID_ARG;
  if (error instanceof PrepareError || error instanceof ModelFileError) return error.code;
  return ERROR_CODE.INTERNAL;
}

function parentWatch(library: StubLibrary, region: Region): () => boolean {
  const parent = region.parentPid();
  return () => library.parentPid() === parent;
}

async function main(): Promise<number> {
  let library: StubLibrary;
  let region: Region;
  try {
    library = openStubLibrary(stubLibraryPath());
    // Before any Worker exists: WebGPU needs no permission, so it goes.
    library.disableWebGpu();
    region = attachRegion(library);
  } catch (error) {
    fatal(errorMessage(error));
  }
  const parentAlive = parentWatch(library, region);

  // 2. INIT is written before the stub starts; wait for it all the same.
  let initRecord = region.toStub.pop(1000);
  while (initRecord === undefined) {
    if (!parentAlive()) return EXIT_FAILURE;
    initRecord = region.toStub.pop(1000);
  }
  const initErrorAt = alignUp(initRecord.offset + initRecord.length);
  if (initRecord.kind !== MSG.INIT) {
    failInit(region, ERROR_CODE.INTERNAL, 0, `expected INIT, got record kind ${initRecord.kind}`);
  }

  let init: InitArgs;
  let prepared: PreparedModel;
  try {
    const { offset, length } = initRecord;
    if (offset + length > region.arenaSize()) {
      throw new InitArgsError(`INIT payload [${offset}, +${length}) lies outside the arena`);
    }
    const text = new TextDecoder("utf-8", { fatal: true }).decode(
      new Uint8Array(region.arena, offset, length),
    );
    init = parseInitArgs(text);
    // 3. Sandbox decisions, all before model code runs.
    prepared = await prepareModel(init, IMPORT_MAP);
  } catch (error) {
    failInit(region, errorCodeOf(error), initErrorAt, errorMessage(error));
  }

  // 4. The model's Worker.
  const channelBuffer = createWorkerChannel(region.arenaSize());
  let workerFailure: string | undefined;
  const worker = new Worker(WORKER_MAIN, {
    type: "module",
    name: `model ${init.model_name}`,
    deno: { permissions: prepared.permissions },
  });
  worker.addEventListener("error", (event) => {
    event.preventDefault();
    const where = event.filename ? ` (${event.filename}:${event.lineno}:${event.colno})` : "";
    workerFailure ??= `the model's Worker died: ${event.message}${where}`;
  });
  worker.addEventListener("messageerror", () => {
    workerFailure ??= "the model's Worker could not receive its start message";
  });
  const arenaForWorker = region.newArenaView();
  const start: WorkerStart = {
    arena: arenaForWorker,
    channel: channelBuffer,
    modelUrl: prepared.modelUrl,
    errorTextOffset: initErrorAt,
    initialize: {
      modelConfigJson: init.model_config,
      modelName: init.model_name,
      modelVersion: init.model_version,
      modelRepository: init.model_repository,
      modelInstanceName: init.model_instance_name,
      modelInstanceKind: init.model_instance_kind,
      modelInstanceDeviceId: init.model_instance_device_id,
    },
  };
  worker.postMessage(start, [arenaForWorker]);

  // 5. Relay until FINALIZE or a failure.
  const relay = new Relay(region, openWorkerChannel(channelBuffer), {
    parentAlive,
    workerFailure: () => workerFailure,
  });
  return await relay.run(initErrorAt);
}

Deno.exit(await main());
