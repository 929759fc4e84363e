// Dependencies are pinned inline as `npm:` specifiers, the same ones the
// generated model_config_pb.ts uses, so these modules resolve on their own
// whether or not the project's deno.json (or an import map) is in effect.
import { assert, assertEquals, assertInstanceOf, assertStringIncludes } from "./_test_assert.ts";
import { create, equals } from "npm:@bufbuild/protobuf@2.17.0";
import {
  DataType,
  type ModelConfig,
  modelConfigFromTritonJson,
  ModelConfigSchema,
  modelConfigToTritonJson,
  ModelInputSchema,
  ModelInstanceGroup_Kind,
  ModelInstanceGroupSchema,
  ModelOutputSchema,
  ModelSequenceBatchingSchema,
  parseModelConfigText,
  TextFormatError,
} from "./mod.ts";

const ADD_SUB = `name: "add_sub"
backend: "python"
max_batch_size: 8
input [
  { name: "INPUT0", data_type: TYPE_FP32, dims: [ 4 ] },
  { name: "INPUT1", data_type: TYPE_FP32, dims: [ 4 ] }
]
output [
  { name: "OUTPUT0", data_type: TYPE_FP32, dims: [ 4 ] },
  { name: "OUTPUT1", data_type: TYPE_FP32, dims: [ 4 ] }
]
instance_group [{ count: 2, kind: KIND_CPU }]
parameters { key: "mode" value { string_value: "fast" } }
dynamic_batching {
  preferred_batch_size: [ 4, 8 ]
  max_queue_delay_microseconds: 100
}
`;

// What Triton hands a backend for add_sub after auto-completing the config:
// snake_case names, every primitive field, 64-bit integers as numbers, and
// fields this schema does not declare (top level and nested).
const TRITON_JSON = JSON.stringify({
  name: "add_sub",
  platform: "",
  backend: "python",
  runtime: "",
  version_policy: { latest: { num_versions: 1 } },
  max_batch_size: 8,
  input: [
    {
      name: "INPUT0",
      data_type: "TYPE_FP32",
      format: "FORMAT_NONE",
      dims: [4],
      is_shape_tensor: false,
      allow_ragged_batch: false,
      optional: false,
      is_non_linear_format_io: false,
      some_future_input_flag: true,
    },
    {
      name: "INPUT1",
      data_type: "TYPE_FP32",
      format: "FORMAT_NONE",
      dims: ["4"],
      is_shape_tensor: false,
      allow_ragged_batch: false,
      optional: false,
    },
  ],
  output: [
    {
      name: "OUTPUT0",
      data_type: "TYPE_FP32",
      dims: [4],
      label_filename: "",
      is_shape_tensor: false,
    },
    {
      name: "OUTPUT1",
      data_type: "TYPE_FP32",
      dims: [4],
      label_filename: "",
      is_shape_tensor: false,
    },
  ],
  batch_input: [],
  batch_output: [],
  optimization: {
    priority: "PRIORITY_DEFAULT",
    input_pinned_memory: { enable: true },
    output_pinned_memory: { enable: true },
    gather_kernel_buffer_threshold: 0,
    eager_batching: false,
  },
  dynamic_batching: {
    preferred_batch_size: [4, 8],
    max_queue_delay_microseconds: 100,
    preserve_ordering: false,
    priority_levels: 0,
    default_priority_level: 0,
    priority_queue_policy: {},
  },
  instance_group: [
    {
      name: "add_sub_0",
      kind: "KIND_CPU",
      count: 2,
      gpus: [],
      secondary_devices: [],
      profile: [],
      passive: false,
      host_policy: "",
    },
  ],
  default_model_filename: "model.py",
  cc_model_filenames: {},
  metric_tags: {},
  parameters: { mode: { string_value: "fast" } },
  model_warmup: [],
  some_future_top_level_field: { nested: [1, 2, 3] },
});

