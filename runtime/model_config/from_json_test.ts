import { assert, assertEquals } from "./_test_assert.ts";
import { modelConfigFromJson } from "./from_json.ts";
import { buildJsonTable } from "./json_table_gen.ts";
import { MODEL_CONFIG_JSON_TABLE } from "./json_table.ts";
import { modelConfigFromTritonJson, modelConfigToTritonJson, parseModelConfigText } from "./mod.ts";

const ROOT = new URL("../../", import.meta.url);

/** Every config.pbtxt of the repository's models, fixtures and hostile models. */
function repositoryConfigs(): string[] {
  const found: string[] = [];
  for (const folder of ["models", "tests/fixtures", "tests/hostile/models"]) {
    for (const entry of Deno.readDirSync(new URL(folder, ROOT))) {
      const path = new URL(`${folder}/${entry.name}/config.pbtxt`, ROOT);
      try {
        found.push(Deno.readTextFileSync(path));
      } catch { /* a folder without one */ }
    }
  }
  return found;
}

/** Both decoders give the same object (or both refuse). */
function assertSame(json: string): void {
  let expected: unknown;
  let expectedError: unknown;
  try {
    expected = modelConfigFromTritonJson(json);
  } catch (error) {
    expectedError = error;
  }
  let actual: unknown;
  let actualError: unknown;
  try {
    actual = modelConfigFromJson(json);
  } catch (error) {
    actualError = error;
  }
  assertEquals(actualError === undefined, expectedError === undefined, `${json}: ${actualError}`);
  assertEquals(actual, expected, json);
  // Same keys in the same order, as protobuf-es creates and fills them.
  assertEquals(JSON.stringify(actual, bigints), JSON.stringify(expected, bigints), json);
}

function bigints(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? `${value}n` : value;
}

Deno.test("from_json: every configuration in the repository decodes as protobuf-es decodes it", () => {
  const configs = repositoryConfigs();
  assert(configs.length > 50, `only ${configs.length} configurations found`);
  for (const text of configs) assertSame(modelConfigToTritonJson(parseModelConfigText(text)));
});

Deno.test("from_json: every kind of field, both name spellings, loose numbers", () => {
  const samples: unknown[] = [
    {},
    {
      name: "m",
      maxBatchSize: "8",
      version_policy: { specific: { versions: ["1", 2] } },
      input: [{
        name: "X",
        data_type: "TYPE_FP32",
        format: 1,
        dims: [4, "-1"],
        reshape: { shape: [2, "2"] },
        optional: true,
      }],
      output: [{ name: "Y", dataType: 11, dims: [1], label_filename: "l.txt" }],
      dynamic_batching: {
        preferred_batch_size: [4, 8],
        max_queue_delay_microseconds: "100",
        priority_queue_policy: {
          "01": { max_queue_size: 3, timeout_action: "DELAY" },
          "2": { default_timeout_microseconds: 9007199254740993 },
        },
      },
      instance_group: [{ kind: "KIND_CPU", count: 2, gpus: [0, 1], rate_limiter: null }],
      parameters: { p: { string_value: "v" }, "__proto__": { string_value: "safe" } },
      model_warmup: [{
        name: "w",
        batch_size: 1,
        inputs: { a: { data_type: "TYPE_INT64", dims: [1], random_data: true } },
      }],
      optimization: {
        priority: "PRIORITY_MAX",
        cuda: { graphs: true, graph_spec: [{ batch_size: 1, input: { i: { dim: [3] } } }] },
      },
      sequence_batching: null,
      model_transaction_policy: { decoupled: true },
      metric_tags: { a: "b" },
      some_future_field: { nested: [1, 2] },
      backend: null,
    },
    {
      sequence_batching: {
        oldest: { max_candidate_sequences: 4, preferred_batch_size: [2] },
        control_input: [{
          name: "START",
          control: [{ kind: "CONTROL_SEQUENCE_START", fp32_false_true: [0, "1.5"] }],
        }],
        state: [{
          input_name: "i",
          output_name: "o",
          data_type: "TYPE_FP16",
          dims: [1],
          initial_state: [{ data_type: 8, dims: [1], zero_data: true, name: "s" }],
        }],
      },
      ensemble_scheduling: null,
    },
    {
      ensemble_scheduling: {
        step: [{ model_name: "a", model_version: -1, input_map: { x: "y" } }],
      },
    },
    {
      model_metrics: {
        metric_control: [{ histogram_options: { buckets: ["NaN", "Infinity", 1] } }],
      },
    },
    { input: [{ data_type: "NOT_A_TYPE", name: "ignored enum" }] },
    // Refused by both.
    { max_batch_size: 1.5 },
    { max_batch_size: 2 ** 31 },
    { input: [{ dims: ["x"] }] },
    { input: [null] },
    { name: 5 },
    { dynamic_batching: {}, sequence_batching: {} },
    { max_batch_size: 1, maxBatchSize: 2 },
    { parameters: { p: null } },
    { input: {} },
    [],
  ];
  for (const sample of samples) assertSame(JSON.stringify(sample));
});

Deno.test("from_json: text that is not JSON is refused", () => {
  let message = "";
  try {
    modelConfigFromJson("{");
  } catch (error) {
    message = String(error);
  }
  assert(message.includes("invalid Triton model configuration JSON"), message);
});

Deno.test("from_json: the committed table matches the schema (regenerate with json_table_gen.ts)", () => {
  assertEquals(MODEL_CONFIG_JSON_TABLE, buildJsonTable());
});
