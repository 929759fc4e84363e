/**
 * auto_complete: add_sub on INT32, whose config.pbtxt names only the model
 * and its backend. The static `autoCompleteConfig` declares the inputs, the
 * outputs, a batch size of 8 and dynamic batching; Triton then serves the
 * completed configuration. It runs in the stub that goes on to serve the
 * first instance.
 */
import {
  type AutoCompleteConfig,
  type InferenceRequest,
  InferenceResponse,
  type Model,
} from "@triton/deno";

export default class AutoCompleteAddSub implements Model {
  static autoCompleteConfig(config: AutoCompleteConfig): void {
    config.setMaxBatchSize(8);
    config.setDynamicBatching();
    for (const name of ["INPUT0", "INPUT1"]) {
      config.addInput({ name, dataType: "INT32", dims: [-1] });
    }
    for (const name of ["OUTPUT0", "OUTPUT1"]) {
      config.addOutput({ name, dataType: "INT32", dims: [-1] });
    }
  }

  execute(requests: InferenceRequest[]): InferenceResponse[] {
    return requests.map((request) => {
      const a = request.input("INPUT0", "INT32");
      const b = request.input("INPUT1", "INT32");
      const sum = request.allocateOutput("OUTPUT0", "INT32", a.shape);
      const difference = request.allocateOutput("OUTPUT1", "INT32", a.shape);
      for (let i = 0; i < a.data.length; i++) {
        sum.data[i] = a.data[i] + b.data[i];
        difference.data[i] = a.data[i] - b.data[i];
      }
      return new InferenceResponse([sum, difference]);
    });
  }
}
