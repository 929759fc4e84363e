/**
 * One inference through an in-process core (`TRITONSERVER_ServerInferAsync`):
 * build it from a plain request, start it, and read its responses as they
 * come (one for most models, any number for a decoupled one).
 *
 * @module
 */

import type { ClientLibrary } from "../../ffi/client/bindings.ts";
import { cString, ErrorText, readText } from "../../ffi/host/bindings.ts";
import { dataTypeCode, type DataTypeName } from "../api/datatype.ts";
import { CoreError, type CoreErrorCode } from "./errors.ts";

/** One input: Triton's datatype name, shape and the bytes Triton expects. */
export interface CallInput {
  /** Input name. */
  name: string;
  /** Triton datatype. */
  datatype: DataTypeName;
  /** Shape (the batch dimension included for batching models). */
  shape: readonly number[];
  /** The tensor's bytes (BYTES: 4-byte little-endian length + bytes per element). */
  data: Uint8Array;
}

/** A request parameter. */
export type CallParameter = string | number | boolean | { double: number } | { int: bigint };

/** What to infer. */
export interface InferRequest {
  /** Model name. */
  model: string;
  /** Model version; -1 (default): the server's choice. */
  version?: number;
  /** Request id. */
  id?: string;
  /** Inputs. */
  inputs: readonly CallInput[];
  /** Outputs to return (default: all). */
  outputs?: readonly string[];
  /** Sequence correlation id. */
  correlationId?: bigint | string;
  /** `TRITONSERVER_RequestFlag` bits (1 START, 2 END). */
  flags?: number;
  /** Timeout in microseconds (0: none). */
  timeoutMicros?: number;
  /** Parameters: a JS number is INT when whole, DOUBLE otherwise. */
  parameters?: Readonly<Record<string, CallParameter>>;
}

/** An output as Triton returned it. */
export interface CallOutput {
  /** Output name. */
  name: string;
  /** Triton datatype name. */
  datatype: string;
  /** Shape. */
  shape: number[];
  /** The bytes (a copy). */
  data: Uint8Array;
}

/** One response. */
export interface CallResponse {
  /** `TRITONSERVER_ResponseCompleteFlag` bits it came with. */
  flags: number;
  /** True for a FINAL without a response (decoupled models). */
  flagsOnly: boolean;
  /** The response's error, if any. */
  error: { code: CoreErrorCode; message: string } | null;
  /** Response parameters: STRING as string, INT as bigint, BOOL, DOUBLE as number. */
  parameters: Record<string, string | bigint | boolean | number>;
  /** Outputs, by name. */
  outputs: Map<string, CallOutput>;
}

interface ResponseJson {
  flags: number;
  flags_only: boolean;
  error: { code: CoreErrorCode; message: string } | null;
  parameters: { name: string; type: string; value: string | boolean | null }[];
  outputs: { name: string; datatype: string; shape: number[]; byte_size: number }[];
}

const TYPE_STRING = 0;
const TYPE_INT = 1;
const TYPE_BOOL = 2;
const TYPE_DOUBLE = 3;
const FINAL = 1;

/** An inference built on the client library; see the module documentation. */
export class InferCall {
  readonly #client: ClientLibrary;
  readonly #handle: Deno.PointerObject;
  #seen = 0;
  #freed = false;

  private constructor(client: ClientLibrary, handle: Deno.PointerObject) {
    this.#client = client;
    this.#handle = handle;
  }

  /**
   * Builds the call (not started).
   *
   * @throws {CoreError} If Triton refuses the request as built.
   */
  static create(
    client: ClientLibrary,
    clientHandle: Deno.PointerObject,
    request: InferRequest,
  ): InferCall {
    const error = new ErrorText();
    const s = client.symbols;
    const handle = s.tdc_call_new(
      clientHandle,
      cString(request.model),
      BigInt(request.version ?? -1),
      cString(request.id ?? ""),
      error.buffer,
      error.capacity,
    );
    if (handle === null) throw CoreError.fromText(error.text());
    const call = new InferCall(client, handle);
    const check = (status: number) => {
      if (status !== 0) {
        call.free();
        throw CoreError.fromText(error.text());
      }
    };
    for (const input of request.inputs) {
      check(s.tdc_call_add_input(
        handle,
        cString(input.name),
        dataTypeCode(input.datatype),
        new BigInt64Array(input.shape.map(BigInt)),
        input.shape.length,
        input.data.byteLength === 0 ? new Uint8Array(1) : input.data as Uint8Array<ArrayBuffer>,
        BigInt(input.data.byteLength),
        error.buffer,
        error.capacity,
      ));
    }
    for (const output of request.outputs ?? []) {
      check(s.tdc_call_add_requested_output(handle, cString(output), error.buffer, error.capacity));
    }
    if (request.correlationId !== undefined || request.flags !== undefined) {
      const id = request.correlationId ?? 0n;
      check(s.tdc_call_set_sequence(
        handle,
        typeof id === "bigint" ? id : 0n,
        cString(typeof id === "string" ? id : ""),
        request.flags ?? 0,
        error.buffer,
        error.capacity,
      ));
    }
    if (request.timeoutMicros !== undefined) {
      check(s.tdc_call_set_timeout(
        handle,
        BigInt(request.timeoutMicros),
        error.buffer,
        error.capacity,
      ));
    }
    for (const [key, value] of Object.entries(request.parameters ?? {})) {
      const [type, text, whole, real] = typeof value === "string"
        ? [TYPE_STRING, value, 0n, 0]
        : typeof value === "boolean"
        ? [TYPE_BOOL, "", value ? 1n : 0n, 0]
        : typeof value === "number"
        ? (Number.isInteger(value)
          ? [TYPE_INT, "", BigInt(value), 0]
          : [TYPE_DOUBLE, "", 0n, value])
        : "int" in value
        ? [TYPE_INT, "", value.int, 0]
        : [TYPE_DOUBLE, "", 0n, value.double];
      check(s.tdc_call_add_parameter(
        handle,
        cString(key),
        type,
        cString(text),
        whole,
        real,
        error.buffer,
        error.capacity,
      ));
    }
    return call;
  }

