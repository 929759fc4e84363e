/**
 * The server's bridge to the Deno backend through the test host: loads the
 * backend and models (`host_backend_load`, `host_model_load`), and runs
 * batches (`host_execute`, on Deno's thread pool) by building one host
 * request per inference request and reading back its response. A request
 * with a response sink (a decoupled model's) has its responses streamed into
 * the sink as the model sends them, during and after the execute
 * (host_stream.ts).
 *
 * @module
 */

import { dataTypeCode, dataTypeFromCode } from "../api/datatype.ts";
import { ErrorCode } from "../api/error.ts";
import { cString, ErrorText, type HostLibrary, readText } from "../../ffi/host/bindings.ts";
import { pumpResponses } from "./host_stream.ts";
import type { BatchExecutor } from "./scheduler.ts";
import { parseJsonMaybeExact } from "./tensor_json.ts";
import type {
  ExecutionTimings,
  InferRequest,
  InferResult,
  InProcessCall,
  OutputTensor,
  ParameterValue,
  RequestOutcome,
} from "./types.ts";

/** `TRITONSERVER_ParameterType` values. */
const PARAMETER_STRING = 0;
const PARAMETER_INT = 1;
const PARAMETER_BOOL = 2;
const PARAMETER_DOUBLE = 3;

/** How long to wait for a final response after execute returned (a safety net). */
const FINAL_RESPONSE_WAIT_MS = 30_000;

/** The backend, loaded into the host. */
export class HostBackend {
  /** The library. */
  readonly library: HostLibrary;
  /** `TRITONBACKEND_Backend*`. */
  readonly handle: Deno.PointerObject;

  private constructor(library: HostLibrary, handle: Deno.PointerObject) {
    this.library = library;
    this.handle = handle;
  }

  /**
   * dlopens the backend library and runs `TRITONBACKEND_Initialize`.
   *
   * @param library The host library.
   * @param libraryPath `libtriton_deno.so`.
   * @param backendDirectory The backend directory (`build/deno`).
   * @param config The backend's `--backend-config` settings.
   * @throws {Error} With the backend's message if it fails to initialize.
   */
  static load(
    library: HostLibrary,
    libraryPath: string,
    backendDirectory: string,
    config: Readonly<Record<string, string>>,
  ): HostBackend {
    const error = new ErrorText();
    const handle = library.symbols.host_backend_load(
      cString("deno"),
      cString(libraryPath),
      cString(backendDirectory),
      cString(JSON.stringify(config)),
      error.buffer,
      error.capacity,
    );
    if (handle === null) throw new Error(`failed to load the Deno backend: ${error.text()}`);
    return new HostBackend(library, handle);
  }

  /** Runs `TRITONBACKEND_Finalize`; every model must be unloaded first. */
  async unload(): Promise<void> {
    const error = new ErrorText();
    const status = await this.library.symbols.host_backend_unload_nonblocking(
      this.handle,
      error.buffer,
      error.capacity,
    );
    if (status !== 0) throw new Error(`failed to unload the Deno backend: ${error.text()}`);
  }
}

/** One model version loaded into the host, with its instances. */
export class HostModel implements BatchExecutor {
  readonly #library: HostLibrary;
  readonly #handle: Deno.PointerObject;
  readonly #instances: Deno.PointerObject[];
  readonly #name: string;
  readonly #version: number;
  readonly #scratch = { buffer: new Uint8Array(16384) };
  /** Per instance, the backend's batch-statistics count after its last execute. */
  readonly #batchReports: number[];
  #unloaded = false;
  readonly #readyChecks = new Set<Promise<true | string>>();

