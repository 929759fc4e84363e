/**
 * Runs an ensemble request: the steps of `ensemble_scheduling` chained over
 * the server's own schedulers, each step starting as soon as the tensors it
 * reads exist (independent steps run concurrently). Each step's request
 * carries the ensemble request's id, correlation id, flags, priority,
 * timeout and parameters, as Triton's ensemble scheduler passes them on.
 * Only the steps needed for the requested outputs run. A request whose
 * `signal` is aborted starts no further steps.
 *
 * Errors come back as Triton words them, `in ensemble '<name>', <error>`,
 * followed by the step and model that failed.
 *
 * @module
 */

import type { DataTypeName } from "../api/datatype.ts";
import { ErrorCode } from "../api/error.ts";
import { failedOutcome } from "./batch_run.ts";
import {
  type EnsemblePlan,
  type EnsembleStep,
  fitsDims,
  neededSteps,
  reshapeForBatching,
} from "./ensemble_plan.ts";
import type { ModelSignature } from "./model_signature.ts";
import type { ModelStatistics } from "./stats.ts";
import type {
  InferRequest,
  InputTensor,
  OutputTensor,
  RequestOutcome,
  RequestScheduler,
} from "./types.ts";

/** A composing model, as found when a step runs. */
export interface StepTarget {
  /** Its interface. */
  readonly signature: ModelSignature;
  /** The version that serves it. */
  readonly version: number;
  /** Where its requests go. */
  readonly scheduler: RequestScheduler;
}

/**
 * Finds the model a step names (`version` undefined: the latest ready one).
 *
 * @throws {Error} (a `ServeError`) When it is unknown or not ready.
 */
export type StepResolver = (model: string, version: number | undefined) => StepTarget;

/** The error of a request cancelled before all its steps ran. */
const CANCELLED_MESSAGE = "the request was cancelled before all its steps ran";

/** An ensemble tensor: bytes plus the producing side's batch size (0: not batched). */
interface Tensor {
  readonly datatype: DataTypeName;
  readonly shape: readonly number[];
  readonly data: Uint8Array;
  readonly batchSize: number;
}

/** A failure of one step, carrying the Triton error code. */
class StepError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

/**
 * The scheduler of an ensemble model version.
 *
 * @example
 * ```ts ignore
 * const ensemble = new EnsembleScheduler(plan, signature, resolve, stats);
 * const outcome = await ensemble.submit(request);
 * ```
 */
export class EnsembleScheduler implements RequestScheduler {
  readonly #plan: EnsemblePlan;
  readonly #signature: ModelSignature;
  readonly #resolve: StepResolver;
  readonly #stats: ModelStatistics;
  readonly #clock: () => number;
  #inFlight = 0;
  #closedReason: string | undefined;
  #drainWaiters: (() => void)[] = [];

  /**
   * @param plan The checked steps.
   * @param signature The ensemble's own interface (its inputs and outputs).
   * @param resolve Finds each step's model when it runs.
   * @param stats Where the ensemble's requests are recorded.
   * @param clock Monotonic nanoseconds.
   */
  constructor(
    plan: EnsemblePlan,
    signature: ModelSignature,
    resolve: StepResolver,
    stats: ModelStatistics,
    clock: () => number = () => performance.now() * 1e6,
  ) {
    this.#plan = plan;
    this.#signature = signature;
    this.#resolve = resolve;
    this.#stats = stats;
    this.#clock = clock;
  }

