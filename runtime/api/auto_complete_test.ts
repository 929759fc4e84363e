import { assert, assertEquals, assertThrows } from "./_test_assert.ts";
import { modelConfigFromTritonJson } from "../model_config/mod.ts";
import { AutoCompleteConfig, type ModelConfigJson } from "./auto_complete.ts";
import { ErrorCode, TritonError } from "./error.ts";
import { makeAutoCompleteConfig } from "./internal.ts";
import { MAX_RANK } from "./limits.ts";

const base = (extra: ModelConfigJson = {}): AutoCompleteConfig =>
  new AutoCompleteConfig({ name: "m", max_batch_size: 0, input: [], output: [], ...extra });

function fails(action: () => void, message: string): void {
  const error = assertThrows(action, TritonError, message);
  assertEquals(error.code, ErrorCode.INVALID_ARG);
}

Deno.test("an empty configuration is completed into Triton's JSON form", () => {
  const config = makeAutoCompleteConfig('{"name":"m","backend":"deno","some_future_field":[1]}');
  config.setMaxBatchSize(8);
  config.setDynamicBatching();
  config.addInput({ name: "INPUT0", dataType: "FP32", dims: [-1, 4] });
  config.addInput({ name: "TEXT", dataType: "BYTES", dims: [1], optional: true });
  config.addOutput({ name: "OUTPUT0", dataType: "TYPE_INT64", dims: [4] });
  config.setModelTransactionPolicy({ decoupled: true });
  assertEquals(config.config, {
    name: "m",
    backend: "deno",
    some_future_field: [1],
    max_batch_size: 8,
    input: [
      { name: "INPUT0", data_type: "TYPE_FP32", dims: [-1, 4] },
      { name: "TEXT", data_type: "TYPE_STRING", dims: [1], optional: true },
    ],
    output: [{ name: "OUTPUT0", data_type: "TYPE_INT64", dims: [4] }],
    dynamic_batching: {},
    model_transaction_policy: { decoupled: true },
  });
  // What it produces decodes as a model configuration.
  const decoded = modelConfigFromTritonJson(JSON.stringify(config.config));
  assertEquals(decoded.maxBatchSize, 8);
  assertEquals(decoded.input[1].optional, true);
  assertEquals(decoded.modelTransactionPolicy?.decoupled, true);
  assertEquals(decoded.schedulingChoice.case, "dynamicBatching");
});

Deno.test("config is a copy; the constructor copies its argument", () => {
  const source: ModelConfigJson = { name: "m", input: [] };
  const config = new AutoCompleteConfig(source);
  config.addInput({ name: "X", dataType: "FP32", dims: [1] });
  assertEquals(source.input, []);
  const view = config.config;
  view.max_batch_size = 99;
  view.input?.push({ name: "Y" });
  assertEquals(config.config.max_batch_size, 0);
  assertEquals(config.config.input?.length, 1);
});

Deno.test("setMaxBatchSize may raise a configured value, never lower it (as python_backend)", () => {
  const config = base({ max_batch_size: 4 });
  config.setMaxBatchSize(4);
  config.setMaxBatchSize(16);
  assertEquals(config.config.max_batch_size, 16);
  fails(
    () => config.setMaxBatchSize(2),
    "configuration specified max_batch_size 16, but the auto-complete of model 'm' specified " +
      "max_batch_size 2",
  );
  for (const bad of [-1, 1.5, NaN, 2 ** 31, "8"]) {
    fails(
      () => config.setMaxBatchSize(bad as number),
      "model 'm': max_batch_size must be an integer in [0, 2147483647]",
    );
  }
  const zero = base();
  zero.setMaxBatchSize(0);
  assertEquals(zero.config.max_batch_size, 0);
});

