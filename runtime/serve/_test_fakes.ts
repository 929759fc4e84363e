/**
 * Test doubles for the server: requests, and an executor whose batches the
 * test completes by hand (or at once) while it records what it was given.
 *
 * @example
 * ```ts
 * import { FakeExecutor, fakeRequest } from "./_test_fakes.ts";
 *
 * const executor = new FakeExecutor(1, { autoComplete: true });
 * console.log(fakeRequest("a").batchSize, executor.instanceCount); // 1 1
 * ```
 *
 * @module
 */

import type { LoadedExecutor } from "./model_manager.ts";
import type { BatchExecutor } from "./scheduler.ts";
import type {
  InferRequest,
  InferResult,
  InputTensor,
  OutputTensor,
  RequestOutcome,
} from "./types.ts";

/** A request with one FP32 input `X` of the given shape (batch dimension first). */
export function fakeRequest(
  id: string,
  shape: number[] = [1, 2],
  fields: Partial<InferRequest> = {},
): InferRequest {
  const count = shape.reduce((a, b) => a * b, 1);
  const input: InputTensor = {
    name: "X",
    datatype: "FP32",
    shape,
    data: new Uint8Array(count * 4),
  };
  return {
    id,
    inputs: [input],
    requestedOutputs: [],
    parameters: new Map(),
    correlationId: 0n,
    flags: 0,
    timeoutUs: 0n,
    priority: 0,
    batchSize: shape[0],
    ...fields,
  };
}

/** A batch the fake executor received. */
export interface FakeBatch {
  /** The instance it ran on. */
  readonly instance: number;
  /** The request ids, in order. */
  readonly ids: string[];
  /** Completes the batch (every request succeeds with no outputs). */
  complete(): void;
  /** Fails the batch as if the executor threw. */
  fail(error: Error): void;
}

/** An executor that records batches; with `autoComplete` each one succeeds at once. */
export class FakeExecutor implements BatchExecutor {
  /** Every batch received, in order. */
  readonly batches: FakeBatch[] = [];
  readonly #autoComplete: boolean;
  readonly #instances: number;
  #busy = new Set<number>();
  #waiters: (() => void)[] = [];
  /** Set if the scheduler ever ran two batches on one instance at once. */
  overlapped = false;

  /**
   * @param instances How many instances.
   * @param options `autoComplete`: finish each batch immediately.
   */
  constructor(instances: number, options: { autoComplete?: boolean } = {}) {
    this.#instances = instances;
    this.#autoComplete = options.autoComplete ?? false;
  }

  /** The instance count. */
  get instanceCount(): number {
    return this.#instances;
  }

