import { parseModelConfigText } from "../model_config/mod.ts";
import { assertEquals, assertThrows } from "./_test_assert.ts";
import { bytesData, heldOutput } from "./_test_fakes.ts";
import { ServeError } from "./errors.ts";
import { fitShape, generateResponseText, parseGenerateRequest, sseEvent } from "./generate.ts";
import { modelSignature } from "./model_signature.ts";

const encoder = new TextEncoder();

Deno.test("generate: fitShape spreads the elements as Triton's generate conversion does", () => {
  assertEquals(fitShape([-1], 3, "X"), [3]);
  assertEquals(fitShape([-1, -1], 3, "X"), [1, 3]); // The innermost variable dim takes them.
  assertEquals(fitShape([-1, 2], 6, "X"), [3, 2]);
  assertEquals(fitShape([1], 1, "X"), [1]);
  assertThrows(
    () => fitShape([4], 3, "X"),
    ServeError,
    "The schema can not convert input 'X' to tensor with proper shape",
  );
  assertThrows(() => fitShape([2], 4, "X"), ServeError, "proper shape");
});

Deno.test("generate: a request maps inputs and parameters; id is also a parameter", () => {
  const signature = modelSignature(parseModelConfigText(`name: "m"
    input [{ name: "text_input" data_type: TYPE_STRING dims: [1] },
           { name: "max_tokens" data_type: TYPE_INT32 dims: [1] optional: true }]`));
  const request = parseGenerateRequest(
    signature,
    encoder.encode(
      '{"id": "r1", "text_input": "hello", "parameters": ' +
        '{"max_tokens": 8, "temperature": 0.1, "stream": false, "big": 9007199254740993}}',
    ),
  );
  assertEquals(request.id, "r1");
  assertEquals(request.inputs.map((input) => [input.name, input.datatype, input.shape]), [
    ["text_input", "BYTES", [1]],
    ["max_tokens", "INT32", [1]],
  ]);
  assertEquals([...request.parameters], [
    ["id", "r1"],
    ["temperature", 0.1],
    ["stream", false],
    ["big", 9007199254740993n],
  ]);
  assertThrows(
    () => parseGenerateRequest(signature, encoder.encode('{"id": 7}')),
    ServeError,
    "Unable to parse 'id'",
  );
});

Deno.test("generate: response text is flat, byte-ordered, scalars for single elements", () => {
  const text = generateResponseText({ id: "7", model: "m", version: 2 }, {
    ok: true,
    outputs: [
      heldOutput("text_output", "BYTES", [1], bytesData(["hi"])),
      heldOutput("Z", "INT32", [2], new Uint8Array(new Int32Array([1, 2]).buffer)),
      heldOutput("model_name", "BYTES", [1], bytesData(["shadowed"])),
    ],
    parameters: { count: 3n, ratio: 0.5 },
  });
  assertEquals(
    text,
    '{"Z":[1,2],"count":3,"id":"7","model_name":"m","model_version":"2","ratio":0.5,' +
      '"text_output":"hi"}',
  );
  assertEquals(
    generateResponseText({ id: "", model: "m", version: 1 }, {
      ok: false,
      code: 3,
      message: "no",
    }),
    '{"error":"no"}',
  );
  const fp16 = generateResponseText({ id: "", model: "m", version: 1 }, {
    ok: true,
    outputs: [heldOutput("H", "FP16", [1], new Uint8Array(2))],
    parameters: {},
  });
  assertEquals(JSON.parse(fp16).error.includes("FP16"), true);
  assertEquals(new TextDecoder().decode(sseEvent('{"a":1}')), 'data: {"a":1}\n\n');
});
