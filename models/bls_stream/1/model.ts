/**
 * bls_stream: reads the word-by-word stream of the decoupled stream_text
 * model from inside `execute` and answers with the words it kept. With the
 * request parameter `max_words` it stops after that many: leaving the loop
 * cancels the stream_text request, which then ends early. `delay_ms` is
 * passed on to stream_text (the pause between words). A call that fails
 * (stream_text's error, or one refused) fails only its request.
 *
 * @module
 */

import {
  BlsRequest,
  type InferenceRequest,
  InferenceResponse,
  type Model,
  Tensor,
  TritonError,
} from "@triton/deno";

/** Collects the first `max_words` words that stream_text streams. */
export default class BlsStream implements Model {
  /** One stream per request, all in flight together. */
  execute(requests: InferenceRequest[]): Promise<InferenceResponse[]> {
    return Promise.all(requests.map((request) => this.#collect(request)));
  }

  async #collect(request: InferenceRequest): Promise<InferenceResponse> {
    const limit = Number(request.parameters["max_words"] ?? Infinity);
    const delay = request.parameters["delay_ms"];
    const stream = new BlsRequest({
      modelName: "stream_text",
      inputs: [request.input("TEXT")],
      requestId: request.id,
      parameters: delay === undefined ? {} : { delay_ms: delay },
    }).stream();
    const words: string[] = [];
    try {
      for await (const response of stream) {
        words.push(...response.output("TOKEN").strings());
        if (words.length >= limit) break; // cancels what stream_text has not sent yet
      }
    } catch (error) {
      // A failed call fails this request only.
      if (error instanceof TritonError) return new InferenceResponse([], error);
      throw error;
    }
    return new InferenceResponse([new Tensor("WORDS", "BYTES", [words.length], words)]);
  }
}
