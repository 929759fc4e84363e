/**
 * Calls from one model to another (BLS) on serve's own model manager. The
 * host hands each call to this server (`host_forward_*`, ffi/host/forward.c)
 * instead of running it on an idle instance, and this module puts it through
 * the called model's scheduler as an HTTP or gRPC request goes: the same
 * checks and errors, dynamic batching, sequence batching with its control
 * inputs and slots, priorities and queue policies, and the model's
 * statistics. The call's own backend request runs in the batch, so what the
 * model sends (one response, a decoupled model's stream, an error) goes
 * straight back to the calling model.
 *
 * A call to an ensemble runs the ensemble as an HTTP request to it does: its
 * steps go through their own schedulers and statistics, and the ensemble's
 * outputs go back to the calling model in one final response (a decoupled
 * ensemble's stream too: serve's ensembles answer once) built here
 * (`host_forward_response_*`); its error, worded as a client would get it,
 * answers the call instead. A caller that cancels such a call has it
 * answered `CANCELLED` at once; the ensemble starts none of its remaining
 * steps and its outputs are dropped.
 *
 * The host never waits for this module: it queues an event and returns. One
 * thread of Deno's pool waits for events ({@linkcode WAIT_MS} at a time), so
 * the event loop never blocks. A caller that cancels a call still queued here
 * has it answered `CANCELLED` at once (it does not run when its turn comes).
 * {@linkcode InProcessCalls.stop} answers the calls not yet read with
 * `UNAVAILABLE`; those already submitted end with their scheduler.
 *
 * @module
 */

import { z } from "npm:zod@3.25.76";
import { dataTypeCode, dataTypeFromCode } from "../api/datatype.ts";
import { cString, ErrorText, type HostLibrary, readText } from "../../ffi/host/bindings.ts";
import { ErrorCode, ServeError } from "./errors.ts";
import { inferRequestFromJson } from "./infer_request.ts";
import type { ModelRegistry, ServedVersion } from "./model_manager.ts";
import { failedOutcome } from "./scheduler.ts";
import type {
  InferRequest,
  InferResult,
  OutputTensor,
  ParameterValue,
  RequestOutcome,
} from "./types.ts";

/** How long one wait for the host's events lasts before the next, in milliseconds. */
const WAIT_MS = 1000;

/** Triton's message for a request cancelled before it ran. */
const CANCELLED_MESSAGE = "Request was cancelled";

const decimal = z.string().regex(/^-?\d+$/);

const parameterSchema = z.object({
  key: z.string(),
  string: z.string().optional(),
  int: decimal.optional(),
  bool: z.boolean().optional(),
  double: z.string().optional(),
});

const callSchema = z.object({
  kind: z.literal("call"),
  call: decimal,
  request: decimal,
  model: z.string(),
  version: z.number().int(),
  id: z.string(),
  correlation_id: decimal.optional(),
  correlation_id_string: z.string().optional(),
  flags: z.number().int().nonnegative(),
  priority: decimal,
  timeout_us: decimal,
  inputs: z.array(z.object({
    name: z.string(),
    datatype: z.number().int(),
    shape: z.array(z.number().int()),
    buffers: z.array(z.tuple([decimal, decimal])),
  })),
  outputs: z.array(z.string()),
  parameters: z.array(parameterSchema),
});

const eventSchema = z.discriminatedUnion("kind", [
  callSchema,
  z.object({ kind: z.literal("cancel"), call: decimal }),
]);

type CallEvent = z.infer<typeof callSchema>;

/**
 * Takes the host's in-process calls and submits each to the called model's
 * scheduler.
 *
 * @example
 * ```ts ignore
 * const calls = new InProcessCalls(library, manager);
 * calls.start();
 * // ... serve ...
 * await manager.unloadAll();
 * await calls.stop();
 * ```
 */
export class InProcessCalls {
  readonly #library: HostLibrary;
  readonly #registry: ModelRegistry;
  /** The calls this server holds, by the host's address of each. */
  readonly #live = new Map<string, Deno.PointerObject>();
  /** The ensembles running for calls, by the host's address of each call. */
  readonly #ensembles = new Map<string, AbortController>();
  readonly #scratch = { buffer: new Uint8Array(16384) };
  #loop: Promise<void> | undefined;

  /**
   * @param library The host library (the backend is loaded into it).
   * @param registry Finds the called model's served version.
   */
  constructor(library: HostLibrary, registry: ModelRegistry) {
    this.#library = library;
    this.#registry = registry;
  }

  /** How many calls this server holds (submitted and not yet done). */
  get inFlight(): number {
    return this.#live.size;
  }

