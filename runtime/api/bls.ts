/**
 * Business logic scripting (BLS): a model calling other models served by the
 * same Triton, and loading or unloading them, as python_backend's
 * `pb_utils.InferenceRequest(...).exec()` / `stream=True` and
 * `pb_utils.load_model` do. The runtime supplies the transport
 * ({@linkcode BlsTransport}); everything a model passes is checked here first.
 *
 * @module
 */

import type { WireOutput } from "./check_response.ts";
import { dataTypeCode } from "./datatype.ts";
import { describeValue } from "./describe.ts";
import { ErrorCode, TritonError } from "./error.ts";
import {
  checkParameters,
  type InferenceParameters,
  NO_PARAMETERS,
  parametersFromWire,
  parametersToWire,
  type ParameterValue,
} from "./parameters.ts";
import { snapshotTensor, type Tensor, type TensorSnapshot } from "./tensor.ts";
import { typedArrayFacts } from "./typed_array.ts";

/**
 * One input of a BLS request as the transport receives it: the same form as
 * an output of a model's response (data as a view, no copy; `arenaOffset`
 * set when the tensor was allocated in the arena).
 *
 * @internal The contract between the API and the Worker runtime.
 */
export type BlsWireTensor = WireOutput;

/**
 * A BLS request as the transport receives it: plain data, checked.
 *
 * @internal The contract between the API and the Worker runtime.
 */
export interface BlsWireRequest {
  /** The model to call. */
  readonly modelName: string;
  /** Its version; -1 lets Triton choose by the model's version policy. */
  readonly modelVersion: number;
  /** The inputs (names unique). */
  readonly inputs: readonly BlsWireTensor[];
  /** The outputs wanted; empty means all. */
  readonly requestedOutputNames: readonly string[];
  /** The request id ("" for none). */
  readonly requestId: string;
  /** A uint64 correlation id, or a string one (0n for none). */
  readonly correlationId: bigint | string;
  /** `TRITONSERVER_RequestFlag` bits (1 sequence start, 2 sequence end). */
  readonly flags: number;
  /** uint64 timeout in microseconds (0n for none). */
  readonly timeoutMicros: bigint;
  /** The request parameters in the wire form ("" for none; see parameters.ts). */
  readonly parametersJson: string;
}

/**
 * A response of the called model, as the transport delivers it.
 *
 * @internal The contract between the API and the Worker runtime.
 */
export interface BlsWireResponse {
  /**
   * The outputs, as tensors the runtime built (their data must stay valid
   * for as long as the model may keep them: copy out of memory that the
   * next batch reuses).
   */
  readonly outputs: readonly Tensor[];
  /** The response parameters in the wire form (see parameters.ts); none when omitted. */
  readonly parametersJson?: string;
  /** Set when the called model (or Triton) failed the request. */
  readonly error?: { readonly code: number; readonly message: string };
}

/**
 * Receives the responses of one call: each response, and with the last one
 * (or alone, with `response` undefined) `final` true. Calls after the final
 * one are ignored.
 *
 * @internal The contract between the API and the Worker runtime.
 */
export type BlsResponseHandler = (response: BlsWireResponse | undefined, final: boolean) => void;

/**
 * A call in progress.
 *
 * @internal The contract between the API and the Worker runtime.
 */
export interface BlsCall {
  /**
   * Asks Triton to cancel the request. Responses may still arrive; the
   * handler must still get the final flag eventually.
   */
  cancel(): void;
}

/**
 * What the runtime provides for BLS.
 *
 * @internal Implemented by the Worker runtime; set with `setBlsTransport`.
 */
export interface BlsTransport {
  /**
   * Starts an inference. May call `onResponse` before returning. Throwing
   * (a `TritonError`, ideally) fails the call at once.
   */
  infer(request: BlsWireRequest, onResponse: BlsResponseHandler): BlsCall;
  /** Loads (or reloads) a model; rejects with the reason it failed. */
  loadModel(name: string, options?: ModelLoadWire): Promise<void>;
  /** Unloads a model; rejects with the reason it failed. */
  unloadModel(name: string, options?: ModelUnloadWire): Promise<void>;
  /** Whether a model (version -1: any version) is ready. */
  isModelReady(name: string, version: number): Promise<boolean>;
}

