/**
 * Triton's `ModelConfig` without the `config.pbtxt` parser: the generated
 * protobuf-es schema and conversion from and to the JSON form Triton
 * exchanges with backends. This is what the model API and the Worker load;
 * `./mod.ts` adds the text-format parser, which only `deno task serve` and
 * the test support need.
 *
 * @example Decode Triton's JSON
 * ```ts
 * import { DataType, modelConfigFromTritonJson } from "./config.ts";
 *
 * const config = modelConfigFromTritonJson('{"input":[{"name":"X","data_type":"TYPE_FP32"}]}');
 * console.log(config.input[0].dataType === DataType.TYPE_FP32); // true
 * ```
 *
 * @module
 */

// Dependencies are pinned inline as `npm:` specifiers, the same ones the
// generated model_config_pb.ts uses, so these modules resolve on their own
// whether or not the project's deno.json (or an import map) is in effect.
import {
  fromJsonString,
  type JsonObject,
  type JsonValue,
  ScalarType,
  toJson,
} from "npm:@bufbuild/protobuf@2.17.0";
import type { DescMessage } from "npm:@bufbuild/protobuf@2.17.0";
import { type ModelConfig, ModelConfigSchema } from "./model_config_pb.ts";

// Every generated message schema, message type and enum (ModelConfigSchema,
// ModelConfig, DataType, ModelInstanceGroup_Kind, ...), each documented in
// the generated file, so callers need only this module.
export * from "./model_config_pb.ts";

/**
 * Decodes the model configuration JSON that Triton hands a backend (e.g. from
 * `TRITONBACKEND_ModelConfig`).
 *
 * Triton writes the original snake_case field names and 64-bit integers as
 * JSON numbers; both that and canonical proto3 JSON (camelCase names, 64-bit
 * integers as strings) are accepted. Fields this schema does not declare are
 * ignored, because Triton's configuration keeps growing and a backend should
 * not fail on settings it does not use.
 *
 * @param json The JSON text.
 * @returns The decoded configuration.
 * @throws {Error} If the text is not JSON or a declared field has a value of
 * the wrong type; the protobuf-es error is kept as `cause`.
 *
 * @example Decode Triton's JSON
 * ```ts
 * import { modelConfigFromTritonJson } from "./config.ts";
 *
 * const config = modelConfigFromTritonJson(
 *   '{"name":"add_sub","max_batch_size":8,"input":[{"name":"INPUT0",' +
 *     '"data_type":"TYPE_FP32","dims":[4]}],"some_future_field":true}',
 * );
 * console.log(config.input[0].dims); // [4n]
 * ```
 */
export function modelConfigFromTritonJson(json: string): ModelConfig {
  try {
    return fromJsonString(ModelConfigSchema, json, {
      ignoreUnknownFields: true,
    });
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new Error(`invalid Triton model configuration JSON: ${detail}`, {
      cause: error,
    });
  }
}

/**
 * Encodes a model configuration as JSON the way Triton does
 * (`ModelConfigToJson`): snake_case field names, enums by name (e.g.
 * `"TYPE_FP32"`), fields with default values included, and 64-bit integers
 * as JSON numbers rather than proto3 JSON's strings. A 64-bit value beyond
 * `Number.MAX_SAFE_INTEGER` stays a string so that it is not rounded;
 * {@linkcode modelConfigFromTritonJson} reads both forms.
 *
 * @param config The configuration to encode.
 * @returns Compact JSON text.
 *
 * @example Round-trip through Triton's JSON form
 * ```ts
 * import {
 *   modelConfigFromTritonJson,
 *   modelConfigToTritonJson,
 *   parseModelConfigText,
 * } from "./mod.ts";
 *
 * const config = parseModelConfigText(
 *   'name: "m" input { name: "X" data_type: TYPE_FP32 dims: [4] }',
 * );
 * const json = modelConfigToTritonJson(config);
 * // {"name":"m",...,"input":[{"name":"X","data_type":"TYPE_FP32",...
 * //   "dims":[4],...}],...}
 * console.log(modelConfigFromTritonJson(json).input[0].name); // "X"
 * ```
 */
export function modelConfigToTritonJson(config: ModelConfig): string {
  const json = toJson(ModelConfigSchema, config, {
    useProtoFieldName: true,
    alwaysEmitImplicit: true,
  });
  return JSON.stringify(int64AsNumbers(ModelConfigSchema, json));
}

const INT64_TYPES: ReadonlySet<ScalarType> = new Set([
  ScalarType.INT64,
  ScalarType.SINT64,
  ScalarType.SFIXED64,
  ScalarType.UINT64,
  ScalarType.FIXED64,
]);

/** Turns a proto3-JSON 64-bit string into a number when that is exact. */
function int64Value(value: JsonValue): JsonValue {
  if (typeof value !== "string") return value;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : value;
}

/**
 * Rewrites the 64-bit integer fields of `json` (proto3 JSON of a `desc`
 * message with proto field names) from strings to numbers, in place, walking
 * the schema rather than a fixed list of paths so new fields are covered.
 */
function int64AsNumbers(desc: DescMessage, json: JsonValue): JsonValue {
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    return json;
  }
  const object: JsonObject = json;
  for (const field of desc.fields) {
    const value = object[field.name];
    if (value === undefined) continue;
    switch (field.fieldKind) {
      case "scalar":
        if (INT64_TYPES.has(field.scalar)) {
          object[field.name] = int64Value(value);
        }
        break;
      case "message":
        int64AsNumbers(field.message, value);
        break;
      case "list":
        if (!Array.isArray(value)) break;
        if (field.listKind === "scalar" && INT64_TYPES.has(field.scalar)) {
          object[field.name] = value.map(int64Value);
        } else if (field.listKind === "message") {
          for (const item of value) int64AsNumbers(field.message, item);
        }
        break;
      case "map": {
        if (
          value === null || typeof value !== "object" || Array.isArray(value)
        ) {
          break;
        }
        const entries: JsonObject = value;
        for (const key of Object.keys(entries)) {
          if (field.mapKind === "message") {
            int64AsNumbers(field.message, entries[key]);
          } else if (
            field.mapKind === "scalar" && INT64_TYPES.has(field.scalar)
          ) {
            entries[key] = int64Value(entries[key]);
          }
        }
        break;
      }
    }
  }
  return object;
}