Deno.test("schema field numbers and enum values match Triton's model_config.proto", () => {
  const numbers = (fields: readonly { name: string; number: number }[]) =>
    Object.fromEntries(fields.map((f) => [f.name, f.number]));
  assertEquals(numbers(ModelConfigSchema.fields), {
    name: 1,
    platform: 2,
    backend: 17,
    runtime: 25,
    version_policy: 3,
    max_batch_size: 4,
    input: 5,
    output: 6,
    batch_input: 20,
    batch_output: 21,
    optimization: 12,
    dynamic_batching: 11,
    sequence_batching: 13,
    ensemble_scheduling: 15,
    instance_group: 7,
    default_model_filename: 8,
    cc_model_filenames: 9,
    metric_tags: 10,
    parameters: 14,
    model_warmup: 16,
    model_operations: 18,
    model_transaction_policy: 19,
    model_repository_agents: 23,
    response_cache: 24,
    model_metrics: 26,
  });
  assertEquals(numbers(ModelInputSchema.fields), {
    name: 1,
    data_type: 2,
    format: 3,
    dims: 4,
    reshape: 5,
    is_shape_tensor: 6,
    allow_ragged_batch: 7,
    optional: 8,
    is_non_linear_format_io: 9,
  });
  assertEquals(numbers(ModelOutputSchema.fields), {
    name: 1,
    data_type: 2,
    dims: 3,
    reshape: 5,
    label_filename: 4,
    is_shape_tensor: 6,
    is_non_linear_format_io: 7,
  });
  assertEquals(numbers(ModelInstanceGroupSchema.fields), {
    name: 1,
    kind: 4,
    count: 2,
    rate_limiter: 6,
    gpus: 3,
    secondary_devices: 8,
    profile: 5,
    passive: 7,
    host_policy: 9,
  });
  assertEquals(numbers(ModelSequenceBatchingSchema.fields), {
    direct: 3,
    oldest: 4,
    max_sequence_idle_microseconds: 1,
    control_input: 2,
    state: 5,
    iterative_sequence: 6,
  });
  assertEquals(
    [
      DataType.TYPE_INVALID,
      DataType.TYPE_BOOL,
      DataType.TYPE_UINT8,
      DataType.TYPE_UINT16,
      DataType.TYPE_UINT32,
      DataType.TYPE_UINT64,
      DataType.TYPE_INT8,
      DataType.TYPE_INT16,
      DataType.TYPE_INT32,
      DataType.TYPE_INT64,
      DataType.TYPE_FP16,
      DataType.TYPE_FP32,
      DataType.TYPE_FP64,
      DataType.TYPE_STRING,
      DataType.TYPE_BF16,
    ],
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14],
  );
  assertEquals(
    [
      ModelInstanceGroup_Kind.AUTO,
      ModelInstanceGroup_Kind.GPU,
      ModelInstanceGroup_Kind.CPU,
      ModelInstanceGroup_Kind.MODEL,
    ],
    [0, 1, 2, 3],
  );
});

Deno.test("parseModelConfigText() parses add_sub and names config.pbtxt in errors", () => {
  const config = parseModelConfigText(ADD_SUB);
  assertEquals(config.name, "add_sub");
  assertEquals(config.input.map((i) => i.name), ["INPUT0", "INPUT1"]);
  assertEquals(config.output.map((o) => o.name), ["OUTPUT0", "OUTPUT1"]);
  assertEquals(config.instanceGroup[0].kind, ModelInstanceGroup_Kind.CPU);

  let error: unknown;
  try {
    parseModelConfigText("name: 'x'\nmax_batch: 4");
  } catch (e) {
    error = e;
  }
  assertInstanceOf(error, TextFormatError);
  assertEquals(
    error.message,
    'config.pbtxt:2:1: unknown field "max_batch" in inference.ModelConfig',
  );
  try {
    parseModelConfigText("max_batch_size: x", "models/add_sub/config.pbtxt");
  } catch (e) {
    error = e;
  }
  assertInstanceOf(error, TextFormatError);
  assertEquals(error.file, "models/add_sub/config.pbtxt");
  assertStringIncludes(error.message, "models/add_sub/config.pbtxt:1:17: ");
});