  private constructor(
    library: HostLibrary,
    handle: Deno.PointerObject,
    name: string,
    version: number,
  ) {
    this.#library = library;
    this.#handle = handle;
    this.#name = name;
    this.#version = version;
    const count = library.symbols.host_model_instance_count(handle);
    this.#instances = [];
    for (let i = 0; i < count; i++) {
      const instance = library.symbols.host_model_instance(handle, i);
      if (instance === null) throw new Error(`model '${name}' has no instance ${i}`);
      this.#instances.push(instance);
    }
    this.#batchReports = this.#instances.map((instance) =>
      this.#instanceStats(instance).batch_reports
    );
  }

  /**
   * Loads a model version: `TRITONBACKEND_ModelInitialize`, then one
   * `ModelInstanceInitialize` per instance (each starts a stub). Runs off
   * the event loop. With `autoComplete` the model may complete its
   * configuration (`configJson()` then has the result).
   *
   * @throws {Error} With the backend's message when the load fails.
   */
  static async load(
    backend: HostBackend,
    name: string,
    version: number,
    directory: string,
    configJson: string,
    instanceCount: number,
    autoComplete = false,
  ): Promise<HostModel> {
    const error = new ErrorText();
    const nameText = cString(name);
    const directoryText = cString(directory);
    const configText = cString(configJson);
    const handle = await backend.library.symbols.host_model_load_nonblocking(
      backend.handle,
      nameText,
      BigInt(version),
      directoryText,
      configText,
      instanceCount,
      autoComplete ? 1 : 0,
      error.buffer,
      error.capacity,
    );
    if (handle === null) throw new Error(error.text());
    return new HostModel(backend.library, handle, name, version);
  }

  /** The number of instances. */
  get instanceCount(): number {
    return this.#instances.length;
  }

  /** The configuration JSON the backend holds (after any auto-complete). */
  configJson(): string {
    return readText(
      (out, cap) => this.#library.symbols.host_model_config_json(this.#handle, out, cap),
      this.#scratch,
    );
  }

  /**
   * Asks the backend whether each instance is ready
   * (TRITONBACKEND_ModelInstanceReady, off the event loop).
   *
   * @returns `true`, or the first instance's reason it is not.
   */
  ready(): Promise<true | string> {
    if (this.#unloaded) return Promise.resolve(`model '${this.#name}' is unloading`);
    const asking = this.#askReady();
    // unload() waits for it: the instances must outlive the question.
    this.#readyChecks.add(asking);
    return asking.finally(() => this.#readyChecks.delete(asking));
  }

  async #askReady(): Promise<true | string> {
    for (const instance of this.#instances) {
      const error = new ErrorText();
      const status = await this.#library.symbols.host_instance_ready_nonblocking(
        instance,
        error.buffer,
        error.capacity,
      );
      if (status !== 1) return error.text();
    }
    return true;
  }

  /** Finalizes the instances (stopping their stubs) and the model. */
  async unload(): Promise<void> {
    if (this.#unloaded) return;
    this.#unloaded = true;
    await Promise.allSettled([...this.#readyChecks]);
    const error = new ErrorText();
    const status = await this.#library.symbols.host_model_unload_nonblocking(
      this.#handle,
      error.buffer,
      error.capacity,
    );
    if (status !== 0) {
      throw new Error(`unloading '${this.#name}' version ${this.#version}: ${error.text()}`);
    }
  }

  /** Runs one batch on instance `instance`; see {@linkcode BatchExecutor}. */
  async execute(instance: number, requests: readonly InferRequest[]): Promise<RequestOutcome[]> {
    const symbols = this.#library.symbols;
    const instanceHandle = this.#instances[instance];
    const handles: Deno.PointerObject[] = [];
    /** The request each handle was built for. */
    const handleRequest: number[] = [];
    const owned = new Set<Deno.PointerObject>(); // Freed here unless an outcome took them.
    const outcomes: (RequestOutcome | undefined)[] = [];
    // Set when the execute failed without running: the pumps stop waiting.
    let aborted: string | undefined;
    const pumps: Promise<void>[] = [];
    try {
      for (const [index, request] of requests.entries()) {
        if (request.call !== undefined) {
          // A call from another model runs its own backend request.
          const taken = this.#takeCall(request, request.call);
          if ("result" in taken) {
            outcomes.push(taken);
          } else {
            handles.push(taken);
            handleRequest.push(index);
            outcomes.push(undefined);
          }
          continue;
        }
        const built = this.#buildRequest(request);
        if (typeof built === "string") {
          outcomes.push(failed(ErrorCode.INVALID_ARG, built));
        } else {
          handles.push(built);
          handleRequest.push(index);
          owned.add(built);
          outcomes.push(undefined);
        }
      }
      if (handles.length === 0) return outcomes as RequestOutcome[];
      const pointers = new BigUint64Array(handles.map((h) => BigInt(Deno.UnsafePointer.value(h))));
      const error = new ErrorText();
      const executing = symbols.host_execute_nonblocking(
        instanceHandle,
        pointers,
        handles.length,
        error.buffer,
        error.capacity,
      );
      // A decoupled model's responses stream out while (and after) it executes.
      let next = 0;
      for (let i = 0; i < outcomes.length; i++) {
        if (outcomes[i] !== undefined) continue;
        const handle = handles[next++];
        const sink = requests[i].responses;
        if (sink === undefined) continue;
        owned.delete(handle);
        pumps.push(pumpResponses(this.#library, handle, sink, {
          model: this.#name,
          requestId: requests[i].id,
          requestedOutputs: requests[i].requestedOutputs,
          aborted: () => aborted,
        }));
      }
      const status = await executing;
      if (status < 0) {
        aborted = `execute on '${this.#name}': ${error.text()}`;
        await Promise.all(pumps);
        throw new Error(aborted);
      }
      // Requests the model gave back (RESCHEDULE, iterative sequences) run
      // again on this instance, together, until every one has its answer.
      // (The host does not reschedule calls from other models.)
      const waiting = handles.filter((_, h) => {
        const request = requests[handleRequest[h]];
        return request.responses === undefined && request.call === undefined;
      });
      for (let turn = await this.#rescheduled(waiting); turn.length > 0;) {
        const refused = await this.#executeAgain(instanceHandle, turn);
        if (refused !== undefined) throw new Error(refused);
        turn = await this.#rescheduled(turn);
      }
      const timings = this.#batchTimings(instance);
      next = 0;
      for (let i = 0; i < outcomes.length; i++) {
        if (outcomes[i] !== undefined) continue;
        const handle = handles[next++];
        const call = requests[i].call;
        if (call !== undefined) {
          outcomes[i] = await this.#callOutcome(handle, call, timings);
          continue;
        }
        if (requests[i].responses !== undefined) {
          // The pump owns it; the responses reach the client through the sink.
          outcomes[i] = {
            result: { ok: true, outputs: [], parameters: {} },
            timings,
            release() {},
          };
          continue;
        }
        outcomes[i] = await this.#collect(handle, requests[i], timings);
        owned.delete(handle);
      }
      return outcomes as RequestOutcome[];
    } finally {
      for (const handle of owned) symbols.host_request_free(handle);
    }
  }

  /** Of `handles`, those whose last turn ended in a RESCHEDULE release. */
  async #rescheduled(handles: readonly Deno.PointerObject[]): Promise<Deno.PointerObject[]> {
    const turn: Deno.PointerObject[] = [];
    for (const handle of handles) {
      let record = this.#result(handle);
      if (record.release_count === 0) {
        await this.#library.symbols.host_request_wait_nonblocking(handle, FINAL_RESPONSE_WAIT_MS);
        record = this.#result(handle);
      }
      if (record.release_count > 0 && (record.release_flags & RELEASE_RESCHEDULE) !== 0) {
        turn.push(handle);
      }
    }
    return turn;
  }

  /** Executes rescheduled requests again; resolves with the reason if the host refused. */
  async #executeAgain(
    instance: Deno.PointerObject,
    handles: readonly Deno.PointerObject[],
  ): Promise<string | undefined> {
    const error = new ErrorText();
    const pointers = new BigUint64Array(handles.map((h) => BigInt(Deno.UnsafePointer.value(h))));
    const status = await this.#library.symbols.host_execute_nonblocking(
      instance,
      pointers,
      handles.length,
      error.buffer,
      error.capacity,
    );
    return status < 0 ? `execute on '${this.#name}': ${error.text()}` : undefined;
  }

  /**
   * Readies a call from another model for this batch: adds the inputs the
   * scheduler appended (sequence controls) to its backend request and claims
   * it. A call already answered (its caller cancelled it while it was
   * queued) does not run.
   */
  #takeCall(request: InferRequest, call: InProcessCall): Deno.PointerObject | RequestOutcome {
    const refused = this.#addInputs(call.handle, request.inputs.slice(call.inputCount));
    if (refused !== undefined) return failed(ErrorCode.INTERNAL, refused);
    if (this.#library.symbols.host_forward_claim(call.token) !== 1) {
      return failed(ErrorCode.CANCELLED, `the request to '${this.#name}' was cancelled`);
    }
    return call.handle;
  }

  /**
   * What became of a call from another model, for the statistics: its
   * responses went to the caller. A decoupled model's may still be coming.
   */
  async #callOutcome(
    handle: Deno.PointerObject,
    call: InProcessCall,
    timings: ExecutionTimings | undefined,
  ): Promise<RequestOutcome> {
    const ok: RequestOutcome = {
      result: { ok: true, outputs: [], parameters: {} },
      timings,
      release() {},
    };
    if (call.decoupled) return ok;
    let record = this.#result(handle);
    if (!record.final) {
      await this.#library.symbols.host_request_wait_nonblocking(handle, FINAL_RESPONSE_WAIT_MS);
      record = this.#result(handle);
    }
    const error = record.responses.find((response) => response.error !== null)?.error;
    if (error === undefined || error === null) return ok;
    return { ...failed(error.code, error.message), timings };
  }

  /** Adds `inputs` to a host request; returns the host's reason if it refuses one. */
  #addInputs(handle: Deno.PointerObject, inputs: InferRequest["inputs"]): string | undefined {
    const error = new ErrorText();
    for (const input of inputs) {
      const shape = new BigInt64Array(input.shape.map(BigInt));
      const status = this.#library.symbols.host_request_add_input(
        handle,
        cString(input.name),
        dataTypeCode(input.datatype),
        shape,
        input.shape.length,
        input.data,
        BigInt(input.data.byteLength),
        1,
        error.buffer,
        error.capacity,
      );
      if (status !== 0) return error.text();
    }
    return undefined;
  }

  /** Builds a host request; returns the reason as a string if the host refuses it. */
  #buildRequest(request: InferRequest): Deno.PointerObject | string {
    const symbols = this.#library.symbols;
    const correlation = request.correlationId;
    const handle = symbols.host_request_new(
      cString(request.id),
      typeof correlation === "bigint" ? BigInt.asUintN(64, correlation) : 0n,
      cString(typeof correlation === "string" ? correlation : ""),
      request.flags,
      request.timeoutUs,
    );
    if (handle === null) return "the host refused to create a request";
    const refused = this.#addInputs(handle, request.inputs);
    if (refused !== undefined) {
      symbols.host_request_free(handle);
      return refused;
    }
    for (const output of request.requestedOutputs) {
      symbols.host_request_add_requested_output(handle, cString(output));
    }
    for (const [key, value] of request.parameters) addParameter(this.#library, handle, key, value);
    return handle;
  }

  #instanceStats(instance: Deno.PointerObject): InstanceStats {
    const text = readText(
      (out, cap) => this.#library.symbols.host_instance_stats_json(instance, out, cap),
      this.#scratch,
    );
    return JSON.parse(text) as InstanceStats;
  }

  /**
   * The batch's timings, if the backend reported batch statistics for it.
   * Only this executor runs batches on the instance, so comparing with the
   * count seen after the previous batch tells whether this one reported.
   */
  #batchTimings(instance: number): ExecutionTimings | undefined {
    const stats = this.#instanceStats(this.#instances[instance]);
    const reported = stats.batch_reports !== this.#batchReports[instance];
    this.#batchReports[instance] = stats.batch_reports;
    if (!reported) return undefined;
    const [execStart, computeStart, computeEnd, execEnd] = stats.last_batch_ns;
    return {
      computeInputNs: computeStart - execStart,
      computeInferNs: computeEnd - computeStart,
      computeOutputNs: execEnd - computeEnd,
    };
  }

  /** Reads a request's response into an outcome that frees the request when released. */
  async #collect(
    handle: Deno.PointerObject,
    request: InferRequest,
    timings: ExecutionTimings | undefined,
  ): Promise<RequestOutcome> {
    const symbols = this.#library.symbols;
    let record = this.#result(handle);
    if (!record.final) {
      await symbols.host_request_wait_nonblocking(handle, FINAL_RESPONSE_WAIT_MS);
      record = this.#result(handle);
    }
    let freed = false;
    const release = () => {
      if (!freed) symbols.host_request_free(handle);
      freed = true;
    };
    const result = this.#toResult(handle, record, request);
    if (!result.ok) release();
    return { result, timings, release };
  }

  #result(handle: Deno.PointerObject): HostResult {
    const text = readText(
      (out, cap) => this.#library.symbols.host_request_result_json(handle, out, cap),
      this.#scratch,
    );
    return parseJsonMaybeExact(text) as HostResult;
  }

  #toResult(handle: Deno.PointerObject, record: HostResult, request: InferRequest): InferResult {
    const model = `model '${this.#name}'`;
    const responses = record.responses.filter((response) => !response.flags_only);
    if (responses.length === 0) {
      return {
        ok: false,
        code: ErrorCode.INTERNAL,
        message: `${model} sent no response for request '${request.id}'`,
      };
    }
    if (responses.length > 1) {
      return {
        ok: false,
        code: ErrorCode.INTERNAL,
        message: `expected a single response, got ${responses.length}`,
      };
    }
    const response = responses[0];
    const index = record.responses.indexOf(response);
    if (response.error !== null) {
      return { ok: false, code: response.error.code, message: response.error.message };
    }
    const wanted = new Set(request.requestedOutputs);
    const outputs: OutputTensor[] = [];
    response.outputs.forEach((output, outputIndex) => {
      if (wanted.size > 0 && !wanted.has(output.name)) return;
      const datatype = dataTypeFromCode(output.datatype_code);
      if (datatype === undefined) return;
      const byteSize = output.has_buffer ? output.byte_size : 0;
      outputs.push({
        name: output.name,
        datatype,
        shape: output.shape,
        byteSize,
        read: (destination: Uint8Array) => {
          if (byteSize === 0) return;
          const copied = this.#library.symbols.host_request_output_data(
            handle,
            index,
            outputIndex,
            destination,
            BigInt(destination.byteLength),
          );
          if (Number(copied) !== byteSize) {
            throw new Error(`output '${output.name}': the host returned ${copied} bytes`);
          }
        },
      });
    });
    for (const name of wanted) {
      if (!outputs.some((output) => output.name === name)) {
        return {
          ok: false,
          code: ErrorCode.INTERNAL,
          message: `${model} did not return the requested output '${name}'`,
        };
      }
    }
    return { ok: true, outputs, parameters: response.parameters };
  }
}