Deno.test("setDynamicBatching keeps an existing one and refuses other schedulers", () => {
  const existing = base({ dynamic_batching: { preferred_batch_size: [4] } });
  existing.setDynamicBatching();
  assertEquals(existing.config.dynamic_batching, { preferred_batch_size: [4] });
  fails(
    () => base({ sequence_batching: {} }).setDynamicBatching(),
    "configuration specified scheduling_choice as 'sequence_batching', but the auto-complete " +
      "of model 'm' tries to set it to 'dynamic_batching'",
  );
  fails(
    () => base({ ensemble_scheduling: { step: [] } }).setDynamicBatching(),
    "scheduling_choice as 'ensemble_scheduling'",
  );
});

Deno.test("addInput completes a configured input and refuses contradictions", () => {
  const config = base({
    input: [
      { name: "A", data_type: "TYPE_FP32", dims: [4] },
      { name: "B", data_type: "TYPE_INVALID", dims: [] },
      { name: "C", data_type: "TYPE_INT32", dims: [2], optional: false },
    ],
  });
  config.addInput({ name: "A", dataType: "FP32", dims: [4] });
  config.addInput({ name: "B", dataType: "UINT8", dims: [3, 3] });
  config.addInput({ name: "C", dataType: "INT32", dims: [2], optional: false });
  assertEquals(config.config.input, [
    { name: "A", data_type: "TYPE_FP32", dims: [4] },
    { name: "B", data_type: "TYPE_UINT8", dims: [3, 3] },
    { name: "C", data_type: "TYPE_INT32", dims: [2], optional: false },
  ]);
  fails(
    () => config.addInput({ name: "A", dataType: "FP16", dims: [4] }),
    "model 'm': the configuration expects datatype TYPE_FP32 for input 'A', the model provides " +
      "TYPE_FP16",
  );
  fails(
    () => config.addInput({ name: "A", dataType: "FP32", dims: [5] }),
    "model 'm', tensor 'A': the model expects dims [5] but the model configuration specifies " +
      "dims [4]",
  );
  fails(
    () => config.addInput({ name: "A", dataType: "FP32", dims: [4, 1] }),
    "the model expects dims [4, 1]",
  );
  fails(
    () => config.addInput({ name: "C", dataType: "INT32", dims: [2], optional: true }),
    "model 'm', tensor 'C': the model expects optional true but the model configuration " +
      "specifies optional false",
  );
  // Nothing changed by the refused calls.
  assertEquals(config.config.input?.[0], { name: "A", data_type: "TYPE_FP32", dims: [4] });
});

Deno.test("addOutput completes a configured output and refuses contradictions", () => {
  const config = base({ output: [{ name: "Y", data_type: "TYPE_STRING", dims: [-1] }] });
  config.addOutput({ name: "Y", dataType: "BYTES", dims: [-1] });
  config.addOutput({ name: "Z", dataType: "BF16", dims: [2] });
  assertEquals(config.config.output, [
    { name: "Y", data_type: "TYPE_STRING", dims: [-1] },
    { name: "Z", data_type: "TYPE_BF16", dims: [2] },
  ]);
  fails(
    () => config.addOutput({ name: "Y", dataType: "FP32", dims: [-1] }),
    "the configuration expects datatype TYPE_STRING for output 'Y', the model provides TYPE_FP32",
  );
  fails(
    () => config.addOutput({ name: "Z", dataType: "BF16", dims: [3] }),
    "model 'm', tensor 'Z': the model expects dims [3]",
  );
  fails(
    () => config.addOutput({ name: "Q", dataType: "FP32", dims: [1], optional: true } as never),
    "model 'm', output 'Q': unknown property 'optional'; allowed: name, dataType, dims",
  );
});

