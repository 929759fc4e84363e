/**
 * Test helpers for model authors, imported as `"@triton/deno/testing"`: run
 * a model's `initialize`, `execute` and `isReady` in `deno test`, without
 * Triton, with requests built the way the runtime builds them and responses
 * checked the way the runtime checks them against config.pbtxt.
 *
 * - {@linkcode TestArena}: shared memory in an ordinary buffer; its
 *   `input(name, datatype, shape, values)` writes an input as the parent
 *   does.
 * - {@linkcode testRequest}: a request over the arena, with the id,
 *   correlation id, flags, timeout and parameters a test gives it.
 * - {@linkcode testRequestWithSender}: the same with a response sender that
 *   records what the model sends (decoupled models, or a model that answers
 *   through its sender).
 * - {@linkcode loadTestModelConfig}: config.pbtxt read and decoded, and the
 *   `InitializeArgs` the runtime would pass.
 * - {@linkcode checkResponse}: the runtime's check of a response against the
 *   configuration (declared outputs, datatypes, shapes).
 * - {@linkcode useTestModels}: stand-ins for the models a model calls with
 *   `BlsRequest` (and for `models.isReady`).
 *
 * @example A model's own test (run with `deno test --allow-read` in its directory)
 * ```ts ignore
 * import { checkResponse, loadTestModelConfig, TestArena, testRequest } from "@triton/deno/testing";
 * import AddSub from "./1/model.ts";
 *
 * const { config } = await loadTestModelConfig(new URL("./", import.meta.url));
 *
 * Deno.test("add_sub adds", () => {
 *   const arena = new TestArena();
 *   const request = testRequest(arena, [
 *     arena.input("INPUT0", "FP32", [2], [1, 2]),
 *     arena.input("INPUT1", "FP32", [2], [3, 4]),
 *   ]);
 *   const [response] = new AddSub().execute([request]);
 *   if (!checkResponse(response, config).ok) throw new Error("bad response");
 * });
 * ```
 *
 * @module
 */

import type { ModelConfig } from "../model_config/mod.ts";
import type { BlsTransport, BlsWireRequest, BlsWireResponse } from "./bls.ts";
import { setBlsTransport } from "./bls.ts";
import { type CheckedResponse, checkResponse as runtimeCheck } from "./check_response.ts";
import { ErrorCode, TritonError } from "./error.ts";
import { makeRequest, makeResponseSender, tensorFromWire } from "./internal.ts";
import { checkParameters, parametersFromWire, parametersToWire } from "./parameters.ts";
import type { InferenceParameters, ParameterValue } from "./parameters.ts";
import type { InferenceRequest } from "./request.ts";
import { InferenceResponse } from "./response.ts";
import type { Tensor } from "./tensor.ts";
import type { TestArena } from "./test_support.ts";

export { loadTestModelConfig, TestArena } from "./test_support.ts";
export type { CheckedResponse } from "./check_response.ts";

/**
 * What a test request carries besides its inputs.
 *
 * @example
 * ```ts
 * import type { TestRequestOptions } from "@triton/deno/testing";
 *
 * const options: TestRequestOptions = { id: "r1", correlationId: 7n, flags: 1, timeoutMicros: 1000 };
 * console.log(options.flags); // 1
 * ```
 */
export interface TestRequestOptions {
  /** The outputs the client asks for (default: all). */
  requestedOutputNames?: readonly string[];
  /** The request id (default `"test"`). */
  id?: string;
  /** The sequence correlation id (default `0n`). */
  correlationId?: bigint | string;
  /** `TRITONSERVER_RequestFlag` bits (default 0; see `RequestFlags`). */
  flags?: number;
  /** The timeout in microseconds (default 0: none). */
  timeoutMicros?: number;
  /** Request parameters, as a client sends them. */
  parameters?: Readonly<Record<string, ParameterValue>>;
  /** The request's cancellation flag (default: never cancelled). */
  isCancelled?: () => boolean;
  /**
   * Lets the model call `request.reschedule()` (a model with
   * `sequence_batching { iterative_sequence: true }`); each call is counted
   * in the returned `rescheduled` of {@linkcode testRequestWithSender}.
   */
  reschedulable?: boolean;
}

/**
 * A request over `arena` with the given inputs, as the runtime builds one.
 *
 * @param arena Where inputs live and `allocateOutput` allocates.
 * @param inputs Tensors from `arena.input(...)` (or any `Tensor`).
 * @param options The requested outputs (an array, as in earlier versions) or
 * {@linkcode TestRequestOptions}.
 * @param id The request id when `options` is an array.
 *
 * @example
 * ```ts
 * import { TestArena, testRequest } from "@triton/deno/testing";
 *
 * const arena = new TestArena();
 * const request = testRequest(arena, [arena.input("X", "INT32", [1], [5])], { flags: 1 });
 * console.log(request.input("X").data, request.flags); // Int32Array [5] 1
 * ```
 */
