/**
 * add_sub_int32: OUTPUT0 = INPUT0 + INPUT1, OUTPUT1 = INPUT0 - INPUT1 (INT32,
 * wrapping modulo 2^32), written straight into shared memory.
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

/** Adds and subtracts two INT32 tensors of the same shape. */
export default class AddSubInt32 implements Model {
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
  const input0 = request.input("INPUT0", "INT32");
  const input1 = request.input("INPUT1", "INT32");
  if (input0.shape.join() !== input1.shape.join()) {
    throw new TritonError(
      `INPUT0 and INPUT1 must have the same shape, got [${input0.shape}] and [${input1.shape}]`,
      ErrorCode.INVALID_ARG,
    );
  }
  const sum = request.allocateOutput("OUTPUT0", "INT32", input0.shape);
  const difference = request.allocateOutput("OUTPUT1", "INT32", input0.shape);
  const a = input0.data;
  const b = input1.data;
  const sumData = sum.data;
  const differenceData = difference.data;
  for (let i = 0; i < a.length; i++) {
    // Int32Array stores wrap modulo 2^32, like Triton's C++ add_sub examples.
    sumData[i] = a[i] + b[i];
    differenceData[i] = a[i] - b[i];
  }
  return new InferenceResponse([sum, difference]);
}