  /** Resolves once `count` batches have arrived. */
  async waitForBatches(count: number): Promise<void> {
    while (this.batches.length < count) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /** Records the batch; resolves when the test completes it. */
  execute(instance: number, requests: readonly InferRequest[]): Promise<RequestOutcome[]> {
    if (this.#busy.has(instance)) this.overlapped = true;
    this.#busy.add(instance);
    const { promise, resolve, reject } = Promise.withResolvers<RequestOutcome[]>();
    const batch: FakeBatch = {
      instance,
      ids: requests.map((request) => request.id),
      complete: () => {
        this.#busy.delete(instance);
        resolve(requests.map(() => ({
          result: { ok: true, outputs: [], parameters: {} },
          timings: { computeInputNs: 10, computeInferNs: 100, computeOutputNs: 20 },
          release() {},
        })));
      },
      fail: (error) => {
        this.#busy.delete(instance);
        reject(error);
      },
    };
    this.batches.push(batch);
    for (const waiter of this.#waiters.splice(0)) waiter();
    if (this.#autoComplete) batch.complete();
    return promise;
  }
}

/**
 * A loaded model that computes add_sub (OUTPUT0 = INPUT0 + INPUT1, OUTPUT1 =
 * INPUT0 - INPUT1, FP32) in process, for handler tests without the host.
 */
export class AddSubExecutor implements LoadedExecutor {
  readonly #configJson: string;
  /** Set once `unload` ran. */
  unloaded = false;
  /** Batch sizes (request counts) seen. */
  readonly batchSizes: number[] = [];

  /** @param configJson The configuration the manager loaded it with. */
  constructor(configJson: string) {
    this.#configJson = configJson;
  }

  /** One instance. */
  get instanceCount(): number {
    return 1;
  }

  /** The configuration as loaded. */
  configJson(): string {
    return this.#configJson;
  }

  /** Marks it unloaded. */
  unload(): Promise<void> {
    this.unloaded = true;
    return Promise.resolve();
  }

  /** Computes each request; a request with parameter `fail` gets an INTERNAL error. */
  execute(_instance: number, requests: readonly InferRequest[]): Promise<RequestOutcome[]> {
    this.batchSizes.push(requests.length);
    return Promise.resolve(requests.map((request): RequestOutcome => {
      if (request.parameters.get("fail") === true) {
        return {
          result: { ok: false, code: 1, message: "model asked to fail" },
          timings: undefined,
          release() {},
        };
      }
      const a = floats(request.inputs.find((input) => input.name === "INPUT0")!.data);
      const b = floats(request.inputs.find((input) => input.name === "INPUT1")!.data);
      const shape = request.inputs[0].shape;
      const output = (name: string, values: Float32Array): OutputTensor => ({
        name,
        datatype: "FP32",
        shape,
        byteSize: values.byteLength,
        read: (destination) => destination.set(new Uint8Array(values.buffer)),
      });
      const outputs = [
        output("OUTPUT0", a.map((x, i) => x + b[i])),
        output("OUTPUT1", a.map((x, i) => x - b[i])),
      ].filter((o) =>
        request.requestedOutputs.length === 0 || request.requestedOutputs.includes(o.name)
      );
      return {
        result: { ok: true, outputs, parameters: { echoed: request.id } },
        timings: undefined,
        release() {},
      };
    }));
  }
}

function floats(bytes: Uint8Array): Float32Array {
  return new Float32Array(bytes.slice().buffer);
}

/** What a {@linkcode FunctionExecutor} computes: one result, or a decoupled model's list. */
export type Compute = (request: InferRequest, instance: number) => InferResult | InferResult[];

/**
 * A loaded model whose answers a function computes, for tests of sequence,
 * ensemble and decoupled handling without the host. A request with a
 * response sink gets each result of the list pushed in turn (one per macrotask,
 * so a consumer sees them arrive), then the sink ends.
 */
export class FunctionExecutor implements LoadedExecutor {
  readonly #configJson: string;
  readonly #compute: Compute;
  readonly #instances: number;
  /** Every request executed, with its instance, in order. */
  readonly executed: { instance: number; request: InferRequest }[] = [];
  /** Set once `unload` ran. */
  unloaded = false;

  /**
   * @param configJson The configuration the manager loaded it with.
   * @param compute Answers each request.
   * @param instances How many instances.
   */
  constructor(configJson: string, compute: Compute, instances = 1) {
    this.#configJson = configJson;
    this.#compute = compute;
    this.#instances = instances;
  }

  /** The instance count. */
  get instanceCount(): number {
    return this.#instances;
  }

  /** The configuration as loaded. */
  configJson(): string {
    return this.#configJson;
  }

  /** Marks it unloaded. */
  unload(): Promise<void> {
    this.unloaded = true;
    return Promise.resolve();
  }

  /** Computes each request; streams lists into response sinks. */
  execute(instance: number, requests: readonly InferRequest[]): Promise<RequestOutcome[]> {
    return Promise.resolve(requests.map((request): RequestOutcome => {
      this.executed.push({ instance, request });
      const computed = this.#compute(request, instance);
      const sink = request.responses;
      if (sink === undefined) {
        const result = Array.isArray(computed)
          ? computed.length === 1
            ? computed[0]
            : { ok: false as const, code: 13, message: `${computed.length} responses` }
          : computed;
        return { result, timings: undefined, release() {} };
      }
      const results = Array.isArray(computed) ? [...computed] : [computed];
      const send = () => {
        const next = results.shift();
        if (next === undefined || sink.cancelled) {
          sink.end();
          return;
        }
        sink.push(next);
        setTimeout(send, 0);
      };
      setTimeout(send, 0);
      return {
        result: { ok: true, outputs: [], parameters: {} },
        timings: undefined,
        release() {},
      };
    }));
  }
}

/** An output holding `data`. */
export function heldOutput(
  name: string,
  datatype: OutputTensor["datatype"],
  shape: number[],
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

/** BYTES tensor data: each string as u32 length + UTF-8. */
export function bytesData(strings: string[]): Uint8Array {
  const encoded = strings.map((text) => new TextEncoder().encode(text));
  const out = new Uint8Array(encoded.reduce((sum, e) => sum + 4 + e.byteLength, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const element of encoded) {
    view.setUint32(at, element.byteLength, true);
    out.set(element, at + 4);
    at += 4 + element.byteLength;
  }
  return out;
}

/** The strings of BYTES tensor data. */
export function readStrings(data: Uint8Array): string[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: string[] = [];
  for (let at = 0; at < data.byteLength;) {
    const length = view.getUint32(at, true);
    out.push(new TextDecoder().decode(data.subarray(at + 4, at + 4 + length)));
    at += 4 + length;
  }
  return out;
}

/** The values of INT32 tensor data. */
export function readInt32(data: Uint8Array): number[] {
  return [...new Int32Array(data.slice().buffer)];
}

/** The named input of a request (throws if absent). */
export function inputOf(request: InferRequest, name: string): InputTensor {
  const input = request.inputs.find((candidate) => candidate.name === name);
  if (input === undefined) throw new Error(`request '${request.id}' has no input '${name}'`);
  return input;
}
