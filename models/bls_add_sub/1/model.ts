/**
 * bls_add_sub: answers each request by running it through another model
 * (add_sub, or the model named by the request parameter `target`) from
 * inside `execute`, and returning that model's outputs. The requests of a
 * batch are sent at once and awaited together. The called model's error
 * (a bad shape, an unknown model) becomes this request's error.
 *
 * @module
 */

import {
  BlsRequest,
  ErrorCode,
  type InferenceRequest,
  InferenceResponse,
  type Model,
  TritonError,
} from "@triton/deno";

/** Calls add_sub (or `target`) once per request. */
export default class BlsAddSub implements Model {
  /** One call per request, all in flight together. */
  execute(requests: InferenceRequest[]): Promise<InferenceResponse[]> {
    return Promise.all(requests.map((request) => this.#forward(request)));
  }

  async #forward(request: InferenceRequest): Promise<InferenceResponse> {
    const target = request.parameters["target"] ?? "add_sub";
    try {
      const result = await new BlsRequest({
        modelName: String(target),
        inputs: [request.input("INPUT0"), request.input("INPUT1")],
        requestedOutputNames: ["OUTPUT0", "OUTPUT1"],
        requestId: request.id,
      }).exec();
      if (result.error !== undefined) return new InferenceResponse([], result.error);
      return new InferenceResponse([result.output("OUTPUT0"), result.output("OUTPUT1")]);
    } catch (error) {
      if (error instanceof TritonError) return new InferenceResponse([], error);
      throw new TritonError(`calling '${target}' failed: ${String(error)}`, ErrorCode.INTERNAL);
    }
  }
}
