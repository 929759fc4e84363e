import { assertEquals, assertStringIncludes, assertThrows } from "./_test_assert.ts";
import { ServeError } from "./errors.ts";
import {
  type ControlParameter,
  controlParametersFromGrpc,
  controlParametersFromJson,
  parseLoadRequest,
  parseUnloadRequest,
  requireExplicitControl,
} from "./repository_control.ts";

const CONFIG = JSON.stringify({ name: "m", backend: "deno" });
const text = (value: string): ControlParameter => ({ kind: "string", value });
const bytes = (value: string): ControlParameter => ({
  kind: "bytes",
  value: new TextEncoder().encode(value),
});

function refused(fn: () => unknown, status: number, message: string): void {
  const error = assertThrows(fn, ServeError);
  assertEquals(error.status, status, error.message);
  assertStringIncludes(error.message, message);
}

Deno.test("repository control: load and unload only in explicit mode, with Triton's 503", () => {
  requireExplicitControl("explicit");
  for (const mode of ["none", "poll"] as const) {
    refused(
      () => requireExplicitControl(mode),
      503,
      "explicit model load / unload is not allowed if polling is enabled",
    );
  }
});

Deno.test("repository control: a load with config and files", () => {
  const request = parseLoadRequest("m", {
    config: text(CONFIG),
    "file:1/model.ts": bytes("export default {};"),
    "file:1/lib/util.ts": bytes(""),
  }, "http");
  assertEquals(request.config?.backend, "deno");
  assertEquals(request.files.map((file) => file.path), ["1/model.ts", "1/lib/util.ts"]);
  assertEquals(new TextDecoder().decode(request.files[0].bytes), "export default {};");
  assertEquals(parseLoadRequest("m", {}, "grpc"), {
    config: undefined,
    files: [],
  });
});

Deno.test("repository control: files need a config naming this backend", () => {
  const file = { "file:1/model.ts": bytes("x") };
  refused(
    () => parseLoadRequest("m", file, "http"),
    400,
    "Load parameter 'config' must be specified for model file override",
  );
  for (
    const [config, names] of [
      ['{"backend":"python"}', "backend 'python'"],
      ['{"platform":"ensemble"}', "platform 'ensemble'"],
      ["{}", "no backend"],
    ]
  ) {
    refused(
      () => parseLoadRequest("m", { config: text(config), ...file }, "grpc"),
      400,
      `model 'm' is refused: its configuration names ${names}; ` +
        'a load with model files takes only Deno models (backend: "deno", no platform)',
    );
  }
  // Without files, a config may name another backend (Triton's core loads it).
  assertEquals(
    parseLoadRequest("m", { config: text('{"backend":"python"}') }, "http").config?.backend,
    "python",
  );
});

Deno.test("repository control: file paths stay inside the model's directory", () => {
  const cases: [string, string][] = [
    ["file:", "the path is empty"],
    ["file:../escape.ts", "the path must stay within the model directory"],
    ["file:1/../../escape.ts", "the path must stay within the model directory"],
    ["file:/etc/passwd", "the path must be relative to the model directory"],
    ["file:1//model.ts", "the path must stay within the model directory"],
    ["file:1/./model.ts", "the path must stay within the model directory"],
    ["file:1/model.ts/", "the path must stay within the model directory"],
    ["file:1/mo\0del.ts", "the path contains NUL"],
    [`file:1/${"x".repeat(256)}`, "a part of the path is longer than 255 bytes"],
  ];
  for (const [key, message] of cases) {
    refused(
      () => parseLoadRequest("m", { config: text(CONFIG), [key]: bytes("x") }, "http"),
      400,
      `Invalid file parameter '${key}': ${message}`,
    );
  }
  refused(
    () =>
      parseLoadRequest("m", {
        config: text(CONFIG),
        "file:1": bytes("a file"),
        "file:1/model.ts": bytes("x"),
      }, "http"),
    400,
    "'1' is sent as a file and is needed as a directory",
  );
});

Deno.test("repository control: files need a model name that can name a directory", () => {
  for (const model of ["..", ".", "a/b", "a\0b", "x".repeat(256)]) {
    refused(
      () =>
        parseLoadRequest(model, {
          config: text('{"backend":"deno"}'),
          "file:1/model.ts": bytes("x"),
        }, "http"),
      400,
      "the model's name cannot name its directory",
    );
  }
});

