// Dependencies are pinned inline as `npm:` specifiers, the same ones the
// generated model_config_pb.ts uses, so these modules resolve on their own
// whether or not the project's deno.json (or an import map) is in effect.
import { assert, assertEquals, assertInstanceOf } from "./_test_assert.ts";
import { create, type DescMessage } from "npm:@bufbuild/protobuf@2.17.0";
import { ListValueSchema } from "npm:@bufbuild/protobuf@2.17.0/wkt";
import {
  BatchInput_Kind,
  DataType,
  ModelConfigSchema,
  ModelDynamicBatchingSchema,
  ModelInputSchema,
  ModelInstanceGroup_Kind,
  ModelQueuePolicy_TimeoutAction,
  ModelSequenceBatching_Control_Kind,
  ModelTensorReshapeSchema,
} from "./model_config_pb.ts";
import { parseTextFormat, TextFormatError } from "./text_format.ts";

const ADD_SUB = `# The add_sub example model.
name: "add_sub"
backend: "python"
max_batch_size: 8

input [
  {
    name: "INPUT0"
    data_type: TYPE_FP32
    dims: [ 4 ]
  },
  {
    name: "INPUT1"
    data_type: TYPE_FP32
    dims: [ 4 ]
  }
]
output [
  {
    name: "OUTPUT0"
    data_type: TYPE_FP32
    dims: [ 4 ]
  },
  {
    name: "OUTPUT1"
    data_type: TYPE_FP32
    dims: [ 4 ]
  }
]

instance_group [{ count: 2, kind: KIND_CPU }]

parameters {
  key: "EXECUTION_ENV_PATH"
  value: { string_value: "$$TRITON_MODEL_DIRECTORY/env.tar.gz" }
}
parameters: { key: "mode" value { string_value: "fast" } }

dynamic_batching {
  preferred_batch_size: [ 4, 8 ]
  max_queue_delay_microseconds: 100
}
`;

/** Parses `text` as a ModelConfig, expecting a TextFormatError. */
function parseError(
  text: string,
  schema: DescMessage = ModelConfigSchema,
): TextFormatError {
  try {
    parseTextFormat(schema, text, "config.pbtxt");
  } catch (error) {
    assertInstanceOf(error, TextFormatError);
    return error;
  }
  throw new Error(`expected a TextFormatError for: ${text}`);
}

/** Asserts the exact `file:line:column: reason` message of a failing parse. */
function assertParseError(text: string, expected: string): void {
  assertEquals(parseError(text).message, expected);
}

Deno.test("parseTextFormat() reads the add_sub config", () => {
  const config = parseTextFormat(ModelConfigSchema, ADD_SUB, "config.pbtxt");
  assertEquals(config.name, "add_sub");
  assertEquals(config.backend, "python");
  assertEquals(config.maxBatchSize, 8);
  assertEquals(
    config.input.map((i) => [i.name, i.dataType, i.dims]),
    [
      ["INPUT0", DataType.TYPE_FP32, [4n]],
      ["INPUT1", DataType.TYPE_FP32, [4n]],
    ],
  );
  assertEquals(
    config.output.map((o) => [o.name, o.dataType, o.dims]),
    [
      ["OUTPUT0", DataType.TYPE_FP32, [4n]],
      ["OUTPUT1", DataType.TYPE_FP32, [4n]],
    ],
  );
  assertEquals(config.instanceGroup.length, 1);
  assertEquals(config.instanceGroup[0].count, 2);
  assertEquals(config.instanceGroup[0].kind, ModelInstanceGroup_Kind.CPU);
  assertEquals(Object.keys(config.parameters), ["EXECUTION_ENV_PATH", "mode"]);
  assertEquals(
    config.parameters["EXECUTION_ENV_PATH"].stringValue,
    "$$TRITON_MODEL_DIRECTORY/env.tar.gz",
  );
  assertEquals(config.parameters["mode"].stringValue, "fast");
  const scheduling = config.schedulingChoice;
  assertEquals(scheduling.case, "dynamicBatching");
  assert(scheduling.case === "dynamicBatching");
  assertEquals(scheduling.value.preferredBatchSize, [4, 8]);
  assertEquals(scheduling.value.maxQueueDelayMicroseconds, 100n);
});

