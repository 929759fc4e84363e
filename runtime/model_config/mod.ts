// Dependencies are pinned inline as `npm:` specifiers, the same ones the
// generated model_config_pb.ts uses, so these modules resolve on their own
// whether or not the project's deno.json (or an import map) is in effect.
/**
 * Typed Triton model configuration for the runtime: the generated protobuf-es
 * schema of Triton's `ModelConfig`, a `config.pbtxt` parser, and conversion
 * from and to the JSON form Triton exchanges with backends. Code that never
 * parses `config.pbtxt` (the model API, the Worker) imports `./config.ts`
 * instead, which leaves the parser out.
 *
 * @example Read a config.pbtxt
 * ```ts
 * import { DataType, parseModelConfigText } from "./mod.ts";
 *
 * const config = parseModelConfigText(
 *   'name: "add_sub" input [{ name: "INPUT0" data_type: TYPE_FP32 dims: [4] }]',
 *   "add_sub/config.pbtxt",
 * );
 * console.log(config.input[0].dataType === DataType.TYPE_FP32); // true
 * ```
 *
 * @module
 */

import { type ModelConfig, ModelConfigSchema } from "./config.ts";
import { parseTextFormat } from "./text_format.ts";

// The schema, its messages and enums, and the JSON conversion.
export * from "./config.ts";
export { parseTextFormat, TextFormatError } from "./text_format.ts";

/**
 * Parses the text of a Triton `config.pbtxt` into a {@linkcode ModelConfig}.
 *
 * @param text Contents of the file.
 * @param fileName Name used in error positions; defaults to `"config.pbtxt"`.
 * @returns The parsed configuration.
 * @throws {TextFormatError} On a syntax error or a field/value that does not
 * fit the schema, located as `fileName:line:column`.
 *
 * @example Parse a config and read the batching settings
 * ```ts
 * import { parseModelConfigText } from "./mod.ts";
 *
 * const config = parseModelConfigText(`
 *   name: "add_sub"
 *   max_batch_size: 8
 *   dynamic_batching { preferred_batch_size: [4, 8] }
 * `);
 * if (config.schedulingChoice.case === "dynamicBatching") {
 *   console.log(config.schedulingChoice.value.preferredBatchSize); // [4, 8]
 * }
 * ```
 */
export function parseModelConfigText(
  text: string,
  fileName = "config.pbtxt",
): ModelConfig {
  return parseTextFormat(ModelConfigSchema, text, fileName);
}
