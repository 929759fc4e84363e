/**
 * async_overlap: shows batches in flight. `execute` is async and spends its
 * time awaiting (a timer here, an upstream service or a BLS call in a real
 * model), so with `deno.max_batches_in_flight` 2 an instance takes
 * its next batch while the first still waits. Each response reports
 * RUNNING: the most executes of the instance that were running at once
 * during its own (1 means it ran alone).
 *
 * Request parameter `delay_ms` (INT, default 200; the longest in the batch
 * counts). The model also works when not decoupled: then it returns its
 * responses, and its batches overlap just the same (each is answered when
 * its execute settles).
 */
import {
  ErrorCode,
  type InferenceRequest,
  InferenceResponse,
  type InitializeArgs,
  type Model,
  Tensor,
  TritonError,
} from "@triton/deno";

const DEFAULT_DELAY_MS = 200;
const MAX_DELAY_MS = 60_000;

/** One execute in progress: the most executes seen running at once while it ran. */
interface Run {
  peak: number;
}

export default class AsyncOverlap implements Model {
  #decoupled = false;
  readonly #running = new Set<Run>();

  initialize(args: InitializeArgs): void {
    this.#decoupled = args.modelConfig.modelTransactionPolicy?.decoupled === true;
  }

  async execute(requests: InferenceRequest[]): Promise<InferenceResponse[] | void> {
    // Inputs are read before the first await; they stay valid until execute settles anyway.
    const tags = requests.map((request) => request.input("TAG", "INT32").data[0]);
    const delay = Math.max(...requests.map(delayOf));
    const run: Run = { peak: 0 };
    this.#running.add(run);
    for (const other of this.#running) other.peak = Math.max(other.peak, this.#running.size);
    try {
      await new Promise((resolve) => setTimeout(resolve, delay));
    } finally {
      this.#running.delete(run);
    }
    const responses = tags.map((tag) =>
      new InferenceResponse([
        new Tensor("TAG", "INT32", [1], [tag]),
        new Tensor("RUNNING", "INT32", [1], [run.peak]),
      ])
    );
    if (!this.#decoupled) return responses;
    requests.forEach((request, i) => {
      request.responseSender().send(responses[i], { final: true });
    });
  }
}

/** The request's `delay_ms` parameter, checked. */
function delayOf(request: InferenceRequest): number {
  const value = request.parameters["delay_ms"];
  if (value === undefined) return DEFAULT_DELAY_MS;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > MAX_DELAY_MS) {
    throw new TritonError(
      `request '${request.id}': parameter delay_ms must be an integer from 0 to ${MAX_DELAY_MS}, ` +
        `got ${String(value)}`,
      ErrorCode.INVALID_ARG,
    );
  }
  return value;
}