function addParameter(
  library: HostLibrary,
  handle: Deno.PointerObject,
  key: string,
  value: ParameterValue,
): void {
  const name = cString(key);
  const empty = cString("");
  const add = library.symbols.host_request_add_parameter;
  if (typeof value === "string") {
    add(handle, name, PARAMETER_STRING, cString(value), 0n, 0);
  } else if (typeof value === "boolean") {
    add(handle, name, PARAMETER_BOOL, empty, value ? 1n : 0n, 0);
  } else if (typeof value === "bigint") {
    add(handle, name, PARAMETER_INT, empty, value, 0); // Within INT64: checked when parsed.
  } else if (Number.isSafeInteger(value)) {
    add(handle, name, PARAMETER_INT, empty, BigInt(value), 0);
  } else {
    add(handle, name, PARAMETER_DOUBLE, empty, 0n, value);
  }
}

function failed(code: number, message: string): RequestOutcome {
  return { result: { ok: false, code, message }, timings: undefined, release() {} };
}

/** `host_instance_stats_json`, the fields used here. */
interface InstanceStats {
  batch_reports: number;
  last_batch_ns: [number, number, number, number];
}

/** `TRITONSERVER_REQUEST_RELEASE_RESCHEDULE`. */
const RELEASE_RESCHEDULE = 2;

/** `host_request_result_json`, the fields used here. */
interface HostResult {
  final: boolean;
  release_count: number;
  release_flags: number;
  responses: {
    flags_only: boolean;
    error: { code: number; message: string } | null;
    parameters: Record<string, ParameterValue>;
    outputs: {
      name: string;
      datatype_code: number;
      shape: number[];
      byte_size: number;
      has_buffer: boolean;
    }[];
  }[];
}