Deno.test("parseTextFormat() of empty or comment-only input is the default message", () => {
  assertEquals(
    parseTextFormat(ModelConfigSchema, ""),
    create(ModelConfigSchema),
  );
  assertEquals(
    parseTextFormat(ModelConfigSchema, "  # nothing here\n\n# at all"),
    create(ModelConfigSchema),
  );
});

Deno.test("parseTextFormat() reads integers in every notation", () => {
  const config = parseTextFormat(
    ModelConfigSchema,
    "max_batch_size: -3 input { dims: [0x10, 017, -1, 0, 9223372036854775807, -9223372036854775808] }",
  );
  assertEquals(config.maxBatchSize, -3);
  assertEquals(config.input[0].dims, [
    16n,
    15n,
    -1n,
    0n,
    9223372036854775807n,
    -9223372036854775808n,
  ]);
  const dynamic = parseTextFormat(
    ModelDynamicBatchingSchema,
    "max_queue_delay_microseconds: 18446744073709551615 preferred_batch_size: 0xFF",
  );
  assertEquals(dynamic.maxQueueDelayMicroseconds, 18446744073709551615n);
  assertEquals(dynamic.preferredBatchSize, [255]);
});

Deno.test("parseTextFormat() reads floats, including integers, inf and nan", () => {
  const config = parseTextFormat(
    ModelConfigSchema,
    `sequence_batching {
      direct { minimum_slot_utilization: 0.5 }
      control_input {
        control { fp32_false_true: [0, 1.5e2, .25, 2f, -3.5, -inf, inf, Infinity, nan] }
      }
    }`,
  );
  assert(config.schedulingChoice.case === "sequenceBatching");
  const batching = config.schedulingChoice.value;
  assert(batching.strategyChoice.case === "direct");
  assertEquals(batching.strategyChoice.value.minimumSlotUtilization, 0.5);
  const values = batching.controlInput[0].control[0].fp32FalseTrue;
  assertEquals(values.slice(0, 8), [
    0,
    150,
    0.25,
    2,
    -3.5,
    -Infinity,
    Infinity,
    Infinity,
  ]);
  assert(Number.isNaN(values[8]));
});

Deno.test("parseTextFormat() reads every bool spelling", () => {
  const input = parseTextFormat(
    ModelInputSchema,
    "is_shape_tensor: true allow_ragged_batch: True optional: t",
  );
  assertEquals(
    [input.isShapeTensor, input.allowRaggedBatch, input.optional],
    [true, true, true],
  );
  const other = parseTextFormat(
    ModelInputSchema,
    "is_shape_tensor: 1 allow_ragged_batch: false optional: False is_non_linear_format_io: 0",
  );
  assertEquals(
    [
      other.isShapeTensor,
      other.allowRaggedBatch,
      other.optional,
      other.isNonLinearFormatIo,
    ],
    [true, false, false, false],
  );
  const control = parseTextFormat(
    ModelConfigSchema,
    "sequence_batching { control_input { control { bool_false_true: [f, t] } } }",
  );
  assert(control.schedulingChoice.case === "sequenceBatching");
  assertEquals(
    control.schedulingChoice.value.controlInput[0].control[0].boolFalseTrue,
    [false, true],
  );
});

Deno.test("parseTextFormat() reads strings: quotes, escapes, concatenation", () => {
  const parse = (literal: string) => parseTextFormat(ModelInputSchema, `name: ${literal}`).name;
  assertEquals(parse(`"double"`), "double");
  assertEquals(parse(`'single'`), "single");
  assertEquals(parse(`'has "double" inside'`), 'has "double" inside');
  assertEquals(parse(`"has 'single' inside"`), "has 'single' inside");
  assertEquals(parse(`"a\\nb\\tc\\\\d\\"e\\'f"`), "a\nb\tc\\d\"e'f");
  assertEquals(parse(`"\\x41\\101\\u00e9\\U0001F600"`), "AAé😀");
  assertEquals(parse(`"\\ud83d\\ude00"`), "😀");
  assertEquals(parse(`"\\303\\251"`), "é");
  assertEquals(parse(`"naïve ✓"`), "naïve ✓");
  assertEquals(
    parse(`"con" 'cat' # comment between\n "enated"`),
    "concatenated",
  );
  assertEquals(parse(`""`), "");
});

