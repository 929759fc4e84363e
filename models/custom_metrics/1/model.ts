/**
 * custom_metrics: OUTPUT0 = INPUT0 (FP32), counting requests by outcome,
 * keeping the size of the last input in a gauge and observing every input
 * value in a histogram. The metric operations are queued as they happen and
 * reach Triton with the batch's answer.
 *
 * @module
 */

import {
  ErrorCode,
  type InferenceRequest,
  InferenceResponse,
  MetricFamily,
  type Model,
  TritonError,
} from "@triton/deno";

// One set of families per instance (each instance runs this module in its
// own stub); Triton shares them by name.
const requests = new MetricFamily({
  name: "custom_metrics_requests_total",
  description: "Requests executed, by outcome",
  kind: "counter",
});
const served = requests.metric({ labels: { outcome: "ok" } });
const refused = requests.metric({ labels: { outcome: "refused" } });

const lastInputSize = new MetricFamily({
  name: "custom_metrics_last_input_size",
  description: "Elements of INPUT0 in the last request",
  kind: "gauge",
}).metric();

const inputValues = new MetricFamily({
  name: "custom_metrics_input_value",
  description: "Values of INPUT0",
  kind: "histogram",
}).metric({ buckets: [0, 1, 10, 100] });

/** Copies INPUT0 to OUTPUT0 and reports metrics about it. */
export default class CustomMetrics implements Model {
  /** One response per request; a refused request fails alone. */
  execute(batch: InferenceRequest[]): InferenceResponse[] {
    return batch.map((request) => {
      try {
        const response = copy(request);
        served.increment(1);
        return response;
      } catch (error) {
        if (!(error instanceof TritonError)) throw error;
        refused.increment(1);
        return new InferenceResponse([], error);
      }
    });
  }
}

function copy(request: InferenceRequest): InferenceResponse {
  const input = request.input("INPUT0", "FP32");
  const values = input.data;
  lastInputSize.set(values.length);
  const bad = values.findIndex((value) => !Number.isFinite(value));
  if (bad >= 0) {
    throw new TritonError(
      `INPUT0[${bad}] is ${values[bad]}; only finite values are accepted`,
      ErrorCode.INVALID_ARG,
    );
  }
  const output = request.allocateOutput("OUTPUT0", "FP32", input.shape);
  output.data.set(values);
  for (const value of values) inputValues.observe(value);
  return new InferenceResponse([output]);
}
