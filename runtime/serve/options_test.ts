import { assertEquals, assertThrows } from "./_test_assert.ts";
import {
  checkModelControl,
  DEFAULT_MAX_BODY_BYTES,
  OptionsError,
  parseOptions,
} from "./options.ts";
import { buildPaths } from "./server.ts";

Deno.test("options: defaults", () => {
  const options = parseOptions([]);
  assertEquals(options.modelRepository, "models");
  assertEquals(options.httpPort, 8000);
  assertEquals(options.models, []);
  assertEquals(options.maxBodyBytes, DEFAULT_MAX_BODY_BYTES);
});

Deno.test("options: values as next argument or after '=', repeated --model", () => {
  const options = parseOptions([
    "--model-repository",
    "/tmp/repo",
    "--http-port=9001",
    "--model",
    "add_sub",
    "--model=other",
    "--max-body-bytes",
    "1024",
    "--backend-config",
    "stub-timeout=5",
  ]);
  assertEquals(options.modelRepository, "/tmp/repo");
  assertEquals(options.httpPort, 9001);
  assertEquals(options.models, ["add_sub", "other"]);
  assertEquals(options.maxBodyBytes, 1024);
  assertEquals(options.backendConfig, { "stub-timeout": "5" });
});

Deno.test("options: errors name the flag", () => {
  assertThrows(() => parseOptions(["--port", "1"]), OptionsError, "unknown option '--port'");
  assertThrows(() => parseOptions(["--http-port"]), OptionsError, "needs a value");
  assertThrows(() => parseOptions(["--http-port", "70000"]), OptionsError, "'--http-port'");
  assertThrows(() => parseOptions(["--http-port", "x"]), OptionsError, "'--http-port'");
  assertThrows(() => parseOptions(["--max-body-bytes", "0"]), OptionsError, "'--max-body-bytes'");
  assertThrows(() => parseOptions(["--model", "a/b"]), OptionsError, "'--model'");
  assertThrows(() => parseOptions(["--backend-config", "novalue"]), OptionsError, "KEY=VALUE");
});

Deno.test("options: auto-completion is on unless --disable-auto-complete-config", () => {
  assertEquals(parseOptions([]).autoCompleteConfig, true);
  assertEquals(parseOptions(["--disable-auto-complete-config"]).autoCompleteConfig, false);
});

Deno.test("options: --backend-directory names the backend to load; by default <build>/deno", () => {
  assertEquals(parseOptions([]).backendDirectory, undefined);
  const options = parseOptions(["--build", "/b", "--backend-directory", "/opt/deno"]);
  assertEquals(options.backendDirectory, "/opt/deno");
  assertEquals(buildPaths(options.build, options.backendDirectory), {
    hostLibrary: "/b/libtriton_host.so",
    backendDirectory: "/opt/deno",
    backendLibrary: "/opt/deno/libtriton_deno.so",
  });
  assertEquals(buildPaths("/b").backendLibrary, "/b/deno/libtriton_deno.so");
});

Deno.test("options: models load four at a time unless --model-load-thread-count says", () => {
  assertEquals(parseOptions([]).modelLoadThreadCount, 4);
  assertEquals(parseOptions(["--model-load-thread-count", "2"]).modelLoadThreadCount, 2);
  assertThrows(
    () => parseOptions(["--model-load-thread-count=0"]),
    OptionsError,
    "'--model-load-thread-count'",
  );
});

Deno.test("--watch is a flag, off by default", () => {
  assertEquals(parseOptions([]).watch, false);
  assertEquals(parseOptions(["--watch"]).watch, true);
});

Deno.test("options: model control as tritonserver has it", () => {
  const options = parseOptions([]);
  assertEquals(options.modelControlMode, "none");
  checkModelControl(options);
  checkModelControl(parseOptions(["--model-control-mode", "explicit", "--load-model", "*"]));
  for (
    const [args, message] of [
      [["--load-model", "add_sub"], "--load-model needs --model-control-mode explicit"],
      [
        ["--model-control-mode", "poll", "--load-model", "a"],
        "needs --model-control-mode explicit",
      ],
      [["--model-control-mode", "explicit", "--model", "a"], "in explicit mode name the models"],
    ] as const
  ) {
    assertThrows(() => checkModelControl(parseOptions([...args])), Error, message);
  }
  assertThrows(() => parseOptions(["--model-control-mode", "sometimes"]), OptionsError);
});

Deno.test("options: gRPC on port 8001 by default, --grpc-port, --grpc-address, --allow-grpc", () => {
  const defaults = parseOptions([]);
  assertEquals(defaults.grpcPort, 8001);
  assertEquals(defaults.grpcAddress, undefined);
  assertEquals(defaults.allowGrpc, true);
  const set = parseOptions(["--grpc-port", "9001", "--grpc-address=0.0.0.0", "--allow-grpc=false"]);
  assertEquals([set.grpcPort, set.grpcAddress, set.allowGrpc], [9001, "0.0.0.0", false]);
  assertEquals(parseOptions(["--allow-grpc", "1"]).allowGrpc, true);
  assertThrows(() => parseOptions(["--grpc-port", "70000"]), OptionsError, "'--grpc-port'");
  assertThrows(() => parseOptions(["--allow-grpc", "maybe"]), OptionsError, "'--allow-grpc'");
});

Deno.test("options: --stand-in-server is a flag, off by default", () => {
  assertEquals(parseOptions([]).standInServer, false);
  assertEquals(parseOptions(["--stand-in-server"]).standInServer, true);
});

Deno.test("options: the log flags as tritonserver takes them", () => {
  const defaults = parseOptions([]);
  assertEquals(
    [defaults.logInfo, defaults.logWarning, defaults.logError, defaults.logVerbose],
    [true, true, true, 0],
  );
  const quiet = parseOptions(["--log-info", "false", "--log-warning=0", "--log-verbose", "2"]);
  assertEquals([quiet.logInfo, quiet.logWarning, quiet.logVerbose], [false, false, 2]);
  assertEquals(parseOptions(["--log-file", "/tmp/t.log"]).logFile, "/tmp/t.log");
  assertThrows(
    () => parseOptions(["--log-info", "maybe"]),
    OptionsError,
    "option '--log-info': must be true, false, 1 or 0",
  );
});
