/**
 * add_sub: OUTPUT0 = INPUT0 + INPUT1, OUTPUT1 = INPUT0 - INPUT1 (FP32).
 *
 * The outputs are allocated in shared memory (`allocateOutput`) and the inputs
 * are views of shared memory, so the loop below is the only pass over the
 * data between Triton's input buffers and its output buffers.
 *
 * @module
 */

import {
  ErrorCode,
  type InferenceRequest,
  InferenceResponse,
  type Model,
  TritonError,
} from "@triton/deno";

/** Adds and subtracts two FP32 tensors of the same shape. */
export default class AddSub implements Model {
  /** One response per request; a bad request fails alone, not the batch. */
  execute(requests: InferenceRequest[]): InferenceResponse[] {
    return requests.map((request) => {
      try {
        return addSub(request);
      } catch (error) {
        if (error instanceof TritonError) return new InferenceResponse([], error);
        throw error;
      }
    });
  }
}

function addSub(request: InferenceRequest): InferenceResponse {
  const input0 = request.input("INPUT0", "FP32");
  const input1 = request.input("INPUT1", "FP32");
  if (input0.shape.join() !== input1.shape.join()) {
    throw new TritonError(
      `INPUT0 and INPUT1 must have the same shape, got [${input0.shape}] and [${input1.shape}]`,
      ErrorCode.INVALID_ARG,
    );
  }
  const sum = request.allocateOutput("OUTPUT0", "FP32", input0.shape);
  const difference = request.allocateOutput("OUTPUT1", "FP32", input0.shape);
  const a = input0.data;
  const b = input1.data;
  const sumData = sum.data;
  const differenceData = difference.data;
  for (let i = 0; i < a.length; i++) {
    sumData[i] = a[i] + b[i];
    differenceData[i] = a[i] - b[i];
  }
  return new InferenceResponse([sum, difference]);
}