Deno.test("parseTextFormat() reads enums by name and by number", () => {
  const input = parseTextFormat(
    ModelConfigSchema,
    "input { data_type: TYPE_BF16 format: FORMAT_NCHW } input { data_type: 11 format: 1 }",
  ).input;
  assertEquals(input[0].dataType, DataType.TYPE_BF16);
  assertEquals(input[0].format, 2);
  assertEquals(input[1].dataType, DataType.TYPE_FP32);
  assertEquals(input[1].format, 1);
  // proto3 enums are open: unknown numbers are kept, as in the C++ parser.
  assertEquals(
    parseTextFormat(ModelInputSchema, "data_type: 99").dataType,
    99,
  );
  const batchInput = parseTextFormat(
    ModelConfigSchema,
    "batch_input [{ kind: BATCH_ITEM_SHAPE_FLATTEN target_name: 'A' source_input: ['B', 'C'] }]",
  ).batchInput;
  assertEquals(batchInput[0].kind, BatchInput_Kind.BATCH_ITEM_SHAPE_FLATTEN);
  assertEquals(batchInput[0].targetName, ["A"]);
  assertEquals(batchInput[0].sourceInput, ["B", "C"]);
});

Deno.test("parseTextFormat() accepts {} and <> messages with or without a colon", () => {
  const config = parseTextFormat(
    ModelConfigSchema,
    `input < name: "a" reshape: < shape: [1, 4] > >
     input: { name: "b" reshape { shape: 4 } }
     output: < name: "c" >
     response_cache: { enable: true }
     model_transaction_policy < decoupled: true >`,
  );
  assertEquals(config.input.map((i) => i.name), ["a", "b"]);
  assertEquals(config.input[0].reshape?.shape, [1n, 4n]);
  assertEquals(config.input[1].reshape?.shape, [4n]);
  assertEquals(config.output[0].name, "c");
  assertEquals(config.responseCache?.enable, true);
  assertEquals(config.modelTransactionPolicy?.decoupled, true);
});

Deno.test("parseTextFormat() appends repeated fields given as lines and lists", () => {
  const config = parseTextFormat(
    ModelConfigSchema,
    `input { dims: 1 dims: 2 dims: [3, 4] dims: [] dims: 5 }
     instance_group { kind: KIND_GPU gpus: [0, 1] }
     instance_group [ { count: 3 }, { name: "x" } ]
     instance_group: [ ]
     instance_group [{ host_policy: "p" profile: "a" profile: ["b"] }]`,
  );
  assertEquals(config.input[0].dims, [1n, 2n, 3n, 4n, 5n]);
  assertEquals(config.instanceGroup.length, 4);
  assertEquals(config.instanceGroup[0].kind, ModelInstanceGroup_Kind.GPU);
  assertEquals(config.instanceGroup[0].gpus, [0, 1]);
  assertEquals(config.instanceGroup[1].count, 3);
  assertEquals(config.instanceGroup[2].name, "x");
  assertEquals(config.instanceGroup[3].hostPolicy, "p");
  assertEquals(config.instanceGroup[3].profile, ["a", "b"]);
});