  /** The `tdc_call*` (for the benchmark, which uses it as a template). */
  get handle(): Deno.PointerObject {
    return this.#handle;
  }

  /**
   * Submits the request (`TRITONSERVER_ServerInferAsync`).
   *
   * @throws {CoreError} If Triton refuses it (an unknown model, a bad input).
   */
  start(): void {
    const error = new ErrorText();
    if (this.#client.symbols.tdc_call_start(this.#handle, error.buffer, error.capacity) !== 0) {
      throw CoreError.fromText(error.text());
    }
  }

  /** Asks Triton to cancel the request (`TRITONSERVER_InferenceRequestCancel`). */
  cancel(): void {
    this.#client.symbols.tdc_call_cancel(this.#handle);
  }

  /**
   * The next response, or `undefined` once the call is complete (final and
   * released) with no response left.
   *
   * @param timeoutMs How long to wait for it.
   * @throws {Error} If nothing came within `timeoutMs`.
   */
  async next(timeoutMs = 60_000): Promise<CallResponse | undefined> {
    const count = Number(
      await this.#client.symbols.tdc_call_wait(this.#handle, this.#seen, timeoutMs),
    );
    if (count === -2) return undefined;
    if (count <= this.#seen) {
      throw new Error(`no response from the core within ${timeoutMs} ms`);
    }
    return this.#read(this.#seen++);
  }

  /** Every response until the final one. */
  async responses(timeoutMs = 60_000): Promise<CallResponse[]> {
    const all: CallResponse[] = [];
    for (let r = await this.next(timeoutMs); r !== undefined; r = await this.next(timeoutMs)) {
      all.push(r);
    }
    return all;
  }

  /**
   * Starts the call and returns its one non-empty response (most models),
   * then frees the call.
   */
  async run(timeoutMs = 60_000): Promise<CallResponse> {
    try {
      this.start();
      const responses = await this.responses(timeoutMs);
      const answer = responses.find((response) => !response.flagsOnly);
      if (answer === undefined) {
        throw new Error("the core completed the request without a response");
      }
      if (responses.at(-1)?.flags !== FINAL) {
        throw new Error("the core's last response is not FINAL");
      }
      return answer;
    } finally {
      this.free();
    }
  }

  /** Frees the call; one still in flight is freed when Triton is done with it. */
  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    this.#client.symbols.tdc_call_free(this.#handle);
  }

  #read(index: number): CallResponse {
    const s = this.#client.symbols;
    const json = JSON.parse(
      readText((out, cap) => s.tdc_call_response_json(this.#handle, index, out, cap)),
    ) as ResponseJson;
    const outputs = new Map<string, CallOutput>();
    json.outputs.forEach((output, position) => {
      const data = new Uint8Array(output.byte_size);
      s.tdc_call_output_data(
        this.#handle,
        index,
        position,
        data.byteLength === 0 ? new Uint8Array(1) : data,
        BigInt(data.byteLength),
      );
      outputs.set(output.name, { ...output, data });
    });
    const parameters: CallResponse["parameters"] = {};
    for (const { name, type, value } of json.parameters) {
      parameters[name] = type === "INT"
        ? BigInt(value as string)
        : type === "DOUBLE"
        ? Number(value)
        : type === "BOOL"
        ? value === true
        : String(value);
    }
    return {
      flags: json.flags,
      flagsOnly: json.flags_only,
      error: json.error,
      parameters,
      outputs,
    };
  }
}
