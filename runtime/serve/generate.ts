/**
 * Triton's generate extension (`POST /v2/models/{m}[/versions/{v}]/generate`
 * and `/generate_stream`): a flat JSON request and response for text
 * generation, converted the way Triton's HTTP frontend converts them.
 *
 * Request: every top-level key (and every key of the optional `parameters`
 * object) that names a model input becomes that input — a scalar or a flat
 * array, shaped to fit the input's dims (fixed dims take their share of the
 * elements, the innermost variable dim the rest, other variable dims 1);
 * any other key becomes a request parameter for the model (string, bool,
 * int or double). `id` also sets the request id. Nothing is reserved: a
 * `sequence_id` here is a parameter, as in Triton.
 *
 * Response: one flat object with `id` (if any), `model_name`,
 * `model_version`, each response parameter and each output (a single
 * element as a scalar, more as an array), keys in byte order. The stream
 * sends each response as a Server-Sent Event `data: {...}\n\n`; an error
 * becomes `data: {"error": "..."}\n\n`.
 *
 * @module
 */

import { invalidArg, ServeError } from "./errors.ts";
import { exactRequestFromJson, parseJson } from "./infer_request.ts";
import type { ModelSignature } from "./model_signature.ts";
import { repeatedKey } from "./json_keys.ts";
import { jsonNumber, stringifyTritonJson, tensorBytesToJson } from "./tensor_json.ts";
import type { InferRequest, InferResult } from "./types.ts";

const decoder = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/** The content type of `/generate` answers. */
export const GENERATE_CONTENT_TYPE = "application/json";
/** The content type of `/generate_stream` answers. */
export const GENERATE_STREAM_CONTENT_TYPE = "text/event-stream; charset=utf-8";

/** What Triton answers when `/generate` gets other than exactly one response. */
export const NOT_ONE_RESPONSE =
  "generate expects model to produce exactly 1 response, use generate stream for model that " +
  "generates various number of responses";

type JsonObject = Record<string, unknown>;

/**
 * Converts a generate request body into an inference request for
 * `signature`'s model, validated like any inference request.
 *
 * @throws {ServeError} `INVALID_ARG` naming the key and the problem.
 *
 * @example
 * ```ts
 * import { parseGenerateRequest } from "./generate.ts";
 * import { modelSignature } from "./model_signature.ts";
 * import { parseModelConfigText } from "../model_config/mod.ts";
 *
 * const signature = modelSignature(parseModelConfigText(
 *   'name: "m" input { name: "TEXT" data_type: TYPE_STRING dims: [1] }',
 * ));
 * const body = new TextEncoder().encode('{"TEXT": "hi", "parameters": {"temperature": 0.5}}');
 * const request = parseGenerateRequest(signature, body);
 * console.log(request.inputs[0].shape, request.parameters.get("temperature")); // [1] 0.5
 * ```
 */
export function parseGenerateRequest(signature: ModelSignature, body: Uint8Array): InferRequest {
  let text: string;
  try {
    text = decoder.decode(body);
  } catch {
    throw invalidArg("failed to parse the request JSON buffer: the text is not valid UTF-8");
  }
  const json = parseJson(text, true);
  if (!isObject(json)) throw invalidArg("failed to parse the request JSON buffer: not an object");
  const repeated = repeatedKey(text);
  if (repeated !== undefined) {
    throw invalidArg(`failed to parse the request JSON buffer: the key '${repeated}' is repeated`);
  }

  const inputs: JsonObject[] = [];
  const parameters: JsonObject = {};
  const map = (key: string, value: unknown) => {
    const input = signature.inputsByName.get(key);
    if (input === undefined) {
      parameters[key] = value; // Typed (or refused) with the other parameters.
      return;
    }
    const elements = Array.isArray(value) ? value : [value];
    const batch = signature.maxBatchSize > 0 ? [-1] : [];
    inputs.push({
      name: key,
      datatype: input.datatype,
      shape: fitShape([...batch, ...input.dims], elements.length, key),
      data: elements,
    });
  };
  for (const [key, value] of Object.entries(json)) {
    if (key !== "parameters") {
      map(key, value);
      continue;
    }
    if (signature.inputsByName.has(key)) {
      throw invalidArg(`Keyword '${key}' for nested schema also given as input tensor name`);
    }
    if (!isObject(value)) throw invalidArg(`Expected JSON object for keyword: '${key}'`);
    for (const [nested, nestedValue] of Object.entries(value)) map(nested, nestedValue);
  }
  if (json.id !== undefined && typeof json.id !== "string") {
    throw invalidArg("Unable to parse 'id'");
  }
  const { request } = exactRequestFromJson(
    signature,
    { id: json.id, inputs, parameters },
    new Uint8Array(),
    { reservedParameters: false },
  );
  return request;
}

