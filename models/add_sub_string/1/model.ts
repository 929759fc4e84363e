/**
 * add_sub_string: the inputs are BYTES tensors of decimal integers ("12",
 * "-7"); OUTPUT0 holds the sums and OUTPUT1 the differences, also as decimal
 * strings. BigInt keeps integers of any size exact.
 *
 * BYTES outputs cannot live in shared memory before their size is known, so
 * they are built with `new Tensor(...)`, which serializes the strings once.
 *
 * @module
 */

import {
  ErrorCode,
  type InferenceRequest,
  InferenceResponse,
  type Model,
  Tensor,
  TritonError,
} from "@triton/deno";

const DECIMAL_INTEGER = /^[+-]?\d+$/;

/** Adds and subtracts integers written as strings. */
export default class AddSubString implements Model {
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
  const input0 = request.input("INPUT0", "BYTES");
  const input1 = request.input("INPUT1", "BYTES");
  if (input0.shape.join() !== input1.shape.join()) {
    throw new TritonError(
      `INPUT0 and INPUT1 must have the same shape, got [${input0.shape}] and [${input1.shape}]`,
      ErrorCode.INVALID_ARG,
    );
  }
  const a = parseIntegers("INPUT0", input0.strings());
  const b = parseIntegers("INPUT1", input1.strings());
  const sums = a.map((value, i) => (value + b[i]).toString());
  const differences = a.map((value, i) => (value - b[i]).toString());
  return new InferenceResponse([
    new Tensor("OUTPUT0", "BYTES", input0.shape, sums),
    new Tensor("OUTPUT1", "BYTES", input0.shape, differences),
  ]);
}

function parseIntegers(inputName: string, texts: string[]): bigint[] {
  return texts.map((text, index) => {
    const trimmed = text.trim();
    if (!DECIMAL_INTEGER.test(trimmed)) {
      throw new TritonError(
        `${inputName} element ${index} must be a decimal integer, got ${
          JSON.stringify(clip(text))
        }`,
        ErrorCode.INVALID_ARG,
      );
    }
    return BigInt(trimmed);
  });
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}
