/**
 * Triton's raw binary request: `Inference-Header-Content-Length: 0` and a
 * body that is nothing but the bytes of a model's only input. Its name,
 * datatype and shape come from the model configuration as Triton's core
 * deduces them: the batch dimension (if the model batches) is 1, one
 * variable dimension takes what the byte count leaves; a BYTES input must
 * be a single element, and its bytes get the 4-byte length in front.
 * Every output comes back as binary data.
 *
 * @module
 */

import { dataTypeByteSize } from "../api/datatype.ts";
import { invalidArg } from "./errors.ts";
import type { ModelSignature } from "./model_signature.ts";

/** A raw request turned into the JSON header and binary part of an ordinary one. */
export interface RawRequest {
  /** The request as JSON would have said it. */
  readonly json: Record<string, unknown>;
  /** The input's bytes (BYTES: with the length in front). */
  readonly binary: Uint8Array;
}

/**
 * The ordinary request a raw body stands for.
 *
 * @throws {ServeError} `INVALID_ARG` with Triton's words when the model has
 * other than one input or its shape cannot be deduced.
 *
 * @example
 * ```ts
 * import { rawRequest } from "./raw_request.ts";
 * import { modelSignature } from "./model_signature.ts";
 * import { parseModelConfigText } from "../model_config/mod.ts";
 *
 * const signature = modelSignature(parseModelConfigText(
 *   'name: "m" input { name: "X" data_type: TYPE_FP32 dims: [-1] }',
 * ));
 * const { json } = rawRequest(signature, new Uint8Array(12));
 * console.log(JSON.stringify(json.inputs)); // [{"name":"X","datatype":"FP32","shape":[3],...}]
 * ```
 */
export function rawRequest(signature: ModelSignature, body: Uint8Array): RawRequest {
  const prefix = "[request id: <id_unknown>] ";
  if (signature.inputs.length !== 1) {
    throw invalidArg(
      `${prefix}Raw request must only have 1 input (found 1) to be deduced but got ` +
        `${signature.inputs.length} inputs in '${signature.name}' model configuration`,
    );
  }
  const input = signature.inputs[0];
  const shape: number[] = signature.maxBatchSize !== 0 ? [1] : [];
  let variable = -1;
  let elements = 1;
  for (const dim of input.dims) {
    if (dim === -1) {
      if (variable !== -1) {
        throw invalidArg(
          `${prefix}The shape of the raw input '${input.name}' can not be deduced because ` +
            "there are more than one variable-sized dimension",
        );
      }
      variable = shape.length;
    } else {
      elements *= dim;
    }
    shape.push(dim);
  }
  let binary = body;
  if (input.datatype === "BYTES") {
    if (variable !== -1 || elements !== 1) {
      throw invalidArg(
        `${prefix}For BYTE datatype raw input '${input.name}', the model must have input ` +
          "shape [1]",
      );
    }
    binary = new Uint8Array(4 + body.byteLength);
    new DataView(binary.buffer).setUint32(0, body.byteLength, true);
    binary.set(body, 4);
  } else if (variable !== -1) {
    shape[variable] = Math.floor(body.byteLength / elements / dataTypeByteSize(input.datatype));
  }
  return {
    json: {
      inputs: [{
        name: input.name,
        datatype: input.datatype,
        shape,
        parameters: { binary_data_size: binary.byteLength },
      }],
      parameters: { binary_data_output: true },
    },
    binary,
  };
}
