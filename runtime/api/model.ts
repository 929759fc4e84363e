/**
 * The shape of a model: the class `model.ts` default-exports, and what its
 * `initialize` receives.
 *
 * @module
 */

import type { ModelConfig } from "../model_config/config.ts";
import type { AutoCompleteConfig } from "./auto_complete.ts";
import type { InferenceRequest } from "./request.ts";
import type { InferenceResponse } from "./response.ts";

/**
 * What `initialize` receives: the model's configuration and where this
 * instance runs. The string fields match python_backend's `args` keys.
 *
 * @example Read a config.pbtxt parameter
 * ```ts
 * import type { InitializeArgs } from "@triton/deno";
 *
 * function threshold(args: InitializeArgs): number {
 *   return Number(args.modelConfig.parameters["threshold"]?.stringValue ?? "0.5");
 * }
 * console.log(typeof threshold); // "function"
 * ```
 */
export interface InitializeArgs {
  /** The model configuration, decoded (protobuf-es `ModelConfig`; camelCase fields, int64 as bigint). */
  readonly modelConfig: ModelConfig;
  /** The model configuration JSON exactly as Triton gave it (python_backend's `model_config`). */
  readonly modelConfigJson: string;
  /** `"CPU"`, `"GPU"` or `"MODEL"`. */
  readonly modelInstanceKind: string;
  /** The device id of this instance, as a decimal string. */
  readonly modelInstanceDeviceId: string;
  /** The instance's name, e.g. `"add_sub_0_1"`. */
  readonly modelInstanceName: string;
  /** The model's directory (the one holding config.pbtxt). */
  readonly modelRepository: string;
  /** The version being loaded, e.g. `"1"`. */
  readonly modelVersion: string;
  /** The model's name. */
  readonly modelName: string;
}

/**
 * What `execute` returns: one response per request, in order (`undefined`
 * for a request answered through its response sender or rescheduled), or
 * nothing.
 */
export type ExecuteResult = readonly (InferenceResponse | undefined)[] | void;

/**
 * A model: what the default export of `model.ts` must construct. The
 * runtime creates one object per model instance, calls `initialize` once,
 * `execute` per batch, and `finalize` at unload. Each may be async.
 *
 * @example A whole model: OUTPUT0 is a copy of INPUT0, whatever its datatype
 * ```ts
 * import { type InferenceRequest, InferenceResponse, type Model, Tensor } from "@triton/deno";
 *
 * export default class Identity implements Model {
 *   execute(requests: InferenceRequest[]): InferenceResponse[] {
 *     return requests.map((request) => {
 *       const input = request.input("INPUT0");
 *       const output = new Tensor("OUTPUT0", input.datatype, input.shape, input.data);
 *       return new InferenceResponse([output]);
 *     });
 *   }
 * }
 * ```
 */
export interface Model {
  /**
   * Called once before the first `execute`. Throwing (or rejecting) fails the
   * model load with the error's message.
   */
  initialize?(args: InitializeArgs): void | Promise<void>;

  /**
   * Called per batch with one or more requests; must return exactly one
   * response per request, in order. Throwing fails every request of the
   * batch (with the error's code if it is a `TritonError`). A decoupled
   * model instead sends its responses with `request.responseSender()` and
   * returns nothing. A model that is not decoupled may also answer a request
   * through its response sender, or reschedule it (`request.reschedule()`):
   * `undefined` then stands in its place (or `execute` returns nothing).
   */
  execute(
    requests: InferenceRequest[],
  ): ExecuteResult | Promise<ExecuteResult>;

  /** Called once at unload. The runtime waits a bounded time for it. */
  finalize?(): void | Promise<void>;

  /**
   * Whether this instance can serve (python_backend's `is_ready`). Asked
   * when Triton checks the model's readiness, at most once a second; `false`,
   * a throw, a rejection or no answer within 5 s makes the instance, and so
   * the model, not ready until a later answer says otherwise. Without it a
   * running instance is ready. It may be async; it runs beside `execute`
   * (for a decoupled model, possibly while batches are in flight).
   */
  isReady?(): boolean | Promise<boolean>;
}

/**
 * The class `model.ts` default-exports: constructed without arguments, with
 * an optional static `autoCompleteConfig` that Triton calls before loading
 * when it auto-completes configurations (it is not called when Triton runs
 * with `--disable-auto-complete-config`).
 *
 * @example
 * ```ts
 * import type { AutoCompleteConfig, InferenceRequest, InferenceResponse, ModelClass } from "@triton/deno";
 *
 * class Echo {
 *   static autoCompleteConfig(config: AutoCompleteConfig): void {
 *     config.addInput({ name: "X", dataType: "BYTES", dims: [-1] });
 *     config.addOutput({ name: "X", dataType: "BYTES", dims: [-1] });
 *   }
 *   execute(_requests: InferenceRequest[]): InferenceResponse[] {
 *     return [];
 *   }
 * }
 * const modelClass: ModelClass = Echo;
 * console.log(typeof modelClass.autoCompleteConfig); // "function"
 * ```
 */
export interface ModelClass {
  /** Creates the model object of one instance. */
  new (): Model;
  /** Completes the configuration before the model loads; may be async. */
  autoCompleteConfig?(config: AutoCompleteConfig): void | Promise<void>;
}