Deno.test("parseTextFormat() reads map fields in all entry forms", () => {
  const config = parseTextFormat(
    ModelConfigSchema,
    `parameters { key: "a" value { string_value: "1" } }
     parameters [ { key: "b", value: { string_value: "2" } }, < value < string_value: "3" > key: "c" > ]
     parameters { key: "a" value { string_value: "overwritten" } }
     parameters { key: "empty" }
     cc_model_filenames { key: "7.5" value: "model_75.plan" }
     cc_model_filenames [ { key: "8.0", value: "model_80.plan" } ]
     dynamic_batching {
       priority_queue_policy { key: 1 value { timeout_action: DELAY max_queue_size: 4 } }
       priority_queue_policy { key: 0x2 value: { default_timeout_microseconds: 5 } }
     }`,
  );
  assertEquals(
    Object.fromEntries(
      Object.entries(config.parameters).map(([k, v]) => [k, v.stringValue]),
    ),
    { a: "overwritten", b: "2", c: "3", empty: "" },
  );
  assertEquals(config.ccModelFilenames, {
    "7.5": "model_75.plan",
    "8.0": "model_80.plan",
  });
  assert(config.schedulingChoice.case === "dynamicBatching");
  const policies = config.schedulingChoice.value.priorityQueuePolicy;
  assertEquals(Object.keys(policies), ["1", "2"]);
  assertEquals(
    policies["1"].timeoutAction,
    ModelQueuePolicy_TimeoutAction.DELAY,
  );
  assertEquals(policies["1"].maxQueueSize, 4);
  assertEquals(policies["2"].defaultTimeoutMicroseconds, 5n);
});

Deno.test("parseTextFormat() accepts , and ; after fields", () => {
  const config = parseTextFormat(
    ModelConfigSchema,
    `name: "x", platform: "p"; max_batch_size: 2,
     input { name: "i"; data_type: TYPE_INT32, dims: [1]; },
     instance_group [{ count: 1, kind: KIND_CPU, }];`,
  );
  assertEquals(config.name, "x");
  assertEquals(config.platform, "p");
  assertEquals(config.maxBatchSize, 2);
  assertEquals(config.input[0].dataType, DataType.TYPE_INT32);
  assertEquals(config.instanceGroup[0].count, 1);
});

Deno.test("parseTextFormat() reads sequence, ensemble, warmup and other sections", () => {
  const sequence = parseTextFormat(
    ModelConfigSchema,
    `name: "seq"
     sequence_batching {
       max_sequence_idle_microseconds: 5000000
       control_input [
         {
           name: "START"
           control [ { kind: CONTROL_SEQUENCE_START int32_false_true: [ 0, 1 ] } ]
         },
         {
           name: "CORRID"
           control [ { kind: CONTROL_SEQUENCE_CORRID data_type: TYPE_UINT64 } ]
         }
       ]
       oldest { max_candidate_sequences: 4 preferred_batch_size: [2] max_queue_delay_microseconds: 10 }
       state { input_name: "IN" output_name: "OUT" data_type: TYPE_INT32 dims: [-1]
               initial_state { name: "zeros" data_type: TYPE_INT32 dims: [1] zero_data: true } }
     }
     version_policy { specific { versions: [1, 3] } }
     model_warmup [{
       name: "w" batch_size: 1
       inputs { key: "IN" value { data_type: TYPE_INT32 dims: [1] random_data: true } }
     }]
     optimization { priority: PRIORITY_MAX input_pinned_memory { enable: false }
                    cuda { graphs: true graph_spec { batch_size: 2 input { key: "IN" value { dim: [1] } } } } }
     model_repository_agents { agents [{ name: "checksum" parameters { key: "k" value: "v" } }] }
     model_metrics { metric_control { metric_identifier { family: "f" } histogram_options { buckets: [0.1, 1] } } }`,
  );
  assert(sequence.schedulingChoice.case === "sequenceBatching");
  const batching = sequence.schedulingChoice.value;
  assertEquals(batching.maxSequenceIdleMicroseconds, 5000000n);
  assertEquals(batching.controlInput.map((c) => c.name), ["START", "CORRID"]);
  assertEquals(
    batching.controlInput[0].control[0].kind,
    ModelSequenceBatching_Control_Kind.CONTROL_SEQUENCE_START,
  );
  assertEquals(batching.controlInput[0].control[0].int32FalseTrue, [0, 1]);
  assertEquals(
    batching.controlInput[1].control[0].dataType,
    DataType.TYPE_UINT64,
  );
  assert(batching.strategyChoice.case === "oldest");
  assertEquals(batching.strategyChoice.value.maxCandidateSequences, 4);
  assertEquals(batching.state[0].dims, [-1n]);
  assertEquals(batching.state[0].initialState[0].stateData, {
    case: "zeroData",
    value: true,
  });
  assert(sequence.versionPolicy?.policyChoice.case === "specific");
  assertEquals(sequence.versionPolicy.policyChoice.value.versions, [1n, 3n]);
  assertEquals(
    sequence.modelWarmup[0].inputs["IN"].inputDataType.case,
    "randomData",
  );
  assertEquals(sequence.optimization?.priority, 1);
  assertEquals(sequence.optimization?.inputPinnedMemory?.enable, false);
  assertEquals(
    sequence.optimization?.cuda?.graphSpec[0].input["IN"].dim,
    [1n],
  );
  assertEquals(sequence.modelRepositoryAgents?.agents[0].parameters, {
    k: "v",
  });
  assertEquals(
    sequence.modelMetrics?.metricControl[0].metricOptions.value?.buckets,
    [0.1, 1],
  );

  const ensemble = parseTextFormat(
    ModelConfigSchema,
    `name: "ensemble" platform: "ensemble"
     ensemble_scheduling {
       step [
         {
           model_name: "preprocess"
           model_version: -1
           input_map { key: "RAW" value: "IMAGE" }
           output_map { key: "OUT" value: "preprocessed" }
         },
         {
           model_name: "classifier"
           model_version: 2
           input_map [ { key: "INPUT", value: "preprocessed" } ]
           output_map { key: "SCORES" value: "SCORES" }
         }
       ]
     }`,
  );
  assert(ensemble.schedulingChoice.case === "ensembleScheduling");
  const steps = ensemble.schedulingChoice.value.step;
  assertEquals(steps.map((s) => [s.modelName, s.modelVersion]), [
    ["preprocess", -1n],
    ["classifier", 2n],
  ]);
  assertEquals(steps[0].inputMap, { RAW: "IMAGE" });
  assertEquals(steps[0].outputMap, { OUT: "preprocessed" });
  assertEquals(steps[1].inputMap, { INPUT: "preprocessed" });
});

