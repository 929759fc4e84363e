import { parseModelConfigText } from "../model_config/mod.ts";
import { assertEquals, assertThrows } from "./_test_assert.ts";
import { checkStepModels, ensemblePlan, neededSteps, reshapeForBatching } from "./ensemble_plan.ts";
import { modelSignature } from "./model_signature.ts";

function ensemble(steps: string, extra = "") {
  return parseModelConfigText(`
    name: "ens" platform: "ensemble" ${extra}
    input [{ name: "A" data_type: TYPE_FP32 dims: [4] }, { name: "B" data_type: TYPE_FP32 dims: [4] }]
    output [{ name: "OUT" data_type: TYPE_FP32 dims: [4] }]
    ensemble_scheduling { ${steps} }`);
}

const step = (model: string, inputs: Record<string, string>, outputs: Record<string, string>) =>
  `step [{ model_name: "${model}" model_version: -1 ${
    Object.entries(inputs).map(([k, v]) => `input_map { key: "${k}" value: "${v}" }`).join(" ")
  } ${
    Object.entries(outputs).map(([k, v]) => `output_map { key: "${k}" value: "${v}" }`).join(" ")
  } }]`;

Deno.test("ensemble_plan: steps, versions and the data flow", () => {
  const plan = ensemblePlan(ensemble(
    step("add_sub", { INPUT0: "A", INPUT1: "B" }, { OUTPUT0: "sum", OUTPUT1: "diff" }) +
      step("add_sub", { INPUT0: "sum", INPUT1: "diff" }, { OUTPUT0: "OUT", OUTPUT1: "unused" }),
  ));
  assertEquals(plan.steps.map((s) => [s.number, s.modelName, s.modelVersion]), [
    [1, "add_sub", undefined],
    [2, "add_sub", undefined],
  ]);
  assertEquals([...neededSteps(plan, ["OUT"])].map((s) => s.number), [2, 1]);
  assertEquals([...neededSteps(plan, ["sum"])].map((s) => s.number), [1]);
});

Deno.test("ensemble_plan: invalid data flows name the step and tensor", () => {
  const cases: [string, string, string][] = [
    ["", "", "must have at least one step"],
    [step("m", { X: "A" }, { Y: "OUT" }), "not-ensemble", "whose platform is not ensemble"],
    [step("m", { X: "nowhere" }, { Y: "OUT" }), "", "reads tensor 'nowhere'"],
    [step("m", { X: "A" }, { Y: "t" }), "", "no step produces ensemble output 'OUT'"],
    [
      step("m", { X: "A" }, { Y: "OUT" }) + step("n", { X: "B" }, { Y: "OUT" }),
      "",
      "tensor 'OUT' is written by step 1 (model 'm') and step 2 (model 'n')",
    ],
    [step("m", { X: "A" }, { Y: "B" }), "", "writes ensemble input 'B'"],
    [
      step("m", { X: "A", Z: "t2" }, { Y: "t1" }) + step("n", { X: "t1" }, { Y: "t2", W: "OUT" }),
      "",
      "step 1 (model 'm') can never run",
    ],
  ];
  for (const [steps, variant, message] of cases) {
    const config = ensemble(steps);
    if (variant === "not-ensemble") config.platform = "deno";
    assertThrows(() => ensemblePlan(config), Error, message);
  }
});

Deno.test("ensemble_plan: step models are checked for names and datatypes", () => {
  const config = ensemble(step("m", { X: "A" }, { Y: "OUT" }));
  const plan = ensemblePlan(config);
  const model = (type: string, decoupled = false) =>
    modelSignature(parseModelConfigText(`name: "m"
      input [{ name: "X" data_type: TYPE_FP32 dims: [4] }]
      output [{ name: "Y" data_type: ${type} dims: [4] }]
      model_transaction_policy { decoupled: ${decoupled} }`));
  checkStepModels(plan, modelSignature(config), () => model("TYPE_FP32"));
  assertThrows(
    () => checkStepModels(plan, modelSignature(config), () => model("TYPE_INT32")),
    Error,
    "ensemble tensor 'OUT': inconsistent data type: FP32 is inferred from ensemble 'ens' while " +
      "INT32 is inferred from model 'm'",
  );
  assertThrows(
    () => checkStepModels(plan, modelSignature(config), () => model("TYPE_FP32", true)),
    Error,
    "is decoupled",
  );
  const renamed = ensemblePlan(ensemble(step("m", { Q: "A" }, { Y: "OUT" })));
  assertThrows(
    () => checkStepModels(renamed, modelSignature(config), () => model("TYPE_FP32")),
    Error,
    "model 'm' has no input 'Q'",
  );
});

Deno.test("ensemble_plan: reshapeForBatching follows Triton's ReshapeTensorDims", () => {
  assertEquals(reshapeForBatching([4], true, 0, [4]), [1, 4]); // Gains a batch of 1.
  assertEquals(reshapeForBatching([4], true, 0, [2, 4]), [2, 4]); // Already batched.
  assertEquals(reshapeForBatching([4], false, 1, [1, 4]), [4]); // Loses the batch of 1.
  assertEquals(reshapeForBatching([1, 4], false, 1, [1, 4]), [1, 4]); // Fits as is.
  assertEquals(reshapeForBatching([4], true, 3, [3, 4]), [3, 4]); // Both batch: unchanged.
});