  /** From now on the host hands its in-process calls here. */
  start(): void {
    if (this.#loop !== undefined) return;
    this.#library.symbols.host_forward_start();
    this.#loop = this.#run();
  }

  /**
   * Stops taking calls: those the host still queues, and later ones, are
   * answered `UNAVAILABLE`. Resolves once the waiting thread has returned
   * (the library may then be closed).
   */
  async stop(): Promise<void> {
    if (this.#loop === undefined) return;
    this.#library.symbols.host_forward_stop();
    await this.#loop;
    this.#loop = undefined;
  }

  async #run(): Promise<void> {
    const symbols = this.#library.symbols;
    while (await symbols.host_forward_wait_nonblocking(WAIT_MS) >= 0) {
      for (;;) {
        const text = readText((out, cap) => symbols.host_forward_next(out, cap), this.#scratch);
        if (text === "") break;
        this.#take(text);
      }
    }
  }

  #take(text: string): void {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const parsed = eventSchema.safeParse(json);
    if (!parsed.success) {
      // Not expected from the host; a call it describes is still answered.
      const address = /^\{"kind":"call","call":"(\d+)"/.exec(text)?.[1];
      if (address !== undefined) {
        this.#library.symbols.host_forward_done(
          pointer(address),
          ErrorCode.INTERNAL,
          cString("the server could not read the in-process request"),
        );
      }
      return;
    }
    const event = parsed.data;
    if (event.kind === "cancel") {
      // Answered now if it still waits in a queue; a running call sees the
      // cancellation itself (TRITONBACKEND_RequestIsCancelled).
      const token = this.#live.get(event.call);
      if (token !== undefined) {
        this.#library.symbols.host_forward_answer(
          token,
          ErrorCode.CANCELLED,
          cString(CANCELLED_MESSAGE),
        );
      }
      this.#ensembles.get(event.call)?.abort();
      return;
    }
    const token = pointer(event.call);
    this.#live.set(event.call, token);
    let submitted: Promise<RequestOutcome>;
    try {
      submitted = this.#submit(event, token);
    } catch (error) {
      submitted = Promise.resolve(
        error instanceof ServeError
          ? failedOutcome(error.code, error.message)
          : failedOutcome(ErrorCode.INTERNAL, `the request to model '${event.model}' failed`),
      );
    }
    submitted.then((outcome) => {
      this.#done(event, token, outcome.result);
      outcome.release();
    }, (error) => {
      const message = error instanceof Error ? error.message : String(error);
      this.#done(event, token, { ok: false, code: ErrorCode.INTERNAL, message });
    });
  }

  /** Ends this server's hold on a call; one that never ran gets `result`'s error. */
  #done(event: CallEvent, token: Deno.PointerObject, result: InferResult): void {
    const code = result.ok ? ErrorCode.INTERNAL : result.code;
    const message = result.ok
      ? `the request to model '${event.model}' ended without running`
      : result.message;
    this.#library.symbols.host_forward_done(token, code, cString(message.replaceAll("\0", " ")));
    this.#live.delete(event.call);
  }

  /**
   * Checks the call against the called model as a client's request is
   * checked, and submits it to the model's scheduler.
   *
   * @throws {ServeError} Triton's error for an unknown or unavailable model
   * and for a request the model cannot take.
   */
  #submit(event: CallEvent, token: Deno.PointerObject): Promise<RequestOutcome> {
    const served = this.#registry.servedVersion(
      event.model,
      event.version < 0 ? undefined : event.version,
    );
    const ensemble = served.config.platform === "ensemble";
    const handle = pointer(event.request);
    const { json, binary } = describeInputs(event);
    const parsed = inferRequestFromJson(served.signature, json, binary).request;
    if (parsed.requestedOutputs.length === 0 && !ensemble) {
      // As Triton: a call that names no outputs gets every output.
      for (const output of served.signature.outputs) {
        this.#library.symbols.host_request_add_requested_output(handle, cString(output.name));
      }
    }
    const request: InferRequest = {
      ...parsed,
      id: event.id,
      parameters: parametersOf(event),
      correlationId: event.correlation_id_string ?? BigInt(event.correlation_id ?? "0"),
      flags: event.flags,
      priority: priorityOf(event.priority),
      timeoutUs: BigInt(event.timeout_us),
    };
    if (ensemble) return this.#runEnsemble(event.call, handle, served, request);
    return served.scheduler.submit({
      ...request,
      call: {
        token,
        handle,
        inputCount: parsed.inputs.length,
        decoupled: served.signature.decoupled,
      },
    });
  }

  /**
   * Runs an ensemble for a call and sends its outputs to the caller; an
   * error outcome is left for {@linkcode InProcessCalls.#done} to answer.
   */
  async #runEnsemble(
    address: string,
    handle: Deno.PointerObject,
    served: ServedVersion,
    request: InferRequest,
  ): Promise<RequestOutcome> {
    const controller = new AbortController();
    this.#ensembles.set(address, controller);
    let outcome: RequestOutcome;
    try {
      outcome = await served.scheduler.submit({ ...request, signal: controller.signal });
    } finally {
      this.#ensembles.delete(address);
    }
    if (!outcome.result.ok) return outcome;
    try {
      const error = await this.#respond(
        pointer(address),
        handle,
        outcome.result.outputs,
      );
      return error === undefined ? outcome : failedOutcome(ErrorCode.INTERNAL, error);
    } finally {
      outcome.release();
    }
  }

  /**
   * Sends an ensemble's outputs to the caller as one response. Nothing is
   * sent to a call already answered (cancelled); resolves with why the
   * response could not be built, if it could not (the call is then
   * answered with an error when the server lets go of it).
   */
  async #respond(
    token: Deno.PointerObject,
    handle: Deno.PointerObject,
    outputs: readonly OutputTensor[],
  ): Promise<string | undefined> {
    const symbols = this.#library.symbols;
    if (symbols.host_forward_claim(token) !== 1) return undefined;
    const response = symbols.host_forward_response_new(handle);
    if (response === null) return "the response to the in-process request could not be created";
    const error = new ErrorText();
    for (const output of outputs) {
      const data = new Uint8Array(output.byteSize);
      output.read(data);
      const status = symbols.host_forward_response_output(
        response,
        cString(output.name),
        dataTypeCode(output.datatype),
        new BigInt64Array(output.shape.map(BigInt)),
        output.shape.length,
        data,
        BigInt(data.byteLength),
        error.buffer,
        error.capacity,
      );
      if (status !== 0) {
        symbols.host_forward_response_delete(response);
        return `output '${output.name}' could not be returned: ${error.text()}`;
      }
    }
    const sent = await symbols.host_forward_response_send_nonblocking(response);
    return sent === 0 ? undefined : "the response to the in-process request could not be sent";
  }
}

