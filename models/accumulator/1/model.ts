/**
 * accumulator: a stateful model for Triton's sequence batcher. Every request
 * of a sequence (one correlation id, numeric or string) adds INPUT0 to that
 * sequence's running sum and gets the new sum as OUTPUT0.
 *
 * - The control input START (1 on a sequence's first request) resets the sum.
 * - The request flag END (`request.flags & 2`) drops the sequence's state
 *   after answering.
 * - READY 0 marks a slot the batcher padded: it is answered with the sum
 *   unchanged (0 for an unknown sequence) and changes nothing.
 * - A request without START for a sequence the instance does not know (never
 *   started, already ended, or started on a stub that has since restarted)
 *   fails alone, naming the correlation id.
 *
 * Each request holds one value: shape [1, 1] as the sequence batcher sends
 * it (batch dimension, then dims: [1]), or [1] if max_batch_size is 0.
 * OUTPUT0 takes the shape of INPUT0.
 *
 * State lives in the instance's process: Triton keeps every request of a
 * sequence on one instance, and a restarted stub starts with no sequences.
 */
import {
  ErrorCode,
  type InferenceRequest,
  InferenceResponse,
  type Model,
  TritonError,
} from "@triton/deno";

/** `TRITONSERVER_RequestFlag` bit of a sequence's last request. */
const SEQUENCE_END = 2;

/** How a correlation id reads in messages: 42 or "session-a". */
function describeId(id: bigint | string): string {
  return typeof id === "string" ? `"${id}"` : id.toString();
}

export default class Accumulator implements Model {
  /** Running sums by correlation id; numeric 7 and string "7" are different sequences. */
  readonly #sums = new Map<bigint | string, number>();

  execute(requests: InferenceRequest[]): InferenceResponse[] {
    return requests.map((request) => {
      try {
        return this.#accumulate(request);
      } catch (error) {
        if (error instanceof TritonError) return new InferenceResponse([], error);
        throw error;
      }
    });
  }

  /** Running sequences, for tests and logs. */
  get sequenceCount(): number {
    return this.#sums.size;
  }

  #accumulate(request: InferenceRequest): InferenceResponse {
    const id = request.correlationId;
    const input = request.input("INPUT0", "INT32");
    const value = scalar(request, "INPUT0");
    const start = scalar(request, "START") !== 0;
    const ready = scalar(request, "READY") !== 0;
    let sum: number;
    if (!ready) {
      sum = this.#sums.get(id) ?? 0;
    } else {
      if (id === 0n || id === "") {
        throw new TritonError(
          "accumulator needs a correlation id: send it through Triton's sequence batcher",
          ErrorCode.INVALID_ARG,
        );
      }
      const previous = start ? 0 : this.#sums.get(id);
      if (previous === undefined) {
        throw new TritonError(
          `sequence ${describeId(id)} is not running on this instance: its first request must ` +
            "carry START (it never started, already ended, or the instance restarted since)",
          ErrorCode.INVALID_ARG,
        );
      }
      // INT32 arithmetic: the sum wraps around like the output's type.
      sum = (previous + value) | 0;
      if ((request.flags & SEQUENCE_END) !== 0) {
        this.#sums.delete(id);
      } else {
        this.#sums.set(id, sum);
      }
    }
    const output = request.allocateOutput("OUTPUT0", "INT32", input.shape);
    output.data[0] = sum;
    return new InferenceResponse([output]);
  }
}

/** The single INT32 element of an input. */
function scalar(request: InferenceRequest, name: string): number {
  const tensor = request.input(name, "INT32");
  if (tensor.data.length !== 1) {
    throw new TritonError(
      `input '${name}' must hold one INT32, holds ${tensor.data.length}`,
      ErrorCode.INVALID_ARG,
    );
  }
  return tensor.data[0];
}