Deno.test("parseTextFormat() is generic over the message schema", () => {
  const reshape = parseTextFormat(ModelTensorReshapeSchema, "shape: [2, 2]");
  assertEquals(reshape.$typeName, "inference.ModelTensorReshape");
  assertEquals(reshape.shape, [2n, 2n]);
  assertEquals(
    parseError("dims: [1] nope: 1", ModelInputSchema).message,
    'config.pbtxt:1:11: unknown field "nope" in inference.ModelInput',
  );
});

Deno.test("TextFormatError carries file, line, column and reason", () => {
  const error = parseError('name: "x"\n  max_batch: 8');
  assertInstanceOf(error, Error);
  assertEquals(error.name, "TextFormatError");
  assertEquals(error.file, "config.pbtxt");
  assertEquals(error.line, 2);
  assertEquals(error.column, 3);
  assertEquals(
    error.reason,
    'unknown field "max_batch" in inference.ModelConfig',
  );
  assertEquals(
    error.message,
    'config.pbtxt:2:3: unknown field "max_batch" in inference.ModelConfig',
  );
  try {
    parseTextFormat(ModelConfigSchema, "}");
  } catch (e) {
    assertInstanceOf(e, TextFormatError);
    assertEquals(e.file, "<input>");
    assertEquals(e.message, '<input>:1:1: unexpected "}", expected field name');
  }
});

Deno.test("parseTextFormat() error: unknown field", () => {
  assertParseError(
    'name: "add_sub"\nmax_batch: 8',
    'config.pbtxt:2:1: unknown field "max_batch" in inference.ModelConfig',
  );
  assertParseError(
    'input [\n  {\n    name: "INPUT0"\n    dim: [4]\n  }\n]',
    'config.pbtxt:4:5: unknown field "dim" in inference.ModelInput',
  );
  assertParseError(
    'parameters { key: "a" val { string_value: "b" } }',
    'config.pbtxt:1:23: unknown field "val" in inference.ModelConfig.ParametersEntry',
  );
  // Field names are proto names; the JSON name is not accepted.
  assertParseError(
    "maxBatchSize: 8",
    'config.pbtxt:1:1: unknown field "maxBatchSize" in inference.ModelConfig',
  );
});

