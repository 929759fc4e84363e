/**
 * The one message the stub's main thread posts to the model's Worker. After
 * it, everything goes through the region's rings (the Worker's end:
 * runtime/worker/parent_link.ts) and the futex proxy
 * (runtime/wire/futex_proxy.ts).
 *
 * @module
 */

/** The strings `initialize(args)` is built from (python_backend's `args`). */
export interface InitializeStrings {
  /** Triton's model configuration JSON. */
  modelConfigJson: string;
  /** The model's name. */
  modelName: string;
  /** The version being loaded. */
  modelVersion: string;
  /** The model's directory. */
  modelRepository: string;
  /** The instance's name. */
  modelInstanceName: string;
  /** `CPU`, `GPU`, `MODEL` or `AUTO`. */
  modelInstanceKind: string;
  /** The device id as a decimal string. */
  modelInstanceDeviceId: string;
}

/** The start message. */
export interface WorkerStart {
  /** The arena (transferred: a view of the shared region past the control page). */
  arena: ArrayBuffer;
  /** The control page (transferred: a view of the region's first 4096 bytes). */
  control: ArrayBuffer;
  /** The futex proxy buffer shared with the main thread. */
  proxy: SharedArrayBuffer;
  /** `file:` URL of the model module. */
  modelUrl: string;
  /** Arena offset where an initialization error's text may go. */
  errorTextOffset: number;
  /** Arena offset (and size) of the stub's half. */
  stubBase: number;
  /** For `initialize(args)`. */
  initialize: InitializeStrings;
  /** WebGPU stays (the model was granted `deno.allow_gpu`). */
  allowGpu: boolean;
  /**
   * `deno.max_batches_in_flight` as the parent enforces it (the sandbox
   * record): above 1, batches of a model that is not decoupled overlap.
   */
  batchesInFlight: number;
  /**
   * Run the model class's static `autoCompleteConfig` first, answer CONFIG,
   * and take the instance's identity and final configuration from INSTANCE
   * (ffi/src/auto_complete.h).
   */
  autoComplete: boolean;
  /**
   * The parent traces every hop (ffi/src/trace.h): stamp the Worker's own
   * in TRACE records (runtime/worker/trace_marks.ts).
   */
  trace?: boolean;
}