/** A load's configuration and files as the transport carries them. */
export interface ModelLoadWire {
  /** The configuration JSON. */
  config?: string;
  /** Files that replace the model's directory: relative path and bytes. */
  files?: readonly { path: string; bytes: Uint8Array }[];
}

/** An unload's options as the transport carries them. */
export interface ModelUnloadWire {
  /** Unload the models that depend on it too. */
  unloadDependents?: boolean;
}

let transport: BlsTransport | undefined;

/**
 * Sets the transport BLS calls go through; `undefined` makes them fail with
 * `UNAVAILABLE`.
 *
 * @internal Used by the Worker runtime through internal.ts.
 *
 * @example
 * ```ts
 * import { setBlsTransport } from "./bls.ts";
 *
 * setBlsTransport({
 *   infer: (_request, onResponse) => {
 *     onResponse({ outputs: [] }, true);
 *     return { cancel() {} };
 *   },
 *   loadModel: () => Promise.resolve(),
 *   unloadModel: () => Promise.resolve(),
 *   isModelReady: () => Promise.resolve(true),
 * });
 * ```
 */
export function setBlsTransport(value: BlsTransport | undefined): void {
  transport = value;
}

function requireTransport(what: string): BlsTransport {
  if (transport === undefined) {
    throw new TritonError(
      `${what} is not available: the runtime has not connected BLS (call it from ` +
        "initialize or execute, not while the module loads)",
      ErrorCode.UNAVAILABLE,
    );
  }
  return transport;
}

/**
 * What a {@linkcode BlsRequest} is made of.
 *
 * @example
 * ```ts
 * import { type BlsRequestOptions, Tensor } from "@triton/deno";
 *
 * const options: BlsRequestOptions = {
 *   modelName: "add_sub",
 *   inputs: [new Tensor("INPUT0", "FP32", [4], [1, 2, 3, 4])],
 *   requestedOutputNames: ["OUTPUT0"],
 * };
 * console.log(options.modelName);
 * ```
 */
export interface BlsRequestOptions {
  /** The model to call. */
  readonly modelName: string;
  /** Its version; -1 (the default) lets Triton choose. */
  readonly modelVersion?: number;
  /** The input tensors (names unique). */
  readonly inputs: readonly Tensor[];
  /** The outputs wanted; all when omitted or empty. */
  readonly requestedOutputNames?: readonly string[];
  /** A request id for Triton's logs and traces. */
  readonly requestId?: string;
  /** Sequence correlation id: an unsigned 64-bit integer or a string. */
  readonly correlationId?: bigint | number | string;
  /** `TRITONSERVER_RequestFlag` bits: 1 sequence start, 2 sequence end. */
  readonly flags?: number;
  /** Timeout in microseconds (0, the default, for none). */
  readonly timeoutMicros?: bigint | number;
  /** Request parameters, typed as for responses (a whole number is sent as `INT`). */
  readonly parameters?: Readonly<Record<string, ParameterValue>>;
}

/**
 * Options of {@linkcode BlsRequest.exec} and {@linkcode BlsRequest.stream}.
 *
 * @example
 * ```ts
 * import type { BlsCallOptions } from "@triton/deno";
 *
 * const options: BlsCallOptions = { signal: AbortSignal.timeout(1000) };
 * console.log(options.signal !== undefined); // true
 * ```
 */
export interface BlsCallOptions {
  /** Cancels the call when it aborts; the call then rejects with `signal.reason`. */
  readonly signal?: AbortSignal;
}

const UINT64_MAX = 2n ** 64n - 1n;
const KNOWN_FLAGS = 1 | 2;
const OPTION_KEYS: ReadonlySet<string> = new Set([
  "modelName",
  "modelVersion",
  "inputs",
  "requestedOutputNames",
  "requestId",
  "correlationId",
  "flags",
  "timeoutMicros",
  "parameters",
]);

