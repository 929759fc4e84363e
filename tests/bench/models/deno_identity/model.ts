// The benchmark's TypeScript model: each output is its input, passed
// through without a copy (the outputs reference the inputs in shared memory).
import { type InferenceRequest, InferenceResponse, type Model, Tensor } from "@triton/deno";

export default class Identity implements Model {
  execute(requests: InferenceRequest[]): InferenceResponse[] {
    return requests.map((request) => {
      const a = request.input("INPUT0", "FP32");
      const b = request.input("INPUT1", "FP32");
      return new InferenceResponse([
        new Tensor("OUTPUT0", "FP32", a.shape, a.data),
        new Tensor("OUTPUT1", "FP32", b.shape, b.data),
      ]);
    });
  }
}