Deno.test("parseTextFormat() error: bad enum value", () => {
  assertParseError(
    'input {\n  name: "INPUT0"\n  data_type: TYPE_FP33\n}',
    'config.pbtxt:3:14: invalid value for enum field "data_type" in inference.ModelInput: "TYPE_FP33" is not a value of inference.DataType',
  );
  assertParseError(
    'instance_group [{ kind: "KIND_CPU" }]',
    'config.pbtxt:1:25: invalid value for enum field "kind" in inference.ModelInstanceGroup: expected inference.ModelInstanceGroup.Kind value name or number, found string "KIND_CPU"',
  );
  assertParseError(
    "input { data_type: 4294967296 }",
    'config.pbtxt:1:20: invalid value for enum field "data_type" in inference.ModelInput: 4294967296 is out of range',
  );
});

Deno.test("parseTextFormat() error: type mismatch", () => {
  assertParseError(
    'max_batch_size: "8"',
    'config.pbtxt:1:17: invalid value for int32 field "max_batch_size" in inference.ModelConfig: expected integer, found string "8"',
  );
  assertParseError(
    "max_batch_size: 1.5",
    'config.pbtxt:1:17: invalid value for int32 field "max_batch_size" in inference.ModelConfig: expected integer, found number 1.5',
  );
  assertParseError(
    "max_batch_size: 2147483648",
    'config.pbtxt:1:17: invalid value for int32 field "max_batch_size" in inference.ModelConfig: 2147483648 is out of range',
  );
  assertParseError(
    "instance_group { gpus: [0, -\n 2147483649] }",
    'config.pbtxt:1:28: invalid value for int32 field "gpus" in inference.ModelInstanceGroup: -2147483649 is out of range',
  );
  assertParseError(
    "dynamic_batching { max_queue_delay_microseconds: -1 }",
    'config.pbtxt:1:50: invalid value for uint64 field "max_queue_delay_microseconds" in inference.ModelDynamicBatching: -1 is out of range',
  );
  assertParseError(
    "input { dims: 09 }",
    'config.pbtxt:1:15: invalid value for int64 field "dims" in inference.ModelInput: invalid octal number 09',
  );
  assertParseError(
    "name: 12",
    'config.pbtxt:1:7: invalid value for string field "name" in inference.ModelConfig: expected string, found number 12',
  );
  assertParseError(
    'name: "\\xff"',
    'config.pbtxt:1:7: invalid value for string field "name" in inference.ModelConfig: not valid UTF-8',
  );
  assertParseError(
    "response_cache { enable: yes }",
    'config.pbtxt:1:26: invalid value for bool field "enable" in inference.ModelResponseCache: expected true or false, found identifier "yes"',
  );
  assertParseError(
    "sequence_batching { direct { minimum_slot_utilization: high } }",
    'config.pbtxt:1:56: invalid value for float field "minimum_slot_utilization" in inference.ModelSequenceBatching.StrategyDirect: expected number, found identifier "high"',
  );
  assertParseError(
    "sequence_batching { direct { minimum_slot_utilization: 1e39 } }",
    'config.pbtxt:1:56: invalid value for float field "minimum_slot_utilization" in inference.ModelSequenceBatching.StrategyDirect: 1e39 is out of range',
  );
  assertParseError(
    'response_cache: "on"',
    'config.pbtxt:1:17: unexpected string "on", expected "{" to open message field "response_cache" in inference.ModelConfig',
  );
  assertParseError(
    "max_batch_size: [8]",
    'config.pbtxt:1:17: unexpected "[": field "max_batch_size" in inference.ModelConfig is not repeated',
  );
});