/**
 * A request to another model. Build it once, then `exec()` it for a single
 * response or `stream()` it for a decoupled model's responses; either may
 * be called more than once.
 *
 * @example Call another model and use its output
 * ```ts
 * import { BlsRequest, type InferenceRequest, InferenceResponse, type Model } from "@triton/deno";
 *
 * export default class Pipeline implements Model {
 *   async execute(requests: InferenceRequest[]): Promise<InferenceResponse[]> {
 *     const responses: InferenceResponse[] = [];
 *     for (const request of requests) {
 *       const result = await new BlsRequest({
 *         modelName: "add_sub",
 *         inputs: [request.input("INPUT0"), request.input("INPUT1")],
 *         requestedOutputNames: ["OUTPUT0"],
 *       }).exec();
 *       responses.push(new InferenceResponse([result.output("OUTPUT0")]));
 *     }
 *     return responses;
 *   }
 * }
 * ```
 */
export class BlsRequest {
  /** The model to call. */
  readonly modelName: string;
  /** Its version; -1 lets Triton choose. */
  readonly modelVersion: number;
  /** The inputs (frozen). */
  readonly inputs: readonly Tensor[];
  /** The outputs wanted (frozen); empty means all. */
  readonly requestedOutputNames: readonly string[];
  /** The request id ("" for none). */
  readonly requestId: string;
  /** The correlation id (a number given is kept as a bigint; 0n for none). */
  readonly correlationId: bigint | string;
  /** `TRITONSERVER_RequestFlag` bits. */
  readonly flags: number;
  /** Timeout in microseconds (0n for none). */
  readonly timeoutMicros: bigint;
  /** The request parameters (frozen). */
  readonly parameters: InferenceParameters;
  readonly #snapshots: readonly TensorSnapshot[];

  /**
   * @throws {TritonError} `INVALID_ARG` naming the option at fault: an
   * empty or missing model name, a version below -1, inputs that are not
   * `Tensor`s or repeat a name, output names that are empty or repeat, a
   * correlation id or timeout outside uint64, flags other than 1 and 2, an
   * invalid parameter, or an unknown option.
   */
  constructor(options: BlsRequestOptions) {
    if (typeof options !== "object" || options === null || Array.isArray(options)) {
      throw invalid(`BlsRequest needs { modelName, inputs, ... }, got ${describeValue(options)}`);
    }
    for (const key of Object.keys(options)) {
      if (!OPTION_KEYS.has(key)) throw invalid(`BlsRequest: unknown option '${key}'`);
    }
    const modelName: unknown = options.modelName;
    if (typeof modelName !== "string" || modelName === "") {
      throw invalid(
        `BlsRequest: modelName must be a non-empty string, got ${describeValue(modelName)}`,
      );
    }
    const owner = `BLS request to model '${modelName}'`;
    this.modelName = modelName;
    this.modelVersion = checkVersion(options.modelVersion, owner);
    const { inputs, snapshots } = checkInputs(options.inputs, owner);
    this.inputs = inputs;
    this.#snapshots = snapshots;
    this.requestedOutputNames = checkOutputNames(options.requestedOutputNames, owner);
    const requestId: unknown = options.requestId ?? "";
    if (typeof requestId !== "string") {
      throw invalid(`${owner}: requestId must be a string, got ${describeValue(requestId)}`);
    }
    this.requestId = requestId;
    this.correlationId = checkCorrelationId(options.correlationId, owner);
    this.flags = checkFlags(options.flags, owner);
    this.timeoutMicros = checkUint64(options.timeoutMicros, "timeoutMicros", owner);
    this.parameters = checkParameters(options.parameters, `${owner}: parameter`);
    Object.freeze(this);
  }