/**
 * Triton's shape for `count` elements of an input with metadata shape
 * `shape`: fixed dims divide the count; the innermost -1 takes what is left,
 * other -1 dims are 1.
 *
 * @throws {ServeError} `INVALID_ARG` when the count does not fit.
 */
export function fitShape(shape: readonly number[], count: number, input: string): number[] {
  const fail = () =>
    invalidArg(`The schema can not convert input '${input}' to tensor with proper shape`);
  let remaining = count;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] === -1) continue;
    if (shape[i] === 0 || remaining % shape[i] !== 0) throw fail();
    remaining /= shape[i];
  }
  const out = [...shape];
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i] !== -1) continue;
    out[i] = remaining;
    remaining = 1;
  }
  if (remaining !== 1) throw fail();
  return out;
}

/** The model and version a generate response names. */
export interface GenerateSource {
  /** The request's id ("" for none). */
  readonly id: string;
  /** The model's name. */
  readonly model: string;
  /** The version that ran. */
  readonly version: number;
}

/**
 * The JSON text of one generate response (or of its error): Triton's flat
 * object with keys in byte order; a name seen twice keeps its first value
 * (reserved fields, then parameters, then outputs).
 *
 * @example
 * ```ts
 * import { generateResponseText } from "./generate.ts";
 *
 * const text = generateResponseText({ id: "", model: "m", version: 1 },
 *   { ok: true, outputs: [], parameters: { done: true } });
 * console.log(text); // {"done":true,"model_name":"m","model_version":"1"}
 * ```
 */
export function generateResponseText(source: GenerateSource, result: InferResult): string {
  if (!result.ok) return JSON.stringify({ error: result.message });
  try {
    const fields = new Map<string, unknown>();
    const add = (key: string, value: unknown) => {
      if (!fields.has(key)) fields.set(key, value);
    };
    if (source.id !== "") add("id", source.id);
    add("model_name", source.model);
    add("model_version", String(source.version));
    for (const [key, value] of Object.entries(result.parameters)) add(key, jsonNumber(value));
    for (const output of result.outputs) {
      const bytes = new Uint8Array(output.byteSize);
      output.read(bytes);
      const count = output.shape.reduce((product, dim) => product * dim, 1);
      const data = tensorBytesToJson(output.name, output.datatype, bytes, count);
      add(output.name, count === 1 ? data[0] : data);
    }
    const keys = [...fields.keys()].sort(byteOrder);
    return `{${
      keys.map((key) => `${JSON.stringify(key)}:${stringifyTritonJson(fields.get(key))}`)
    }}`;
  } catch (error) {
    const message = error instanceof ServeError || error instanceof Error
      ? error.message
      : String(error);
    return JSON.stringify({ error: message });
  }
}

/** One Server-Sent Event carrying `json`. */
export function sseEvent(json: string): Uint8Array {
  return encoder.encode(`data: ${json}\n\n`);
}

/** Compares as std::string does (UTF-16 code units order ASCII keys the same way). */
function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