Deno.test("repository control: wrong types and unknown parameters, worded per protocol", () => {
  refused(
    () => parseLoadRequest("m", { config: { kind: "bool", value: true } }, "http"),
    400,
    "Unable to parse 'config'",
  );
  refused(
    () => parseLoadRequest("m", { config: bytes("{}") }, "grpc"),
    400,
    "invalid value type for load parameter 'config', expected string_param.",
  );
  refused(
    () => parseLoadRequest("m", { config: text(CONFIG), "file:1/m.ts": text("x") }, "grpc"),
    400,
    "invalid value type for load parameter 'file:1/m.ts', expected bytes_param.",
  );
  refused(
    () => parseLoadRequest("m", { config: text("{") }, "http"),
    400,
    "failed to load 'm': ",
  );
  refused(
    () => parseLoadRequest("m", { colour: text("blue") }, "grpc"),
    400,
    "unrecognized load parameter 'colour'",
  );
});

Deno.test("repository control: unload_dependents is a boolean; other unload parameters are ignored", () => {
  assertEquals(parseUnloadRequest({}, "http"), { unloadDependents: false });
  assertEquals(
    parseUnloadRequest({ unload_dependents: { kind: "bool", value: true }, x: text("y") }, "grpc"),
    { unloadDependents: true },
  );
  refused(
    () => parseUnloadRequest({ unload_dependents: text("true") }, "http"),
    400,
    "Unable to parse 'unload_dependents'",
  );
  refused(
    () => parseUnloadRequest({ unload_dependents: { kind: "int", value: 1n } }, "grpc"),
    400,
    "invalid value type for 'unload_dependents' parameter, expected bool_param.",
  );
});

Deno.test("repository control: HTTP parameters; file contents are base64", () => {
  const parameters = controlParametersFromJson({
    config: CONFIG,
    "file:1/model.ts": btoa("export default {};"),
    "file:1/unpadded.ts": "YWI",
    "file:1/wrapped.ts": "YW\nJj",
    unload_dependents: true,
    count: 3,
    nested: { a: 1 },
  });
  assertEquals(parameters.config, text(CONFIG));
  assertEquals(parameters["file:1/model.ts"], bytes("export default {};"));
  assertEquals(parameters["file:1/unpadded.ts"], bytes("ab"));
  assertEquals(parameters["file:1/wrapped.ts"], bytes("abc"));
  assertEquals(parameters.unload_dependents, { kind: "bool", value: true });
  assertEquals(parameters.count, { kind: "int", value: 3n });
  assertEquals(parameters.nested, { kind: "other" });
  assertEquals(controlParametersFromJson(undefined), {});
  for (const bad of ["not base64!", "abcde", "ab=c", "a==="]) {
    refused(
      () => controlParametersFromJson({ "file:1/model.ts": bad }),
      400,
      "Unable to parse 'file:1/model.ts': the file's content is not valid base64",
    );
  }
  refused(() => controlParametersFromJson([1]), 400, "Unable to parse 'parameters'");
  // A file sent as anything but a string is refused by the load rules.
  refused(
    () =>
      parseLoadRequest(
        "m",
        controlParametersFromJson({ config: CONFIG, "file:1/m.ts": 7 }),
        "http",
      ),
    400,
    "Unable to parse 'file:1/m.ts': expected the file's content as a base64 string",
  );
});

Deno.test("repository control: gRPC parameters keep their kinds", () => {
  const parameters = controlParametersFromGrpc({
    config: { parameterChoice: { case: "stringParam", value: CONFIG } },
    "file:1/model.ts": { parameterChoice: { case: "bytesParam", value: new Uint8Array([1, 2]) } },
    unload_dependents: { parameterChoice: { case: "boolParam", value: false } },
    n: { parameterChoice: { case: "int64Param", value: 5n } },
    empty: { parameterChoice: { case: undefined } },
  });
  assertEquals(parameters, {
    config: text(CONFIG),
    "file:1/model.ts": { kind: "bytes", value: new Uint8Array([1, 2]) },
    unload_dependents: { kind: "bool", value: false },
    n: { kind: "int", value: 5n },
    empty: { kind: "other" },
  });
});