  /**
   * Runs the request and resolves with its response. For models that send
   * one response per request; use {@linkcode BlsRequest.stream} for
   * decoupled models.
   *
   * @returns The response; one that carries an error next to outputs
   * resolves, with `error` set.
   * @throws {TritonError} (as a rejection) the called model's error when it
   * failed the request without outputs; `UNSUPPORTED` if it sent more than
   * one response; `UNAVAILABLE` when BLS is not connected; `signal.reason`
   * when the signal aborts (the call is cancelled).
   *
   * @example
   * ```ts
   * import { BlsRequest, Tensor } from "@triton/deno";
   *
   * async function addOne(x: number): Promise<number> {
   *   const response = await new BlsRequest({
   *     modelName: "increment",
   *     inputs: [new Tensor("X", "FP32", [1], [x])],
   *   }).exec({ signal: AbortSignal.timeout(5000) });
   *   return response.output("Y").data[0] as number;
   * }
   * console.log(typeof addOne); // "function"
   * ```
   */
  exec(options: BlsCallOptions = {}): Promise<BlsResponse> {
    const owner = `BLS request to model '${this.modelName}'`;
    return new Promise<BlsResponse>((resolve, reject) => {
      const signal = checkSignal(options, owner);
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      let first: BlsResponse | undefined;
      let settled = false;
      const call = new CallHandle();
      const onAbort = () => {
        settle(() => reject(signal?.reason));
        call.cancel();
      };
      const settle = (action: () => void) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener("abort", onAbort);
        action();
      };
      const onResponse: BlsResponseHandler = (wire, final) => {
        if (settled) return;
        let response: BlsResponse | undefined;
        try {
          response = wire === undefined ? undefined : makeBlsResponse(wire, owner);
        } catch (error) {
          settle(() => reject(error));
          if (!final) call.cancel();
          return;
        }
        if (response !== undefined) {
          if (first !== undefined) {
            settle(() =>
              reject(
                new TritonError(
                  `${owner} got more than one response: exec() is for models that answer ` +
                    "once; use stream() for a decoupled model",
                  ErrorCode.UNSUPPORTED,
                ),
              )
            );
            if (!final) call.cancel();
            return;
          }
          first = response;
        }
        if (!final) return;
        const only = first;
        if (only === undefined) {
          settle(() => reject(new TritonError(`${owner} got no response`, ErrorCode.INTERNAL)));
        } else if (only.error !== undefined && only.outputs.length === 0) {
          settle(() => reject(only.error));
        } else {
          settle(() => resolve(only));
        }
      };
      try {
        call.attach(requireTransport("BLS").infer(this.#wire(), onResponse));
      } catch (error) {
        settle(() => reject(asTritonError(error, owner)));
        return;
      }
      if (!settled) signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /**
   * Runs the request against a decoupled model and yields each response as
   * it arrives; the iteration ends after the final one. Breaking out of the
   * loop (or the signal aborting) cancels the request.
   *
   * @throws {TritonError} (from the iteration) a response's error when it
   * carries no outputs, after which the iteration ends; `UNAVAILABLE` when
   * BLS is not connected; `signal.reason` when the signal aborts.
   *
   * @example
   * ```ts
   * import { BlsRequest, Tensor } from "@triton/deno";
   *
   * async function collect(prompt: string): Promise<string[]> {
   *   const pieces: string[] = [];
   *   const request = new BlsRequest({
   *     modelName: "generator",
   *     inputs: [new Tensor("PROMPT", "BYTES", [1], [prompt])],
   *   });
   *   for await (const response of request.stream()) {
   *     pieces.push(...response.output("TEXT").strings());
   *     if (pieces.length >= 100) break; // cancels the rest
   *   }
   *   return pieces;
   * }
   * console.log(typeof collect); // "function"
   * ```
   */
  async *stream(options: BlsCallOptions = {}): AsyncGenerator<BlsResponse, void, undefined> {
    const owner = `BLS request to model '${this.modelName}'`;
    const signal = checkSignal(options, owner);
    if (signal?.aborted) throw signal.reason;
    const queue: BlsResponse[] = [];
    let finalSeen = false;
    let failure: { reason: unknown } | undefined;
    let wake: (() => void) | undefined;
    const call = new CallHandle();
    const notify = () => {
      const resume = wake;
      wake = undefined;
      resume?.();
    };
    const onAbort = () => {
      failure ??= { reason: signal?.reason };
      call.cancel();
      notify();
    };
    const onResponse: BlsResponseHandler = (wire, final) => {
      if (finalSeen || failure !== undefined) return;
      if (final) finalSeen = true;
      try {
        const response = wire === undefined ? undefined : makeBlsResponse(wire, owner);
        if (response?.error !== undefined && response.outputs.length === 0) {
          failure = { reason: response.error };
        } else if (response !== undefined) {
          queue.push(response);
        }
      } catch (error) {
        failure = { reason: error };
      }
      if (failure !== undefined && !finalSeen) call.cancel();
      notify();
    };
    try {
      call.attach(requireTransport("BLS").infer(this.#wire(), onResponse));
    } catch (error) {
      throw asTritonError(error, owner);
    }
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      while (true) {
        // An abort ends the iteration at once; a response error after what came before it.
        if (failure !== undefined && (signal?.aborted || queue.length === 0)) throw failure.reason;
        const next = queue.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        if (finalSeen) return;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      signal?.removeEventListener("abort", onAbort);
      // The consumer stopped early (break, throw, or an error above).
      if (!finalSeen) call.cancel();
    }
  }

  #wire(): BlsWireRequest {
    return {
      modelName: this.modelName,
      modelVersion: this.modelVersion,
      inputs: this.#snapshots.map(wireTensor),
      requestedOutputNames: this.requestedOutputNames,
      requestId: this.requestId,
      correlationId: this.correlationId,
      flags: this.flags,
      timeoutMicros: this.timeoutMicros,
      parametersJson: parametersToWire(this.parameters),
    };
  }
}

/** Holds a call's cancel handle, remembering a cancel asked for before it exists. */
class CallHandle {
  #call: BlsCall | undefined;
  #cancelled = false;

  attach(call: BlsCall): void {
    this.#call = call;
    if (this.#cancelled) call.cancel();
  }

  cancel(): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    this.#call?.cancel();
  }
}

/**
 * A response of a called model.
 *
 * @example
 * ```ts
 * import type { BlsResponse } from "@triton/deno";
 *
 * function firstScore(response: BlsResponse): number {
 *   if (response.error !== undefined) throw response.error;
 *   return response.output("SCORES").data[0] as number;
 * }
 * console.log(typeof firstScore); // "function"
 * ```
 */
export class BlsResponse {
  /** The output tensors (frozen). */
  readonly outputs: readonly Tensor[];
  /** The response parameters (frozen). */
  readonly parameters: InferenceParameters;
  /** The called model's error, if it failed the request. */
  readonly error: TritonError | undefined;
  readonly #owner: string;

  /** @internal Responses come from the runtime. */
  constructor(
    outputs: readonly Tensor[],
    parameters: InferenceParameters,
    error: TritonError | undefined,
    owner: string,
  ) {
    this.outputs = Object.freeze(Array.from(outputs));
    this.parameters = parameters;
    this.error = error;
    this.#owner = owner;
    Object.freeze(this);
  }

  /**
   * The output called `name`.
   *
   * @throws {TritonError} `NOT_FOUND` naming the output and listing those
   * present.
   */
  output(name: string): Tensor {
    const found = this.outputs.find((tensor) => tensor.name === name);
    if (found !== undefined) return found;
    const present = this.outputs.map((tensor) => `'${tensor.name}'`).join(", ");
    throw new TritonError(
      `the response to the ${this.#owner} has no output '${name}'; ` +
        (present === "" ? "it has no outputs" : `its outputs are ${present}`),
      ErrorCode.NOT_FOUND,
    );
  }
}

function makeBlsResponse(wire: BlsWireResponse, owner: string): BlsResponse {
  const outputs = Array.from(wire.outputs ?? []);
  for (const [index, tensor] of outputs.entries()) {
    if (snapshotTensor(tensor) === undefined) {
      throw new TritonError(
        `the response to the ${owner}: output ${index} is not a Tensor`,
        ErrorCode.INTERNAL,
      );
    }
  }
  const parameters = wire.parametersJson === undefined
    ? NO_PARAMETERS
    : parametersFromWire(wire.parametersJson, `the response to the ${owner}: parameter`);
  let error: TritonError | undefined;
  if (wire.error !== undefined) {
    const code = typeof wire.error.code === "number" && wire.error.code in ErrorCode
      ? wire.error.code
      : ErrorCode.INTERNAL;
    error = new TritonError(String(wire.error.message), code);
  }
  return new BlsResponse(outputs, parameters, error, owner);
}

function wireTensor(tensor: TensorSnapshot): BlsWireTensor {
  const facts = typedArrayFacts(tensor.data);
  const bytes = facts === undefined || facts.byteLength === 0
    ? new Uint8Array(0)
    : new Uint8Array(facts.buffer, facts.byteOffset, facts.byteLength);
  return {
    name: tensor.name,
    datatypeCode: dataTypeCode(tensor.datatype),
    shape: Array.from(tensor.shape),
    bytes,
    arenaOffset: tensor.arenaOffset,
  };
}

/**
 * How to load a model: python_backend's `pb_utils.load_model(model_name,
 * config, files)`.
 */
export interface ModelLoadOptions {
  /**
   * The model configuration to load with, instead of the repository's
   * `config.pbtxt`: Triton's JSON form, as text or as an object. It must
   * name `backend: "deno"`: a model may load only models that run in this
   * backend's sandbox.
   */
  config?: string | Record<string, unknown>;
  /**
   * Files that replace the model's directory for this load (they need
   * `config`), by path relative to it: `{ "1/model.ts": source }`. A
   * `file:` prefix, as python_backend writes the keys, is accepted. Text is
   * written as UTF-8.
   */
  files?: Record<string, Uint8Array | string>;
}

/** How to unload a model: python_backend's `pb_utils.unload_model(model_name, unload_dependents)`. */
export interface ModelUnloadOptions {
  /** Unload the models that depend on it (ensembles) too. */
  unloadDependents?: boolean;
}

/**
 * Loading, unloading and checking models from a model, as python_backend's
 * `pb_utils.load_model` / `unload_model` / `is_model_ready` do. Triton must
 * run with `--model-control-mode=explicit` to load and unload, and the
 * model's `config.pbtxt` must declare the models it may control
 * (`deno.allow_model_control`) and ask about (`deno.allow_models`).
 *
 * @example
 * ```ts
 * import type { ModelControl } from "@triton/deno";
 *
 * async function ensureLoaded(control: ModelControl, name: string): Promise<void> {
 *   if (!(await control.isReady(name))) await control.load(name);
 * }
 * console.log(typeof ensureLoaded); // "function"
 * ```
 */
export interface ModelControl {
  /**
   * Loads (or reloads) the model `name`, from the repository or with the
   * configuration and files given. Rejects with Triton's error.
   */
  load(name: string, options?: ModelLoadOptions): Promise<void>;
  /** Unloads the model `name` (and its dependents, if asked). Rejects with Triton's error. */
  unload(name: string, options?: ModelUnloadOptions): Promise<void>;
  /** Whether version `version` (-1, the default: any) of the model `name` is ready. */
  isReady(name: string, version?: number): Promise<boolean>;
}

/**
 * Model control for BLS: see {@linkcode ModelControl}.
 *
 * @example
 * ```ts
 * import { models } from "@triton/deno";
 *
 * async function deploy(name: string, source: string): Promise<boolean> {
 *   await models.load(name, {
 *     config: { name, backend: "deno", max_batch_size: 0 },
 *     files: { "1/model.ts": source },
 *   });
 *   return await models.isReady(name);
 * }
 * console.log(typeof deploy); // "function"
 * ```
 */
export const models: ModelControl = Object.freeze({
  async load(name: string, options?: ModelLoadOptions): Promise<void> {
    checkModelName(name, "models.load");
    const wire = loadWire(name, options);
    try {
      await requireTransport("models.load").loadModel(name, wire);
    } catch (error) {
      throw asTritonError(error, `loading model '${name}'`);
    }
  },
  async unload(name: string, options?: ModelUnloadOptions): Promise<void> {
    checkModelName(name, "models.unload");
    const wire = unloadWire(name, options);
    try {
      await requireTransport("models.unload").unloadModel(name, wire);
    } catch (error) {
      throw asTritonError(error, `unloading model '${name}'`);
    }
  },
  async isReady(name: string, version = -1): Promise<boolean> {
    checkModelName(name, "models.isReady");
    const checked = checkVersion(version, `models.isReady('${name}')`);
    try {
      return (await requireTransport("models.isReady").isModelReady(name, checked)) === true;
    } catch (error) {
      throw asTritonError(error, `checking whether model '${name}' is ready`);
    }
  },
});

/** Checks `models.load`'s options and puts them in the transport's form. */
function loadWire(name: string, options: unknown): ModelLoadWire {
  const owner = `models.load('${name}')`;
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null) {
    throw invalid(`${owner}: options must be an object, got ${describeValue(options)}`);
  }
  const { config, files, ...rest } = options as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) {
    throw invalid(`${owner}: unknown option '${unknown[0]}' (config and files are known)`);
  }
  const wire: ModelLoadWire = {};
  if (config !== undefined) {
    if (typeof config === "string") {
      wire.config = config;
    } else if (typeof config === "object" && config !== null && !Array.isArray(config)) {
      try {
        wire.config = JSON.stringify(config);
      } catch (error) {
        throw invalid(`${owner}: config cannot be written as JSON: ${describeValue(error)}`);
      }
    } else {
      throw invalid(
        `${owner}: config must be JSON text or an object, got ${describeValue(config)}`,
      );
    }
  }
  if (files !== undefined) {
    if (typeof files !== "object" || files === null || Array.isArray(files)) {
      throw invalid(`${owner}: files must be an object of path: contents`);
    }
    if (wire.config === undefined) {
      throw invalid(
        `${owner}: files need a config (they replace the model's directory, config.pbtxt included)`,
      );
    }
    wire.files = Object.entries(files as Record<string, unknown>).map(([key, contents]) => {
      const path = key.startsWith("file:") ? key.slice("file:".length) : key;
      const parts = path.split("/");
      if (
        path.startsWith("/") || parts.some((part) => part === "" || part === "." || part === "..")
      ) {
        throw invalid(
          `${owner}: file '${key}' must be a path inside the model's directory (relative, no '.', '..' or empty parts)`,
        );
      }
      if (typeof contents === "string") return { path, bytes: new TextEncoder().encode(contents) };
      if (contents instanceof Uint8Array) return { path, bytes: contents };
      throw invalid(
        `${owner}: file '${key}' must be a Uint8Array or a string, got ${describeValue(contents)}`,
      );
    });
  }
  return wire;
}

/** Checks `models.unload`'s options and puts them in the transport's form. */
function unloadWire(name: string, options: unknown): ModelUnloadWire {
  const owner = `models.unload('${name}')`;
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null) {
    throw invalid(`${owner}: options must be an object, got ${describeValue(options)}`);
  }
  const { unloadDependents, ...rest } = options as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) {
    throw invalid(`${owner}: unknown option '${unknown[0]}' (unloadDependents is known)`);
  }
  if (unloadDependents !== undefined && typeof unloadDependents !== "boolean") {
    throw invalid(
      `${owner}: unloadDependents must be a boolean, got ${describeValue(unloadDependents)}`,
    );
  }
  return unloadDependents === true ? { unloadDependents: true } : {};
}

function checkModelName(name: unknown, what: string): asserts name is string {
  if (typeof name !== "string" || name === "") {
    throw invalid(`${what} needs a non-empty model name, got ${describeValue(name)}`);
  }
}

function checkVersion(value: unknown, owner: string): number {
  if (value === undefined) return -1;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < -1) {
    throw invalid(
      `${owner}: modelVersion must be an integer >= -1 (-1: Triton chooses), got ${
        describeValue(value)
      }`,
    );
  }
  return value;
}