Deno.test("parseTextFormat() error: unterminated string", () => {
  assertParseError(
    'name: "add_sub\nmax_batch_size: 8',
    "config.pbtxt:1:7: unterminated string",
  );
  assertParseError(
    "input { name: 'INPUT0",
    "config.pbtxt:1:15: unterminated string",
  );
  assertParseError(
    'name: "trailing backslash\\',
    "config.pbtxt:1:7: unterminated string",
  );
});

Deno.test("parseTextFormat() error: bad tokens inside strings and numbers", () => {
  assertParseError(
    'name: "a\\qb"',
    'config.pbtxt:1:9: invalid escape sequence "\\q"',
  );
  assertParseError(
    'name: "\\x"',
    'config.pbtxt:1:8: invalid escape sequence "\\x"',
  );
  assertParseError(
    'name: "\\u12"',
    'config.pbtxt:1:8: invalid Unicode escape "\\u12"',
  );
  assertParseError(
    'name: "\\ud800"',
    'config.pbtxt:1:8: invalid Unicode escape "\\ud800"',
  );
  assertParseError(
    'name: "\\777"',
    'config.pbtxt:1:8: octal escape "\\777" exceeds 0xff',
  );
  assertParseError(
    "max_batch_size: 12abc",
    'config.pbtxt:1:17: invalid number "12abc"',
  );
  assertParseError(
    "name: @",
    'config.pbtxt:1:7: unexpected character "@"',
  );
  // Columns count code points, so an astral character is one column.
  assertParseError(
    'name: "😀" @',
    'config.pbtxt:1:11: unexpected character "@"',
  );
});

Deno.test("parseTextFormat() error: unexpected token", () => {
  assertParseError(
    'name: "add_sub" }',
    'config.pbtxt:1:17: unexpected "}", expected field name',
  );
  assertParseError(
    "max_batch_size 8",
    'config.pbtxt:1:16: unexpected number 8, expected ":" after field "max_batch_size" in inference.ModelConfig',
  );
  assertParseError(
    "input { name: }",
    'config.pbtxt:1:15: invalid value for string field "name" in inference.ModelInput: expected string, found "}"',
  );
  assertParseError(
    "input { dims: [1 2] }",
    'config.pbtxt:1:18: unexpected number 2, expected "," or "]"',
  );
  assertParseError(
    "input { dims: [1,] }",
    'config.pbtxt:1:18: invalid value for int64 field "dims" in inference.ModelInput: expected integer, found "]"',
  );
  assertParseError(
    'input { name: "a" >',
    'config.pbtxt:1:19: unexpected ">", expected field name or "}"',
  );
  assertParseError(
    "input { 5 }",
    'config.pbtxt:1:9: unexpected number 5, expected field name or "}"',
  );
  assertParseError(
    'parameters { "k" }',
    'config.pbtxt:1:14: unexpected string "k", expected "key", "value" or "}"',
  );
  assertParseError(
    "[ext.field]: 1",
    "config.pbtxt:1:1: extension and Any fields ([...] names) are not supported",
  );
});

Deno.test("parseTextFormat() error: missing closing brace", () => {
  assertParseError(
    "dynamic_batching {\n  max_queue_delay_microseconds: 100\n",
    'config.pbtxt:3:1: missing closing "}" for field "dynamic_batching" opened at 1:18',
  );
  assertParseError(
    'input [\n  {\n    name: "INPUT0"\n  }',
    'config.pbtxt:4:4: missing closing "]" for list opened at 1:7',
  );
  assertParseError(
    "input < name: 'x'",
    'config.pbtxt:1:18: missing closing ">" for field "input" opened at 1:7',
  );
  assertParseError(
    'parameters { key: "a"',
    'config.pbtxt:1:22: missing closing "}" for field "parameters" opened at 1:12',
  );
});

