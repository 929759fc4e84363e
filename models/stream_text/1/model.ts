/**
 * stream_text: a decoupled model that streams its input back word by word,
 * like a token-by-token text generator. Each word is one response; the
 * last carries FINAL. Request parameters: `delay_ms` (INT) between words.
 * Every response carries the parameter `index` (INT). A cancelled request
 * stops early. Responses go out after `execute` has returned, from timers.
 */
import { type InferenceRequest, InferenceResponse, logger, type Model, Tensor } from "@triton/deno";

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export default class StreamText implements Model {
  execute(requests: InferenceRequest[]): void {
    for (const request of requests) {
      // Not awaited: execute returns at once and the words follow.
      void this.#stream(request);
    }
  }

  async #stream(request: InferenceRequest): Promise<void> {
    const sender = request.responseSender();
    const [text] = request.input("TEXT", "BYTES").strings();
    const words = text.split(/\s+/).filter((word) => word !== "");
    const delay = Number(request.parameters["delay_ms"] ?? 0);
    logger.info(`streaming ${words.length} words for request '${request.id}'`);
    for (let i = 0; i < words.length; i++) {
      if (sender.isCancelled()) {
        logger.warn(`request '${request.id}' was cancelled after ${i} words`);
        break;
      }
      if (delay > 0) await sleep(delay);
      const token = new Tensor("TOKEN", "BYTES", [1], [words[i]]);
      sender.send(new InferenceResponse([token], { parameters: { index: i } }));
    }
    sender.close();
  }
}