export function testRequest(
  arena: TestArena,
  inputs: Tensor[],
  options: readonly string[] | TestRequestOptions = {},
  id = "test",
): InferenceRequest {
  const init = Array.isArray(options)
    ? { requestedOutputNames: options as readonly string[], id }
    : options as TestRequestOptions;
  return buildRequest(arena, inputs, init, undefined).request;
}

/** One response a model sent through a test request's sender. */
export interface SentResponse {
  /** The response, or undefined for a final flag alone (`close()`). */
  readonly response: InferenceResponse | undefined;
  /** Whether it carried the final flag. */
  readonly final: boolean;
}

/** A test request with a recording sender. */
export interface RequestWithSender {
  /** The request; `request.responseSender()` records into `sent`. */
  readonly request: InferenceRequest;
  /** Everything sent so far, in order. */
  readonly sent: readonly SentResponse[];
  /** How many times the model called `request.reschedule()`. */
  readonly rescheduled: number;
}

/**
 * A request whose response sender records what the model sends. With
 * `decoupled: false` the sender behaves as a model that is not decoupled
 * sees it (one response, then the final flag). With `config`, every
 * response is checked against it before it counts as sent, as the runtime
 * does (a mismatch throws at the `send`).
 *
 * @example
 * ```ts
 * import { InferenceResponse } from "@triton/deno";
 * import { TestArena, testRequestWithSender } from "@triton/deno/testing";
 *
 * const { request, sent } = testRequestWithSender(new TestArena(), []);
 * request.responseSender().send(new InferenceResponse([]));
 * request.responseSender().close();
 * console.log(sent.map((item) => item.final)); // [false, true]
 * ```
 */
export function testRequestWithSender(
  arena: TestArena,
  inputs: Tensor[],
  options: TestRequestOptions & { decoupled?: boolean; config?: ModelConfig } = {},
): RequestWithSender {
  return buildRequest(arena, inputs, options, {
    decoupled: options.decoupled ?? true,
    config: options.config,
  });
}

function buildRequest(
  arena: TestArena,
  inputs: Tensor[],
  options: TestRequestOptions,
  sender: { decoupled: boolean; config: ModelConfig | undefined } | undefined,
): RequestWithSender {
  const sent: SentResponse[] = [];
  const state = { rescheduled: 0 };
  const id = options.id ?? "test";
  const requested = [...(options.requestedOutputNames ?? [])];
  const isCancelled = options.isCancelled ?? (() => false);
  const request = makeRequest({
    id,
    correlationId: options.correlationId ?? 0n,
    flags: options.flags ?? 0,
    timeoutMicros: options.timeoutMicros ?? 0,
    inputs,
    requestedOutputNames: requested,
    allocator: arena,
    parameters: toParameters(options.parameters),
    isCancelled,
    decoupled: sender?.decoupled ?? false,
    reschedule: options.reschedulable === true ? () => void state.rescheduled++ : undefined,
    createResponseSender: sender === undefined ? undefined : () =>
      makeResponseSender({
        requestId: id,
        requestIndex: 0,
        single: !sender.decoupled,
        isCancelled,
        checker: sender.config === undefined
          ? undefined
          : (response) => runtimeCheck(response, sender.config!, requested),
        transport: (_index, response, final) => sent.push({ response, final }),
      }),
  });
  return {
    request,
    sent,
    get rescheduled() {
      return state.rescheduled;
    },
  };
}

/** Parameters as the runtime decodes them from the wire (frozen, checked). */
function toParameters(
  parameters: Readonly<Record<string, ParameterValue>> | undefined,
): InferenceParameters | undefined {
  return parameters === undefined ? undefined : parametersFromWire(
    parametersToWire(checkParameters(parameters, "request parameter")),
    "request parameter",
  );
}

/**
 * The runtime's check of a response against the model's configuration:
 * every output declared, of the declared datatype, with a shape that fits
 * `dims` (and `max_batch_size`), its data the size its shape says; outputs
 * not in `requestedOutputNames` dropped. A response that carries an error
 * is `{ ok: false }` with that error.
 *
 * @param response What `execute` returned (or sent) for one request.
 * @param config From {@linkcode loadTestModelConfig}.
 * @param requestedOutputNames The outputs the request asked for (default: all).
 *
 * @example
 * ```ts
 * import { InferenceResponse, Tensor } from "@triton/deno";
 * import { checkResponse } from "@triton/deno/testing";
 * import { parseModelConfigText } from "../model_config/mod.ts";
 *
 * const config = parseModelConfigText('output [{ name: "Y" data_type: TYPE_INT32 dims: [1] }]');
 * const checked = checkResponse(new InferenceResponse([new Tensor("Y", "FP32", [1], [1])]), config);
 * console.log(checked.ok); // false
 * ```
 */