/** A host address (a decimal string) as a pointer. */
function pointer(address: string): Deno.PointerObject {
  const value = Deno.UnsafePointer.create(BigInt(address));
  if (value === null) throw new Error("the host sent a null address");
  return value;
}

/**
 * The call's inputs as a request body in the shape the HTTP parser reads
 * (binary data), with their bytes copied out of the caller's buffers.
 */
function describeInputs(event: CallEvent): { json: unknown; binary: Uint8Array } {
  let total = 0;
  for (const input of event.inputs) {
    for (const [, size] of input.buffers) total += Number(size);
  }
  const binary = new Uint8Array(total);
  let offset = 0;
  const inputs = event.inputs.map((input) => {
    const datatype = dataTypeFromCode(input.datatype);
    if (datatype === undefined) {
      throw new ServeError(
        ErrorCode.INVALID_ARG,
        `input '${input.name}' for model '${event.model}' has an invalid datatype`,
      );
    }
    const start = offset;
    for (const [address, size] of input.buffers) {
      const length = Number(size);
      if (length === 0) continue;
      const view = new Deno.UnsafePointerView(pointer(address));
      binary.set(new Uint8Array(view.getArrayBuffer(length)), offset);
      offset += length;
    }
    return {
      name: input.name,
      datatype,
      shape: input.shape,
      parameters: { binary_data_size: offset - start },
    };
  });
  return { json: { inputs, outputs: event.outputs.map((name) => ({ name })) }, binary };
}

function parametersOf(event: CallEvent): Map<string, ParameterValue> {
  const parameters = new Map<string, ParameterValue>();
  for (const parameter of event.parameters) {
    if (parameter.string !== undefined) {
      parameters.set(parameter.key, parameter.string);
    } else if (parameter.int !== undefined) {
      const value = BigInt(parameter.int);
      const safe = value <= BigInt(Number.MAX_SAFE_INTEGER) &&
        value >= BigInt(Number.MIN_SAFE_INTEGER);
      parameters.set(parameter.key, safe ? Number(value) : value);
    } else if (parameter.bool !== undefined) {
      parameters.set(parameter.key, parameter.bool);
    } else if (parameter.double !== undefined) {
      parameters.set(parameter.key, parseDouble(parameter.double));
    }
  }
  return parameters;
}

/** A uint64 priority level; levels beyond 2^53 all mean "the lowest", as past the configured count. */
function priorityOf(text: string): number {
  const level = BigInt(text);
  return level > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(level);
}

/** C's `%.17g`, including its `inf`, `-inf` and `nan`. */
function parseDouble(text: string): number {
  if (text === "inf") return Infinity;
  if (text === "-inf") return -Infinity;
  return Number(text);
}