  /** Runs the ensemble for one request. */
  async submit(request: InferRequest): Promise<RequestOutcome> {
    if (this.#closedReason !== undefined) {
      return failedOutcome(ErrorCode.UNAVAILABLE, this.#closedReason);
    }
    this.#inFlight += 1;
    const startNs = this.#clock();
    let outcome: RequestOutcome;
    try {
      outcome = await this.#run(request);
    } catch (error) {
      const code = error instanceof StepError ? error.code : ErrorCode.INTERNAL;
      const message = error instanceof Error ? error.message : String(error);
      outcome = failedOutcome(code, `in ensemble '${this.#plan.name}', ${message}`);
    } finally {
      this.#inFlight -= 1;
    }
    this.#stats.recordBatch([{
      success: outcome.result.ok,
      batchSize: request.batchSize,
      totalNs: this.#clock() - startNs,
      queueNs: 0,
      timings: undefined,
    }]);
    if (this.#inFlight === 0) { for (const waiter of this.#drainWaiters.splice(0)) waiter(); }
    // An ensemble declared decoupled still answers once: through the sink, if given.
    if (request.responses !== undefined) {
      request.responses.push(outcome.result);
      request.responses.end();
    }
    return outcome;
  }

  /** Refuses new requests and waits for the running ones. */
  close(reason: string): Promise<void> {
    this.#closedReason ??= reason;
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  async #run(request: InferRequest): Promise<RequestOutcome> {
    const batching = this.#signature.maxBatchSize > 0;
    const tensors = new Map<string, Tensor>();
    for (const input of request.inputs) {
      tensors.set(input.name, { ...input, batchSize: batching ? request.batchSize : 0 });
    }
    const wanted = request.requestedOutputs.length > 0
      ? request.requestedOutputs
      : this.#signature.outputs.map((output) => output.name);
    const pending = neededSteps(this.#plan, wanted);
    while (pending.size > 0) {
      if (request.signal?.aborted) throw new StepError(ErrorCode.CANCELLED, CANCELLED_MESSAGE);
      const ready = [...pending].filter((step) =>
        [...step.inputMap.values()].every((tensor) => tensors.has(tensor))
      );
      if (ready.length === 0) break;
      for (const step of ready) pending.delete(step);
      const produced = await Promise.all(
        ready.map((step) => this.#runStep(step, request, tensors)),
      );
      for (const outputs of produced) {
        for (const [name, tensor] of outputs) tensors.set(name, tensor);
      }
    }
    const outputs: OutputTensor[] = [];
    for (const name of wanted) {
      const tensor = tensors.get(name);
      if (tensor === undefined) {
        throw new StepError(
          ErrorCode.INVALID_ARG,
          "unexpected deadlock, at least one output is not set while no more ensemble steps " +
            "can be made",
        );
      }
      const declared = this.#signature.outputsByName.get(name);
      const shape = declared === undefined
        ? tensor.shape
        : reshapeForBatching(declared.dims, batching, tensor.batchSize, tensor.shape);
      outputs.push(heldOutput(name, tensor.datatype, shape, tensor.data));
    }
    return { result: { ok: true, outputs, parameters: {} }, timings: undefined, release() {} };
  }

  /** Runs one step; resolves with the ensemble tensors it wrote. */
  async #runStep(
    step: EnsembleStep,
    request: InferRequest,
    tensors: ReadonlyMap<string, Tensor>,
  ): Promise<Map<string, Tensor>> {
    const where = ` (step ${step.number}, model '${step.modelName}')`;
    let target: StepTarget;
    try {
      target = this.#resolve(step.modelName, step.modelVersion);
    } catch (error) {
      const code = (error as { code?: number }).code ?? ErrorCode.INTERNAL;
      throw new StepError(code, `${(error as Error).message}${where}`);
    }
    const signature = target.signature;
    if (signature.decoupled) {
      throw new StepError(
        ErrorCode.UNSUPPORTED,
        `model '${step.modelName}' is decoupled, which this server does not run inside an ` +
          `ensemble${where}`,
      );
    }
    const stepBatching = signature.maxBatchSize > 0;
    const inputs: InputTensor[] = [];
    let batchSize = 1;
    for (const [modelInput, tensorName] of step.inputMap) {
      const tensor = tensors.get(tensorName)!;
      const declared = signature.inputsByName.get(modelInput);
      if (declared === undefined) {
        throw new StepError(
          ErrorCode.INVALID_ARG,
          `unexpected inference input '${modelInput}' for model '${step.modelName}'${where}`,
        );
      }
      if (declared.datatype !== tensor.datatype) {
        throw new StepError(
          ErrorCode.INVALID_ARG,
          `inference input '${modelInput}' data-type is '${tensor.datatype}', but model ` +
            `'${step.modelName}' expects '${declared.datatype}'${where}`,
        );
      }
      const shape = reshapeForBatching(declared.dims, stepBatching, tensor.batchSize, tensor.shape);
      const dims = stepBatching ? shape.slice(1) : shape;
      if ((stepBatching && shape.length === 0) || !fitsDims(declared.dims, dims)) {
        const expected = stepBatching ? [-1, ...declared.dims] : declared.dims;
        throw new StepError(
          ErrorCode.INVALID_ARG,
          `unexpected shape for input '${modelInput}' for model '${step.modelName}'. ` +
            `Expected [${expected.join(",")}], got [${shape.join(",")}]${where}`,
        );
      }
      if (stepBatching) batchSize = shape[0];
      inputs.push({ name: modelInput, datatype: tensor.datatype, shape, data: tensor.data });
    }
    const missing = signature.inputs.filter((input) =>
      !input.optional && !step.inputMap.has(input.name)
    );
    if (missing.length > 0) {
      throw new StepError(
        ErrorCode.INVALID_ARG,
        `model '${step.modelName}' is missing required input(s) ` +
          `[${missing.map((input) => `'${input.name}'`).join(",")}]${where}`,
      );
    }
    if (stepBatching && (batchSize < 1 || batchSize > signature.maxBatchSize)) {
      throw new StepError(
        ErrorCode.INVALID_ARG,
        `inference request batch-size must be <= ${signature.maxBatchSize} for ` +
          `'${step.modelName}'${where}`,
      );
    }
    const outcome = await target.scheduler.submit({
      id: request.id,
      inputs,
      requestedOutputs: [...step.outputMap.keys()].sort(),
      parameters: request.parameters,
      correlationId: request.correlationId,
      flags: request.flags,
      timeoutUs: request.timeoutUs,
      priority: request.priority,
      batchSize,
    });
    try {
      const result = outcome.result;
      if (!result.ok) throw new StepError(result.code, `${result.message}${where}`);
      const written = new Map<string, Tensor>();
      for (const [modelOutput, tensorName] of step.outputMap) {
        const output = result.outputs.find((candidate) => candidate.name === modelOutput);
        if (output === undefined) {
          throw new StepError(
            ErrorCode.INTERNAL,
            `model '${step.modelName}' did not return output '${modelOutput}'${where}`,
          );
        }
        const data = new Uint8Array(output.byteSize);
        output.read(data);
        written.set(tensorName, {
          datatype: output.datatype,
          shape: output.shape,
          data,
          batchSize: stepBatching ? batchSize : 0,
        });
      }
      return written;
    } finally {
      outcome.release();
    }
  }
}

/** An output whose bytes the ensemble already holds. */
function heldOutput(
  name: string,
  datatype: DataTypeName,
  shape: readonly number[],
  data: Uint8Array,
): OutputTensor {
  return {
    name,
    datatype,
    shape,
    byteSize: data.byteLength,
    read: (destination) => destination.set(data),
  };
}
