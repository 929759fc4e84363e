import { assertEquals } from "./_test_assert.ts";
import { isDenoModel, namedInstead, refusedModelText } from "./deno_model.ts";

Deno.test('deno model: backend "deno" decides, whatever the platform', () => {
  assertEquals(isDenoModel({ backend: "deno", platform: "" }), true);
  assertEquals(isDenoModel({ backend: "deno", platform: "ensemble" }), true);
  assertEquals(isDenoModel({ backend: "", platform: "" }), false);
  assertEquals(isDenoModel({ backend: "python", platform: "" }), false);
});

Deno.test("deno model: the refusal names what the configuration names instead", () => {
  assertEquals(namedInstead({ backend: "python", platform: "ensemble" }), "backend 'python'");
  assertEquals(namedInstead({ backend: "deno", platform: "ensemble" }), "platform 'ensemble'");
  assertEquals(
    namedInstead({ backend: "", platform: "onnxruntime_onnx" }),
    "platform 'onnxruntime_onnx'",
  );
  assertEquals(namedInstead({ backend: "", platform: "" }), "no backend");
  assertEquals(
    refusedModelText("m", { backend: "python", platform: "" }, "X accepts Y"),
    "model 'm' is refused: its configuration names backend 'python'; X accepts Y",
  );
});
