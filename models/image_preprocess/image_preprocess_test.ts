import { ErrorCode, TritonError } from "@triton/deno";
import { modelConfigToTritonJson } from "../../runtime/model_config/mod.ts";
import { assert, assertEquals, assertThrows } from "../../runtime/api/_test_assert.ts";
import { checkResponse, makeInitializeArgs } from "../../runtime/api/internal.ts";
import { loadTestModelConfig, TestArena, testRequest } from "../../runtime/api/test_support.ts";
import ImagePreprocess from "./1/model.ts";

const modelDirectory = new URL("./", import.meta.url);
const { config, args } = await loadTestModelConfig(modelDirectory);
const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

Deno.test("image_preprocess turns HWC bytes into normalized CHW floats", () => {
  const model = new ImagePreprocess();
  model.initialize(args);
  const [height, width] = [5, 7];
  const pixels = Uint8Array.from({ length: height * width * 3 }, (_, i) => (i * 37) % 256);
  pixels.set([0, 128, 255], 0); // the first pixel: known values in each channel
  const arena = new TestArena();
  const request = testRequest(arena, [arena.input("IMAGE", "UINT8", [height, width, 3], pixels)]);
  const [response] = model.execute([request]);
  assert(checkResponse(response, config, []).ok);
  const [output] = response.outputs;
  assertEquals(output.name, "NORMALIZED");
  assertEquals(output.shape, [3, height, width]);
  assert(output.data.buffer === arena.buffer);
  const planes = output.data as Float32Array;

  // First pixel, worked by hand: (0/255 - 0.485)/0.229, (128/255 - 0.456)/0.224, (1 - 0.406)/0.225.
  const plane = height * width;
  assertEquals(planes[0], Math.fround(-2.1179039301310043));
  assertEquals(planes[plane], Math.fround(0.2051820728291316));
  assertEquals(planes[2 * plane], Math.fround(2.6399999999999997));

  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        const value = pixels[(y * width + x) * 3 + c];
        const expected = Math.fround((value / 255 - MEAN[c]) / STD[c]);
        assertEquals(planes[c * plane + y * width + x], expected, `c=${c} y=${y} x=${x}`);
      }
    }
  }
});

Deno.test("image_preprocess rejects images that are not [height, width, 3]", () => {
  const model = new ImagePreprocess();
  model.initialize(args);
  const arena = new TestArena();
  const request = testRequest(arena, [
    arena.input("IMAGE", "UINT8", [2, 2, 4], new Uint8Array(16)),
  ]);
  assertEquals(checkResponse(model.execute([request])[0], config, []), {
    ok: false,
    code: ErrorCode.INVALID_ARG,
    message: "IMAGE must have shape [height, width, 3], got [2,2,4]",
  });
});

Deno.test("image_preprocess checks its mean and std parameters when it loads", () => {
  const cases: [Record<string, string | undefined>, string][] = [
    [{ mean: undefined }, "config.pbtxt must set parameter 'mean' to 3 comma-separated numbers"],
    [
      { mean: "0.5,0.5" },
      "config.pbtxt parameter 'mean' must be 3 comma-separated numbers (one per channel: R, G, B), " +
      'got "0.5,0.5"',
    ],
    [{ std: "a,b,c" }, "config.pbtxt parameter 'std' must be 3 comma-separated numbers"],
    [{ std: "1,,1" }, "config.pbtxt parameter 'std' must be 3 comma-separated numbers"],
    [
      { std: "0.2,0,0.2" },
      "config.pbtxt parameter 'std' must be positive for every channel, got 0 for channel 1",
    ],
  ];
  for (const [changes, message] of cases) {
    const changed = structuredClone(config);
    for (const [key, value] of Object.entries(changes)) {
      if (value === undefined) delete changed.parameters[key];
      else changed.parameters[key] = { ...changed.parameters[key], stringValue: value };
    }
    const changedArgs = makeInitializeArgs({
      ...args,
      modelConfigJson: modelConfigToTritonJson(changed),
    });
    const error = assertThrows(
      () => new ImagePreprocess().initialize(changedArgs),
      TritonError,
      message,
    );
    assertEquals(error.code, ErrorCode.INVALID_ARG);
  }
});