function checkInputs(
  value: unknown,
  owner: string,
): { inputs: readonly Tensor[]; snapshots: readonly TensorSnapshot[] } {
  if (!Array.isArray(value)) {
    throw invalid(`${owner}: inputs must be an array of Tensors, got ${describeValue(value)}`);
  }
  const inputs: Tensor[] = Array.from(value as unknown[]) as Tensor[];
  const snapshots: TensorSnapshot[] = [];
  const names = new Set<string>();
  for (let i = 0; i < inputs.length; i++) {
    const snapshot = snapshotTensor(inputs[i]);
    if (snapshot === undefined) {
      throw invalid(`${owner}: input ${i} is not a Tensor: got ${describeValue(inputs[i])}`);
    }
    if (names.has(snapshot.name)) {
      throw invalid(`${owner}: input '${snapshot.name}' appears more than once`);
    }
    names.add(snapshot.name);
    snapshots.push(snapshot);
  }
  return { inputs: Object.freeze(inputs), snapshots: Object.freeze(snapshots) };
}

function checkOutputNames(value: unknown, owner: string): readonly string[] {
  if (value === undefined) return Object.freeze([]);
  if (!Array.isArray(value)) {
    throw invalid(
      `${owner}: requestedOutputNames must be an array of strings, got ${describeValue(value)}`,
    );
  }
  const names = Array.from(value as unknown[]);
  const seen = new Set<string>();
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    if (typeof name !== "string" || name === "") {
      throw invalid(
        `${owner}: requestedOutputNames[${i}] must be a non-empty string, got ${
          describeValue(name)
        }`,
      );
    }
    if (seen.has(name)) throw invalid(`${owner}: output '${name}' is requested more than once`);
    seen.add(name);
  }
  return Object.freeze(names as string[]);
}