Deno.test("parseTextFormat() error: duplicate non-repeated field", () => {
  assertParseError(
    "max_batch_size: 8\nmax_batch_size: 16",
    'config.pbtxt:2:1: field "max_batch_size" specified more than once in inference.ModelConfig',
  );
  assertParseError(
    "response_cache { enable: true }\nresponse_cache { enable: false }",
    'config.pbtxt:2:1: field "response_cache" specified more than once in inference.ModelConfig',
  );
  assertParseError(
    'input { name: "a" data_type: TYPE_FP32 name: "b" }',
    'config.pbtxt:1:40: field "name" specified more than once in inference.ModelInput',
  );
  assertParseError(
    'parameters { key: "a" key: "b" }',
    'config.pbtxt:1:23: field "key" specified more than once in inference.ModelConfig.ParametersEntry',
  );
  assertParseError(
    "dynamic_batching { }\nsequence_batching { }",
    'config.pbtxt:2:1: field "sequence_batching" conflicts with "dynamic_batching" in inference.ModelConfig: both are in oneof "scheduling_choice"',
  );
  // The same field in two different messages is not a duplicate.
  const config = parseTextFormat(
    ModelConfigSchema,
    'input { name: "a" } input { name: "b" }',
  );
  assertEquals(config.input.length, 2);
});

Deno.test("parseTextFormat() rejects absurd nesting instead of overflowing the stack", () => {
  // google.protobuf.ListValue is recursive (ListValue -> Value -> ListValue),
  // which none of the model configuration messages are.
  const level = "values { list_value { ";
  const ok = parseTextFormat(
    ListValueSchema,
    level.repeat(10) + "} }".repeat(10),
  );
  assertEquals(ok.values.length, 1);
  const error = parseError(level.repeat(60), ListValueSchema);
  // The 101st message is the 51st `values {`.
  assertEquals(error.line, 1);
  assertEquals(error.column, 50 * level.length + "values ".length + 1);
  assertEquals(error.reason, "messages nested deeper than 100 levels");
});

Deno.test("parseTextFormat() reads every config.pbtxt of the repository as protobuf-es's fromText does", async () => {
  const { fromText } = await import("npm:@bufbuild/protobuf@2.17.0/txtpb");
  const { equals } = await import("npm:@bufbuild/protobuf@2.17.0");
  const { ModelConfigSchema } = await import("./model_config_pb.ts");
  const root = new URL("../../", import.meta.url);
  let compared = 0;
  for (const dir of ["models/", "tests/fixtures/"]) {
    for (const entry of Deno.readDirSync(new URL(dir, root))) {
      const file = new URL(`${dir}${entry.name}/config.pbtxt`, root);
      let text: string;
      try {
        text = Deno.readTextFileSync(file);
      } catch {
        continue; // no config.pbtxt (auto-completed models)
      }
      let theirs;
      try {
        theirs = fromText(ModelConfigSchema, text);
      } catch (error) {
        // Then ours must refuse it too, and say where.
        let ours: unknown;
        try {
          parseTextFormat(ModelConfigSchema, text, "config.pbtxt");
        } catch (caught) {
          ours = caught;
        }
        assertInstanceOf(ours, TextFormatError, `${dir}${entry.name}: ${error}`);
        continue;
      }
      const ours = parseTextFormat(ModelConfigSchema, text, "config.pbtxt");
      assert(equals(ModelConfigSchema, ours, theirs), `${dir}${entry.name} decodes differently`);
      compared++;
    }
  }
  assert(compared >= 20, `only ${compared} configurations compared`);
});

Deno.test("parseTextFormat() refuses a repeated singular field, as protobuf-es's fromText does", async () => {
  const { fromText } = await import("npm:@bufbuild/protobuf@2.17.0/txtpb");
  const { ModelConfigSchema } = await import("./model_config_pb.ts");
  const text = 'name: "a"\nname: "b"';
  let theirs = "";
  try {
    fromText(ModelConfigSchema, text);
  } catch (error) {
    theirs = String(error);
  }
  assert(theirs.includes("repeated"), `fromText accepted it: ${theirs}`);
  try {
    parseTextFormat(ModelConfigSchema, text, "config.pbtxt");
  } catch (error) {
    assertInstanceOf(error, TextFormatError);
    assert(error.message.startsWith("config.pbtxt:2:"), error.message);
    return;
  }
  throw new Error("parseTextFormat accepted a repeated singular field");
});