export function checkResponse(
  response: unknown,
  config: ModelConfig,
  requestedOutputNames: readonly string[] = [],
): CheckedResponse {
  return runtimeCheck(response, config, requestedOutputNames);
}

/** A call a stand-in model receives (see {@linkcode useTestModels}). */
export interface TestModelCall {
  /** The called model's name. */
  readonly modelName: string;
  /** The inputs, as tensors (copies). */
  readonly inputs: readonly Tensor[];
  /** The outputs asked for (empty: all). */
  readonly requestedOutputNames: readonly string[];
  /** The request's parameters. */
  readonly parameters: InferenceParameters;
  /** The correlation id and flags the caller set. */
  readonly correlationId: bigint | string;
  /** `TRITONSERVER_RequestFlag` bits. */
  readonly flags: number;
}

/**
 * What a stand-in model answers: output tensors (one response), an
 * `InferenceResponse` (outputs, or its error), a `TritonError` (the call
 * fails), or an array of responses (a decoupled model's stream).
 */
export type TestModelAnswer =
  | Tensor[]
  | InferenceResponse
  | TritonError
  | InferenceResponse[];

/** A stand-in for a model the model under test calls. */
export type TestModel = (call: TestModelCall) => TestModelAnswer | Promise<TestModelAnswer>;

/**
 * Answers the model's `BlsRequest`s (and `models.isReady`) with the given
 * stand-ins until the returned function is called; a call to a model that
 * has no stand-in fails with `NOT_FOUND`, as Triton would answer.
 *
 * @example
 * ```ts
 * import { BlsRequest, Tensor } from "@triton/deno";
 * import { useTestModels } from "@triton/deno/testing";
 *
 * const restore = useTestModels({
 *   double: ({ inputs }) => [new Tensor("Y", "INT32", [1], [2 * Number(inputs[0].data[0])])],
 * });
 * const answer = await new BlsRequest({
 *   modelName: "double",
 *   inputs: [new Tensor("X", "INT32", [1], [21])],
 * }).exec();
 * restore();
 * console.log(answer.output("Y").data); // Int32Array [42]
 * ```
 */
export function useTestModels(models: Readonly<Record<string, TestModel>>): () => void {
  const transport: BlsTransport = {
    infer(request, onResponse) {
      let cancelled = false;
      const model = models[request.modelName];
      if (model === undefined) {
        onResponse({
          outputs: [],
          error: {
            code: ErrorCode.NOT_FOUND,
            message: `Request for unknown model: '${request.modelName}' is not found`,
          },
        }, true);
        return { cancel() {} };
      }
      void (async () => {
        let answer: TestModelAnswer;
        try {
          answer = await model(toCall(request));
        } catch (error) {
          answer = error instanceof TritonError
            ? error
            : new TritonError(error instanceof Error ? error.message : String(error));
        }
        const responses =
          Array.isArray(answer) && answer.every((a) => a instanceof InferenceResponse)
            ? answer as InferenceResponse[]
            : [answer as Exclude<TestModelAnswer, InferenceResponse[]>];
        for (const [i, item] of responses.entries()) {
          if (cancelled) break;
          onResponse(toWire(item), i === responses.length - 1);
        }
        if (cancelled || responses.length === 0) onResponse(undefined, true);
      })();
      return {
        cancel() {
          cancelled = true;
        },
      };
    },
    loadModel: (name) =>
      Promise.reject(
        new TritonError(`useTestModels does not load models ('${name}')`, ErrorCode.UNSUPPORTED),
      ),
    unloadModel: (name) =>
      Promise.reject(
        new TritonError(`useTestModels does not unload models ('${name}')`, ErrorCode.UNSUPPORTED),
      ),
    isModelReady: (name) => Promise.resolve(name in models),
  };
  setBlsTransport(transport);
  return () => setBlsTransport(undefined);
}

function toCall(request: BlsWireRequest): TestModelCall {
  return {
    modelName: request.modelName,
    inputs: request.inputs.map((input) => {
      const copy = input.bytes.slice();
      return tensorFromWire(
        input.name,
        input.datatypeCode,
        [...input.shape],
        copy.buffer,
        0,
        copy.byteLength,
      );
    }),
    requestedOutputNames: request.requestedOutputNames,
    parameters: parametersFromWire(request.parametersJson, "BLS request parameter"),
    correlationId: request.correlationId,
    flags: request.flags,
  };
}

function toWire(answer: Exclude<TestModelAnswer, InferenceResponse[]>): BlsWireResponse {
  if (answer instanceof TritonError) {
    return { outputs: [], error: { code: answer.code, message: answer.message } };
  }
  if (answer instanceof InferenceResponse) {
    const error = answer.error;
    return error === undefined
      ? { outputs: answer.outputs }
      : { outputs: answer.outputs, error: { code: error.code, message: error.message } };
  }
  return { outputs: answer };
}
