/**
 * image_preprocess: UINT8 HWC image -> FP32 CHW tensor normalized per channel,
 * `(value / 255 - mean[c]) / std[c]`, with mean and std read from the
 * config.pbtxt parameters and checked in `initialize`.
 *
 * An 8-bit input has only 256 values per channel, so `initialize` computes a
 * 3 x 256 lookup table and `execute` is one table read per element, written
 * straight into shared memory.
 *
 * @module
 */

import {
  ErrorCode,
  type InferenceRequest,
  InferenceResponse,
  type InitializeArgs,
  type Model,
  TritonError,
} from "@triton/deno";

const CHANNELS = 3;

/** Normalizes RGB images for ImageNet-style networks. */
export default class ImagePreprocess implements Model {
  /** `table[c * 256 + v]` is the normalized value of 8-bit value `v` in channel `c`. */
  #table = new Float32Array(CHANNELS * 256);

  /** Reads and checks the `mean` and `std` parameters, and builds the table. */
  initialize(args: InitializeArgs): void {
    const mean = channelParameter(args, "mean");
    const std = channelParameter(args, "std");
    for (let c = 0; c < CHANNELS; c++) {
      if (!(std[c] > 0)) {
        throw new TritonError(
          `config.pbtxt parameter 'std' must be positive for every channel, got ${std[c]} ` +
            `for channel ${c}`,
          ErrorCode.INVALID_ARG,
        );
      }
      for (let value = 0; value < 256; value++) {
        this.#table[c * 256 + value] = (value / 255 - mean[c]) / std[c];
      }
    }
  }

  /** One response per request; a bad request fails alone, not the batch. */
  execute(requests: InferenceRequest[]): InferenceResponse[] {
    return requests.map((request) => {
      try {
        return this.#normalize(request);
      } catch (error) {
        if (error instanceof TritonError) return new InferenceResponse([], error);
        throw error;
      }
    });
  }

  #normalize(request: InferenceRequest): InferenceResponse {
    const image = request.input("IMAGE", "UINT8");
    if (image.shape.length !== 3 || image.shape[2] !== CHANNELS) {
      throw new TritonError(
        `IMAGE must have shape [height, width, 3], got [${image.shape}]`,
        ErrorCode.INVALID_ARG,
      );
    }
    const [height, width] = image.shape;
    const output = request.allocateOutput("NORMALIZED", "FP32", [CHANNELS, height, width]);
    const pixels = image.data;
    const planes = output.data;
    const table = this.#table;
    const planeSize = height * width;
    // Read HWC in order; write each channel to its own plane.
    for (let pixel = 0, source = 0; pixel < planeSize; pixel++, source += CHANNELS) {
      planes[pixel] = table[pixels[source]];
      planes[planeSize + pixel] = table[256 + pixels[source + 1]];
      planes[2 * planeSize + pixel] = table[512 + pixels[source + 2]];
    }
    return new InferenceResponse([output]);
  }
}

/** The three comma-separated finite numbers of parameter `key`, or a clear error. */
function channelParameter(args: InitializeArgs, key: string): number[] {
  const text = args.modelConfig.parameters[key]?.stringValue;
  if (text === undefined) {
    throw new TritonError(
      `config.pbtxt must set parameter '${key}' to ${CHANNELS} comma-separated numbers, ` +
        `e.g. parameters [{ key: "${key}" value: { string_value: "0.5,0.5,0.5" } }]`,
      ErrorCode.INVALID_ARG,
    );
  }
  const parts = text.split(",").map((part) => part.trim());
  const values = parts.map(Number);
  if (
    parts.length !== CHANNELS || parts.some((part) => part === "") ||
    !values.every(Number.isFinite)
  ) {
    throw new TritonError(
      `config.pbtxt parameter '${key}' must be ${CHANNELS} comma-separated numbers ` +
        `(one per channel: R, G, B), got "${text}"`,
      ErrorCode.INVALID_ARG,
    );
  }
  return values;
}