Deno.test("modelConfigFromTritonJson() reads Triton's JSON and ignores unknown fields", () => {
  const config = modelConfigFromTritonJson(TRITON_JSON);
  assertEquals(config.name, "add_sub");
  assertEquals(config.backend, "python");
  assertEquals(config.maxBatchSize, 8);
  assertEquals(config.defaultModelFilename, "model.py");
  assertEquals(
    config.input.map((i) => [i.name, i.dataType, i.dims]),
    [
      ["INPUT0", DataType.TYPE_FP32, [4n]],
      ["INPUT1", DataType.TYPE_FP32, [4n]],
    ],
  );
  assertEquals(config.output.map((o) => o.dims), [[4n], [4n]]);
  assertEquals(config.instanceGroup[0].name, "add_sub_0");
  assertEquals(config.instanceGroup[0].count, 2);
  assertEquals(config.instanceGroup[0].kind, ModelInstanceGroup_Kind.CPU);
  assertEquals(config.parameters["mode"].stringValue, "fast");
  assert(config.versionPolicy?.policyChoice.case === "latest");
  assertEquals(config.versionPolicy.policyChoice.value.numVersions, 1);
  assertEquals(config.optimization?.inputPinnedMemory?.enable, true);
  assert(config.schedulingChoice.case === "dynamicBatching");
  assertEquals(config.schedulingChoice.value.preferredBatchSize, [4, 8]);
  assertEquals(config.schedulingChoice.value.maxQueueDelayMicroseconds, 100n);
  // The same content, expressed as config.pbtxt, is the same message.
  const fromText = parseModelConfigText(ADD_SUB);
  fromText.instanceGroup[0].name = "add_sub_0";
  fromText.defaultModelFilename = "model.py";
  fromText.versionPolicy = config.versionPolicy;
  fromText.optimization = config.optimization;
  assert(equals(ModelConfigSchema, config, fromText));
});

Deno.test("modelConfigFromTritonJson() accepts 64-bit strings and camelCase names", () => {
  const config = modelConfigFromTritonJson(
    '{"maxBatchSize": 4, "input": [{"dataType": "TYPE_INT64", "dims": ["-1", "3"]}],' +
      '"sequence_batching": {"max_sequence_idle_microseconds": "18446744073709551615"}}',
  );
  assertEquals(config.maxBatchSize, 4);
  assertEquals(config.input[0].dataType, DataType.TYPE_INT64);
  assertEquals(config.input[0].dims, [-1n, 3n]);
  assert(config.schedulingChoice.case === "sequenceBatching");
  assertEquals(
    config.schedulingChoice.value.maxSequenceIdleMicroseconds,
    18446744073709551615n,
  );
  assertEquals(modelConfigFromTritonJson("{}"), create(ModelConfigSchema));
});

Deno.test("modelConfigFromTritonJson() rejects malformed JSON and mistyped fields", () => {
  for (
    const [json, detail] of [
      ["{not json", "invalid Triton model configuration JSON: "],
      ['{"max_batch_size": "eight"}', "max_batch_size"],
      ['{"input": {"name": "x"}}', "input"],
    ]
  ) {
    let error: unknown;
    try {
      modelConfigFromTritonJson(json);
    } catch (e) {
      error = e;
    }
    assertInstanceOf(error, Error);
    assertStringIncludes(
      error.message,
      "invalid Triton model configuration JSON: ",
    );
    assertStringIncludes(error.message, detail);
    assert(error.cause !== undefined);
  }
});

