/**
 * Builds the HTTP response for a completed inference, as Triton's HTTP
 * frontend does: `id` (when the request had one), `model_name`,
 * `model_version`, `parameters` (when the model set any) and `outputs`, each
 * with `name`, `datatype`, `shape` and either `data` (JSON) or
 * `parameters.binary_data_size` with the bytes after the JSON.
 *
 * @module
 */

import { assembleBody, type BinaryPart, HEADER_LENGTH_HEADER } from "./binary_body.ts";
import type { OutputFormat } from "./infer_request.ts";
import { jsonNumber, stringifyTritonJson, tensorBytesToJson } from "./tensor_json.ts";
import type { OutputTensor, ParameterValue } from "./types.ts";

/** What a successful response carries. */
export interface InferResponseParts {
  /** The request's id ("" for none). */
  readonly id: string;
  /** The model's name. */
  readonly model: string;
  /** The version that ran. */
  readonly version: number;
  /** The response parameters. */
  readonly parameters: Readonly<Record<string, ParameterValue>>;
  /** The outputs, in the order the model returned them. */
  readonly outputs: readonly OutputTensor[];
}

interface OutputJson {
  name: string;
  datatype: string;
  shape: readonly number[];
  parameters?: { binary_data_size: number };
  data?: unknown[];
}

/**
 * Serializes a response. Outputs are returned as binary data when the
 * request asked for it (per output, or `binary_data_output` for all).
 *
 * @throws {ServeError} If an output cannot be written as JSON (FP16/BF16)
 * or its bytes do not fit its shape.
 *
 * @example
 * ```ts
 * import { buildInferResponse } from "./infer_response.ts";
 *
 * const data = new Uint8Array(new Float32Array([1, 2]).buffer);
 * const response = buildInferResponse({
 *   id: "7", model: "m", version: 1, parameters: {},
 *   outputs: [{ name: "Y", datatype: "FP32", shape: [2], byteSize: 8, read: (d) => d.set(data) }],
 * }, { defaultBinary: false, binary: new Map() });
 * console.log(await response.json()); // { id: "7", model_name: "m", model_version: "1", outputs: [...] }
 * ```
 */
export function buildInferResponse(parts: InferResponseParts, format: OutputFormat): Response {
  const outputs: OutputJson[] = [];
  const binaryParts: BinaryPart[] = [];
  for (const output of parts.outputs) {
    const asBinary = format.binary.get(output.name) ?? format.defaultBinary;
    const json: OutputJson = { name: output.name, datatype: output.datatype, shape: output.shape };
    if (format.sharedMemory?.has(output.name)) {
      // Already in the client's shared memory: only its name, type and shape.
    } else if (asBinary) {
      json.parameters = { binary_data_size: output.byteSize };
      if (output.byteSize > 0) {
        binaryParts.push({
          byteSize: output.byteSize,
          write: (destination) => output.read(destination),
        });
      }
    } else {
      const bytes = new Uint8Array(output.byteSize);
      output.read(bytes);
      const elementCount = output.shape.reduce((product, dim) => product * dim, 1);
      json.data = tensorBytesToJson(output.name, output.datatype, bytes, elementCount);
    }
    outputs.push(json);
  }
  const header: Record<string, unknown> = {};
  if (parts.id !== "") header.id = parts.id;
  header.model_name = parts.model;
  header.model_version = String(parts.version);
  if (Object.keys(parts.parameters).length > 0) {
    header.parameters = jsonParameters(parts.parameters);
  }
  header.outputs = outputs;
  const text = stringifyTritonJson(header);
  if (binaryParts.length === 0) {
    return new Response(text, { headers: { "content-type": "application/json" } });
  }
  const { body, headerLength } = assembleBody(text, binaryParts);
  return new Response(body, {
    headers: {
      "content-type": "application/octet-stream",
      [HEADER_LENGTH_HEADER]: String(headerLength),
    },
  });
}

/** Response parameters ready for `JSON.stringify` (exact 64-bit integers). */
export function jsonParameters(
  parameters: Readonly<Record<string, ParameterValue>>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parameters)) out[key] = jsonNumber(value);
  return out;
}
