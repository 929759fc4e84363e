import { parseModelConfigText } from "../model_config/mod.ts";
import { assertEquals, assertThrows } from "./_test_assert.ts";
import { readStrings } from "./_test_fakes.ts";
import { controlInputs, sequenceControls } from "./sequence_controls.ts";

const CONFIG = `
name: "acc"
max_batch_size: 4
input [{ name: "INPUT0" data_type: TYPE_INT32 dims: [1] }]
sequence_batching {
  control_input [
    { name: "START" control [{ kind: CONTROL_SEQUENCE_START int32_false_true: [0, 1] }] },
    { name: "END" control [{ kind: CONTROL_SEQUENCE_END fp32_false_true: [-1.5, 2.5] }] },
    { name: "READY" control [{ kind: CONTROL_SEQUENCE_READY bool_false_true: [false, true] }] },
    { name: "CORRID" control [{ kind: CONTROL_SEQUENCE_CORRID data_type: TYPE_UINT64 }] }
  ]
}`;

Deno.test("sequence_controls: START, END, READY and CORRID with the config's values", () => {
  const controls = sequenceControls(parseModelConfigText(CONFIG));
  assertEquals(controls.booleans.map((c) => [c.name, c.kind, c.datatype]), [
    ["START", "START", "INT32"],
    ["END", "END", "FP32"],
    ["READY", "READY", "BOOL"],
  ]);
  assertEquals(controls.correlationId, { name: "CORRID", datatype: "UINT64" });

  const start = controlInputs(controls, { flags: 1, correlationId: 42n }, true);
  if (typeof start === "string") throw new Error(start);
  assertEquals(start.map((input) => input.shape), [[1, 1], [1, 1], [1, 1], [1, 1]]);
  assertEquals([...new Int32Array(start[0].data.slice().buffer)], [1]);
  assertEquals([...new Float32Array(start[1].data.slice().buffer)], [-1.5]);
  assertEquals([...start[2].data], [1]);
  assertEquals([...new BigUint64Array(start[3].data.slice().buffer)], [42n]);

  const end = controlInputs(controls, { flags: 2, correlationId: 42n }, false);
  if (typeof end === "string") throw new Error(end);
  assertEquals(end[0].shape, [1]);
  assertEquals([...new Int32Array(end[0].data.slice().buffer)], [0]);
  assertEquals([...new Float32Array(end[1].data.slice().buffer)], [2.5]);
});

Deno.test("sequence_controls: CORRID as string, 32-bit, and a string id for a numeric CORRID", () => {
  const text = (type: string) =>
    parseModelConfigText(`name: "m" sequence_batching { control_input [{ name: "C" control [{
      kind: CONTROL_SEQUENCE_CORRID data_type: ${type} }] }] }`);
  const asString = controlInputs(sequenceControls(text("TYPE_STRING")), {
    flags: 0,
    correlationId: "abc",
  }, false);
  if (typeof asString === "string") throw new Error(asString);
  assertEquals(asString[0].datatype, "BYTES");
  assertEquals(readStrings(asString[0].data), ["abc"]);
  const numericAsString = controlInputs(sequenceControls(text("TYPE_STRING")), {
    flags: 0,
    correlationId: 17n,
  }, false);
  if (typeof numericAsString === "string") throw new Error(numericAsString);
  assertEquals(readStrings(numericAsString[0].data), ["17"]);
  const narrow = controlInputs(sequenceControls(text("TYPE_INT32")), {
    flags: 0,
    correlationId: 7n,
  }, false);
  if (typeof narrow === "string") throw new Error(narrow);
  assertEquals([...new Int32Array(narrow[0].data.slice().buffer)], [7]);
  const refused = controlInputs(sequenceControls(text("TYPE_UINT64")), {
    flags: 0,
    correlationId: "abc",
  }, false);
  assertEquals(
    refused,
    "sequence id 'abc' is a string, but the CORRID control input 'C' is UINT64",
  );
});

Deno.test("sequence_controls: invalid control inputs name the problem", () => {
  const cases: [string, string][] = [
    [
      `control_input [{ name: "S" control [{ kind: CONTROL_SEQUENCE_START }] }]`,
      "needs exactly one of int32_false_true, fp32_false_true, bool_false_true",
    ],
    [
      `control_input [{ name: "S" control [{ kind: CONTROL_SEQUENCE_START int32_false_true: [1] }] }]`,
      "int32_false_true must hold 2 values",
    ],
    [
      `control_input [{ name: "A" control [{ kind: CONTROL_SEQUENCE_READY int32_false_true: [0, 1] }] },
                      { name: "B" control [{ kind: CONTROL_SEQUENCE_READY int32_false_true: [0, 1] }] }]`,
      "more than one CONTROL_SEQUENCE_READY control",
    ],
    [
      `control_input [{ name: "C" control [{ kind: CONTROL_SEQUENCE_CORRID data_type: TYPE_FP32 }] }]`,
      "needs data_type TYPE_UINT64",
    ],
    [
      `control_input [{ name: "X" control [{ kind: CONTROL_SEQUENCE_START int32_false_true: [0, 1] }] }]`,
      "has the name of a model input",
    ],
  ];
  for (const [controls, message] of cases) {
    const config = parseModelConfigText(
      `name: "m" input [{ name: "X" data_type: TYPE_INT32 dims: [1] }] sequence_batching { ${controls} }`,
    );
    assertThrows(() => sequenceControls(config), Error, message);
  }
});