Deno.test("modelConfigToTritonJson() writes Triton's JSON form", () => {
  const json = JSON.parse(
    modelConfigToTritonJson(parseModelConfigText(ADD_SUB)),
  );
  assertEquals(json.name, "add_sub");
  assertEquals(json.backend, "python");
  // Defaults are written, like Triton's always_print_primitive_fields.
  assertEquals(json.platform, "");
  assertEquals(json.max_batch_size, 8);
  assertEquals(json.model_warmup, []);
  assertEquals(json.input[0], {
    name: "INPUT0",
    data_type: "TYPE_FP32",
    format: "FORMAT_NONE",
    dims: [4],
    is_shape_tensor: false,
    allow_ragged_batch: false,
    optional: false,
    is_non_linear_format_io: false,
  });
  assertEquals(json.output[1].name, "OUTPUT1");
  assertEquals(json.output[1].data_type, "TYPE_FP32");
  assertEquals(json.output[1].dims, [4]);
  assertEquals(json.instance_group[0].kind, "KIND_CPU");
  assertEquals(json.instance_group[0].count, 2);
  assertEquals(json.parameters, { mode: { string_value: "fast" } });
  assertEquals(json.dynamic_batching.preferred_batch_size, [4, 8]);
  // 64-bit integers become numbers, as Triton's ModelConfigToJson does.
  assertEquals(json.dynamic_batching.max_queue_delay_microseconds, 100);
  assertEquals(json.dynamic_batching.priority_levels, 0);
  assertEquals("sequence_batching" in json, false);
});

Deno.test("modelConfigToTritonJson() keeps 64-bit values beyond 2^53 exact", () => {
  const config = parseModelConfigText(`
    input { dims: [-1, 9007199254740993] }
    sequence_batching {
      max_sequence_idle_microseconds: 18446744073709551615
      oldest { max_queue_delay_microseconds: 7 }
    }
  `);
  const text = modelConfigToTritonJson(config);
  const json = JSON.parse(text);
  assertEquals(json.input[0].dims, [-1, "9007199254740993"]);
  assertEquals(
    json.sequence_batching.max_sequence_idle_microseconds,
    "18446744073709551615",
  );
  assertEquals(json.sequence_batching.oldest.max_queue_delay_microseconds, 7);
  assert(equals(ModelConfigSchema, modelConfigFromTritonJson(text), config));
});

Deno.test("Triton JSON round-trips through modelConfigFromTritonJson/modelConfigToTritonJson", () => {
  const configs: ModelConfig[] = [
    parseModelConfigText(ADD_SUB),
    modelConfigFromTritonJson(TRITON_JSON),
    create(ModelConfigSchema),
    parseModelConfigText(`
      name: "everything" platform: "ensemble" runtime: "libtriton_deno.so"
      version_policy { specific { versions: [1, 2] } }
      input { name: "I" data_type: TYPE_STRING format: FORMAT_NHWC dims: [-1]
              reshape { shape: [] } allow_ragged_batch: true optional: true }
      output { name: "O" data_type: TYPE_BF16 dims: [2, 2] label_filename: "labels.txt" }
      batch_input { kind: BATCH_ELEMENT_COUNT target_name: "N" data_type: TYPE_INT32 source_input: "I" }
      batch_output { target_name: "O" kind: BATCH_SCATTER_WITH_INPUT_SHAPE source_input: "I" }
      ensemble_scheduling { step [{ model_name: "a" model_version: -1
                                    input_map { key: "x" value: "I" }
                                    output_map { key: "y" value: "O" } }] }
      instance_group { kind: KIND_GPU gpus: [0] host_policy: "gpu_0"
                       rate_limiter { resources { name: "R" count: 2 } priority: 1 }
                       secondary_devices { kind: KIND_NVDLA device_id: 1 } }
      cc_model_filenames { key: "8.0" value: "a.plan" }
      metric_tags { key: "team" value: "ml" }
      model_warmup { name: "w" batch_size: 1 count: 2
                     inputs { key: "I" value { data_type: TYPE_STRING dims: [1] input_data_file: "raw" } } }
      model_operations { op_library_filename: "libops.so" }
      model_transaction_policy { decoupled: true }
      response_cache { enable: true }
    `),
  ];
  for (const config of configs) {
    const json = modelConfigToTritonJson(config);
    const back = modelConfigFromTritonJson(json);
    assert(equals(ModelConfigSchema, back, config), json);
    assertEquals(modelConfigToTritonJson(back), json);
  }
});