Deno.test("tensor specs are checked", () => {
  const config = base();
  const cases: [unknown, string][] = [
    [null, "model 'm': addInput needs { name, dataType, dims }, got null"],
    [{ dataType: "FP32", dims: [1] }, "model 'm': an input needs a non-empty name, got undefined"],
    [
      { name: "X", dataType: "float", dims: [1] },
      `model 'm', input 'X': unknown dataType a string ("float"); use one of BOOL, UINT8`,
    ],
    [{ name: "X", dataType: "TYPE_BYTES", dims: [1] }, "unknown dataType"],
    [{ name: "X", dataType: "TYPE_FLOAT", dims: [1] }, "unknown dataType"],
    [{ name: "X", dataType: "FP32" }, "model 'm', input 'X': dims must be an array of integers"],
    [
      { name: "X", dataType: "FP32", dims: [0] },
      "model 'm', input 'X': dimension 0 must be a positive integer or -1, got a number (0)",
    ],
    [
      { name: "X", dataType: "FP32", dims: [2, -2] },
      "dimension 1 must be a positive integer or -1",
    ],
    [{ name: "X", dataType: "FP32", dims: [1.5] }, "dimension 0 must be a positive integer or -1"],
    [
      { name: "X", dataType: "FP32", dims: new Array(MAX_RANK + 1).fill(1) },
      `${MAX_RANK + 1} dims; the limit is ${MAX_RANK}`,
    ],
    [{ name: "X", dataType: "FP32", dims: [1], shape: [1] }, "unknown property 'shape'"],
    [{ name: "X", dataType: "FP32", dims: [1], optional: 1 }, "'optional' must be a boolean"],
  ];
  for (const [spec, message] of cases) fails(() => config.addInput(spec as never), message);
  assertEquals(config.config.input, []);
  config.addInput({ name: "S", dataType: "TYPE_STRING", dims: [] });
  assertEquals(config.config.input, [{ name: "S", data_type: "TYPE_STRING", dims: [] }]);
});

Deno.test("setModelTransactionPolicy sets decoupled once", () => {
  const config = base();
  config.setModelTransactionPolicy({});
  assertEquals(config.config.model_transaction_policy, {});
  config.setModelTransactionPolicy({ decoupled: false });
  config.setModelTransactionPolicy({ decoupled: false });
  fails(
    () => config.setModelTransactionPolicy({ decoupled: true }),
    "model 'm': cannot change 'decoupled' to true; the configuration already sets it to false",
  );
  fails(
    () => config.setModelTransactionPolicy({ decoupled: true, other: 1 } as never),
    "model 'm': the transaction policy may only have 'decoupled', got 'other'",
  );
  fails(
    () => config.setModelTransactionPolicy({ decoupled: "yes" } as never),
    `model 'm': 'decoupled' must be a boolean, got a string ("yes")`,
  );
  fails(() => config.setModelTransactionPolicy(true as never), "the transaction policy must be");
  const configured = base({ model_transaction_policy: { decoupled: true } });
  configured.setModelTransactionPolicy({ decoupled: true });
  assertEquals(configured.config.model_transaction_policy, { decoupled: true });
});

Deno.test("the constructor checks what it works on, and accepts int64 dims as strings", () => {
  const cases: [string | ModelConfigJson, string][] = [
    ["{", "the model configuration is not valid JSON"],
    ["[]", "the model configuration must be a JSON object, got an array"],
    ['"m"', "the model configuration must be a JSON object, got a string"],
    [{ max_batch_size: -1 }, "the configuration's max_batch_size must be a non-negative integer"],
    [{ input: {} as never }, "the configuration's 'input' must be an array, got an object"],
    [{ output: [{} as never] }, "the configuration's output 0 must be an object with a name"],
    [{ input: [{ name: "X", dims: ["a"] as never }] }, "input 'X' has dims that are not integers"],
    [{ input: [{ name: "X", dims: 3 as never }] }, "input 'X' has dims that are not integers"],
    [{ model_transaction_policy: true as never }, "model_transaction_policy must be an object"],
  ];
  for (const [config, message] of cases) fails(() => new AutoCompleteConfig(config), message);
  const fromProto = new AutoCompleteConfig(
    '{"input":[{"name":"X","data_type":"TYPE_FP32","dims":["4","-1"]}]}',
  );
  assertEquals(fromProto.config.input?.[0].dims, [4, -1]);
  fromProto.addInput({ name: "X", dataType: "FP32", dims: [4, -1] });
  const unnamed = new AutoCompleteConfig("{}");
  fails(() => unnamed.setMaxBatchSize(-1), "the model: max_batch_size must be");
  assert(unnamed.config.input !== undefined && unnamed.config.output !== undefined);
});