function checkCorrelationId(value: unknown, owner: string): bigint | string {
  if (value === undefined) return 0n;
  if (typeof value === "string") return value;
  return checkUint64(value, "correlationId", owner);
}

function checkUint64(value: unknown, field: string, owner: string): bigint {
  if (value === undefined) return 0n;
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  if (typeof value === "bigint" && value >= 0n && value <= UINT64_MAX) return value;
  throw invalid(
    `${owner}: ${field} must be an unsigned 64-bit integer (a number or a bigint)` +
      `${field === "correlationId" ? " or a string" : ""}, got ${describeValue(value)}`,
  );
}

function checkFlags(value: unknown, owner: string): number {
  if (value === undefined) return 0;
  if (
    typeof value !== "number" || !Number.isInteger(value) || value < 0 ||
    (value & ~KNOWN_FLAGS) !== 0 || value > KNOWN_FLAGS
  ) {
    throw invalid(
      `${owner}: flags must combine 1 (sequence start) and 2 (sequence end), got ${
        describeValue(value)
      }`,
    );
  }
  return value;
}

function checkSignal(options: unknown, owner: string): AbortSignal | undefined {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw invalid(`${owner}: options must be { signal? }, got ${describeValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (key !== "signal") {
      throw invalid(`${owner}: unknown option '${key}'; only 'signal' is known`);
    }
  }
  const signal: unknown = (options as { signal?: unknown }).signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw invalid(`${owner}: signal must be an AbortSignal, got ${describeValue(signal)}`);
  }
  return signal;
}

function asTritonError(error: unknown, context: string): TritonError {
  if (error instanceof TritonError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new TritonError(`${context}: ${message}`, ErrorCode.INTERNAL);
}

function invalid(message: string): TritonError {
  return new TritonError(message, ErrorCode.INVALID_ARG);
}
