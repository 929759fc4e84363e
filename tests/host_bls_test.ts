/**
 * Tests of the host's in-process inference (TRITONSERVER_ServerInferAsync
 * and the request, response and allocator objects around it) and model
 * control, driven by the C test backend (tests/harness/fake_backend/): a
 * "caller" model runs a scenario against "adder" or "streamer" models from
 * inside its own Execute and answers with what it observed.
 */

import { assert, assertEquals } from "./harness/assert.ts";
import {
  ADDER_BODY,
  fakeBlsConfig,
  responseParameters,
  STREAMER_BODY,
  withFakeBlsHost,
} from "./harness/fake_bls.ts";
import type { Host, InferRequest, LoadedModel, RequestResult } from "./harness/host.ts";

const CALLER_BODY = `
input [
  { name: "INPUT0" data_type: TYPE_FP32 dims: [ -1 ] },
  { name: "INPUT1" data_type: TYPE_FP32 dims: [ -1 ] }
]
output [
  { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ -1 ] },
  { name: "OUTPUT1" data_type: TYPE_FP32 dims: [ -1 ] },
  { name: "VALUES" data_type: TYPE_INT32 dims: [ -1 ] }
]`;

function loadModels(host: Host, modelDir: string): { caller: LoadedModel } {
  host.loadModel(modelDir, { configText: fakeBlsConfig("adder", "add_sub", ADDER_BODY) });
  host.loadModel(modelDir, { configText: fakeBlsConfig("streamer", "stream", STREAMER_BODY) });
  const caller = host.loadModel(modelDir, {
    configText: fakeBlsConfig("caller", "caller", CALLER_BODY),
  });
  return { caller };
}

const ADD_INPUTS: InferRequest["inputs"] = [
  { name: "INPUT0", datatype: "FP32", shape: [4], data: new Float32Array([1, 2, 3, 4]) },
  { name: "INPUT1", datatype: "FP32", shape: [4], data: new Float32Array([10, 20, 30, 40]) },
];

function countInput(count: number): InferRequest["inputs"] {
  return [{ name: "INPUT0", datatype: "INT32", shape: [1], data: new Int32Array([count]) }];
}

/** Runs one scenario on the caller and returns its result (one response, no error). */
function scenario(
  caller: LoadedModel,
  id: string,
  parameters: InferRequest["parameters"],
  inputs: InferRequest["inputs"] = [],
): { result: RequestResult; parameters: Record<string, unknown> } {
  const [result] = caller.execute(0, [{ id, inputs, parameters, requestedOutputs: ["VALUES"] }]);
  assert(result.completed, `scenario '${id}' did not complete`);
  assertEquals(result.error, null, `scenario '${id}'`);
  return { result, parameters: responseParameters(result) };
}

function numbers(result: RequestResult, name: string): number[] {
  const output = result.outputs.get(name);
  assert(output?.kind === "numeric", `output ${name} is missing`);
  return Array.from(output.data, Number);
}

Deno.test("a model's execute runs another model in process, with the caller's allocator", () =>
  withFakeBlsHost((host, modelDir) => {
    const { caller } = loadModels(host, modelDir);
    const { result, parameters } = scenario(caller, "sync", {
      target: "adder",
      outputs: "OUTPUT0,OUTPUT1",
      inner_id: "inner-1",
      inner_correlation: 42,
      inner_flags: 3,
      inner_timeout_us: 5000,
      fwd_s: "text",
      fwd_n: 7,
      fwd_b: true,
      fwd_d: 0.25,
    }, ADD_INPUTS);
    assertEquals(numbers(result, "OUTPUT0"), [11, 22, 33, 44]);
    assertEquals(numbers(result, "OUTPUT1"), [-9, -18, -27, -36]);
    assertEquals(parameters, {
      submit_code: "none",
      completed: true,
      responses: 1,
      flags: "1",
      released: true,
      release_flags: 1,
      starts: 1,
      queries: 2,
      inner_error_code: "none",
      inner_response_id: "inner-1",
      inner_model: "adder",
      inner_model_version: 1,
      output_userp_ok: true,
      "inner.seen_id": "inner-1",
      "inner.seen_correlation_id": 42,
      "inner.seen_flags": 3,
      "inner.seen_timeout_us": 5000,
      "inner.seen_cancelled": false,
      "inner.seen_parameter_s": "text",
      "inner.seen_parameter_n": 7,
      "inner.seen_parameter_b": true,
      "inner.seen_parameter_d": 0.25,
      allocs: 2,
    });
  }));

Deno.test("no requested outputs means all of the target's; a string correlation id passes", () =>
  withFakeBlsHost((host, modelDir) => {
    const { caller } = loadModels(host, modelDir);
    const { result, parameters } = scenario(caller, "sync", {
      target: "adder",
      inner_correlation_string: "session-9",
    }, ADD_INPUTS);
    assertEquals([...result.outputs.keys()], ["OUTPUT0", "OUTPUT1"]);
    assertEquals(parameters["inner.seen_correlation_id"], "session-9");
    assertEquals(parameters.allocs, 2);
  }));

Deno.test("the target's error response and failed Execute reach the caller as errors", () =>
  withFakeBlsHost((host, modelDir) => {
    const { caller } = loadModels(host, modelDir);
    const failed = scenario(caller, "sync", { target: "adder", inner_id: "fail" }, ADD_INPUTS);
    assertEquals(failed.parameters.inner_error_code, "Invalid argument");
    assertEquals(failed.parameters.inner_error_message, "request 'fail' failed");
    const crashed = scenario(caller, "sync", { target: "adder", inner_id: "execute_error" }, [
      ...ADD_INPUTS,
    ]);
    assertEquals(crashed.parameters.inner_error_code, "Unavailable");
    assertEquals(crashed.parameters.inner_error_message, "the whole batch failed");
    assertEquals(crashed.parameters.released, true);
    assertEquals(crashed.parameters.flags, "1");
  }));

Deno.test("a decoupled target streams its responses, then FINAL alone", () =>
  withFakeBlsHost((host, modelDir) => {
    const { caller } = loadModels(host, modelDir);
    for (const releaseEarly of [false, true]) {
      const { result, parameters } = scenario(caller, "stream", {
        target: "streamer",
        fwd_release_early: releaseEarly,
        fwd_delay_ms: 2,
      }, countInput(4));
      assertEquals(numbers(result, "VALUES"), [0, 1, 2, 3], `release early: ${releaseEarly}`);
      assertEquals(parameters.flags, "0,0,0,0,null:1");
      assertEquals(parameters.responses, 5);
      assertEquals(parameters.released, true);
      assertEquals(parameters.starts, 4);
      assertEquals(parameters.allocs, 4);
    }
  }));

Deno.test("cancelling an in-process request reaches the target's backend", () =>
  withFakeBlsHost((host, modelDir) => {
    const { caller } = loadModels(host, modelDir);
    const { result, parameters } = scenario(caller, "cancel", {
      target: "streamer",
      fwd_delay_ms: 20,
    }, countInput(50));
    const values = numbers(result, "VALUES");
    assert(values.length >= 1 && values.length < 50, `${values.length} responses before the end`);
    assertEquals(parameters.last_error_code, "Cancelled");
    assertEquals(parameters.last_error_message, "the stream was cancelled");
    assert(String(parameters.flags).endsWith(",1"), String(parameters.flags));
  }));

Deno.test("an unknown model or version is NOT_FOUND, named as Triton names it", () =>
  withFakeBlsHost((host, modelDir) => {
    const { caller } = loadModels(host, modelDir);
    const unknown = scenario(caller, "unknown", { target: "no_such_model" });
    assertEquals(unknown.parameters.new_code, "Not found");
    assertEquals(
      unknown.parameters.new_message,
      "Request for unknown model: 'no_such_model' is not found",
    );
    const version = scenario(caller, "unknown", { target: "adder", target_version: 9 });
    assertEquals(version.parameters.new_code, "Not found");
    assertEquals(
      version.parameters.new_message,
      "Request for unknown model: 'adder' version 9 is not found",
    );
  }));

Deno.test("InferAsync returns at once; responses arrive after the caller's Execute ended", () =>
  withFakeBlsHost(async (host, modelDir) => {
    const { caller } = loadModels(host, modelDir);
    const submitted = scenario(caller, "async", { target: "streamer", fwd_delay_ms: 100 }, [
      ...countInput(3),
    ]);
    assertEquals(submitted.parameters.submit_code, "none");
    const submitMs = Number(submitted.parameters.submit_ns) / 1e6;
    assert(submitMs < 90, `ServerInferAsync took ${submitMs} ms`);
    assert(await host.waitIdle(10_000), "the stream did not finish");
    const { result, parameters } = scenario(caller, "async_result", {});
    assertEquals(numbers(result, "VALUES"), [0, 1, 2]);
    assertEquals(parameters.completed, true);
    assertEquals(parameters.released, true);
  }));

Deno.test("unloading a model waits for the in-process requests under way", () =>
  withFakeBlsHost(async (host, modelDir) => {
    const { caller } = loadModels(host, modelDir);
    const streamer = host.loadModel(modelDir, {
      configText: fakeBlsConfig("streamer2", "stream", STREAMER_BODY),
    });
    scenario(caller, "async", { target: "streamer2", fwd_delay_ms: 50 }, countInput(3));
    assertEquals(host.serverModels().find((model) => model.name === "streamer2")?.inFlight, 1);
    streamer.unload();
    assertEquals(host.serverModels().some((model) => model.name === "streamer2"), false);
    const { result } = scenario(caller, "async_result", {});
    assertEquals(numbers(result, "VALUES"), [0, 1, 2]);
    assert(await host.waitIdle(1000));
  }));

Deno.test("an unload gives up, in time, on a request its target never finishes", () =>
  withFakeBlsHost(async (host, modelDir) => {
    const { caller } = loadModels(host, modelDir);
    const hanging = host.loadModel(modelDir, {
      configText: fakeBlsConfig("hanging", "stream", STREAMER_BODY),
    });
    scenario(caller, "async", { target: "hanging", fwd_no_final: true, fwd_delay_ms: 1 }, [
      ...countInput(2),
    ]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = performance.now();
    hanging.unload();
    const waitedMs = performance.now() - started;
    assert(waitedMs > 4000 && waitedMs < 20_000, `the unload waited ${waitedMs} ms`);
    const { violations } = host.violations();
    assertEquals(violations.infer_request_abandoned, 1);
    assertEquals(violations.request_without_final_response, 1);
    const dropped = scenario(caller, "async_drop", {}).parameters;
    assertEquals(dropped, { responses: 2, final: false, released: true });
    host.resetViolations();
  }));

Deno.test("the API's error paths, and the violations a broken caller counts", () =>
  withFakeBlsHost((host, modelDir) => {
    const { caller } = loadModels(host, modelDir);
    const { parameters } = scenario(caller, "errors", {});
    assertEquals(parameters.no_callbacks_code, "Invalid argument");
    assertEquals(parameters.add_twice_message, "input 'INPUT0' already exists in request");
    assertEquals(parameters.append_unknown_message, "input 'NOPE' does not exist in request");
    assertEquals(parameters.long_correlation_code, "Unsupported");
    assertEquals(parameters.trace_code, "Unsupported");
    assertEquals(
      parameters.size_message,
      "input byte size mismatch for input 'INPUT0' for model 'adder'. Expected 16, got 8",
    );
    assertEquals(parameters.valid_code, "none");
    assertEquals(parameters.submit_twice_code, "Invalid argument");
    assertEquals(parameters.delete_in_flight_code, "Invalid argument");
    assertEquals(parameters.completed, true);
    assertEquals(parameters.responses, 3);
    assertEquals(parameters.allocator_twice_code, "Invalid argument");
    const { violations } = host.violations();
    assertEquals(violations.infer_request_submitted_twice, 1);
    assertEquals(violations.infer_request_deleted_in_flight, 1);
    assertEquals(violations.deleted_twice, 1);
    host.resetViolations();
  }));

Deno.test("model control is refused unless explicit; readiness answers from the loaded models", () =>
  withFakeBlsHost((host, modelDir) => {
    const { caller } = loadModels(host, modelDir);
    host.registerLoadable(modelDir, { configText: fakeBlsConfig("adder2", "add_sub", ADDER_BODY) });
    for (const action of ["load", "unload"]) {
      const { parameters } = scenario(caller, "control", { action, model: "adder2" });
      assertEquals(parameters.control_code, "Unavailable");
      assertEquals(
        parameters.control_message,
        "explicit model load / unload is not allowed if polling is enabled",
      );
    }
    const ready = (model: string, version = -1) =>
      scenario(caller, "control", { action: "ready", model, version }).parameters.ready;
    assertEquals(ready("adder"), true);
    assertEquals(ready("adder", 1), true);
    assertEquals(ready("adder", 2), false);
    assertEquals(ready("adder2"), false);
    assertEquals(ready("nope"), false);
  }));

Deno.test("explicit model control loads, reloads and unloads registered models by name", () =>
  withFakeBlsHost(async (host, modelDir) => {
    const { caller } = loadModels(host, modelDir);
    host.setModelControl(true);
    try {
      host.registerLoadable(modelDir, {
        configText: fakeBlsConfig("adder2", "add_sub", ADDER_BODY),
        version: 3,
      });
      host.registerLoadable(modelDir, {
        configText: `${fakeBlsConfig("refuser", "add_sub", ADDER_BODY)}
parameters { key: "refuse_model" value { string_value: "1" } }`,
      });
      const control = (action: string, model: string) =>
        scenario(caller, "control", { action, model }).parameters;
      assertEquals(control("load", "adder2").control_code, "none");
      assertEquals(control("ready", "adder2").ready, true);
      const sync = scenario(caller, "sync", { target: "adder2" }, ADD_INPUTS);
      assertEquals(numbers(sync.result, "OUTPUT0"), [11, 22, 33, 44]);
      assertEquals(sync.parameters.inner_model_version, 3);

      // A reload replaces the copy loaded before.
      assertEquals(control("load", "adder2").control_code, "none");
      assert(await host.waitIdle(10_000));
      const copies = host.serverModels().filter((model) => model.name === "adder2");
      assertEquals(copies.map((model) => [model.ready, model.serverOwned]), [[true, true]]);

      const missing = control("load", "missing");
      assertEquals(missing.control_code, "Internal");
      assertEquals(
        missing.control_message,
        "failed to load 'missing', failed to poll from model repository",
      );
      const refused = control("load", "refuser");
      assertEquals(refused.control_code, "Invalid argument");
      assertEquals(
        refused.control_message,
        "load failed for model 'refuser': version 1 is at UNAVAILABLE state: model refused;\n",
      );

      assertEquals(control("unload", "adder2").control_code, "none");
      assertEquals(control("ready", "adder2").ready, false);
      assertEquals(control("unload", "never_loaded").control_code, "none");
      assert(await host.waitIdle(10_000));
      assertEquals(host.serverModels().some((model) => model.name === "adder2"), false);

      // A model unloaded between creating a request and submitting it.
      assertEquals(control("load", "adder2").control_code, "none");
      const gone = scenario(caller, "unloaded", { target: "adder2" }, ADD_INPUTS).parameters;
      assertEquals(gone.new_code, "none");
      assertEquals(gone.unload_code, "none");
      assertEquals(gone.submit_code, "Not found");
      // Which of Triton's two messages depends on whether the unload has
      // finished by then (it runs in the background): either names the model.
      assert(
        [
          "Request for unknown model: 'adder2' has no available versions",
          "Request for unknown model: 'adder2' is not found",
        ].includes(String(gone.submit_message)),
        String(gone.submit_message),
      );

      // Left loaded on purpose: the backend's unload finalizes it.
      assertEquals(control("load", "adder2").control_code, "none");
    } finally {
      host.setModelControl(false);
    }
  }));

Deno.test(
  "a call still queued for the embedding server when forwarding stops is answered " +
    "UNAVAILABLE",
  () =>
    withFakeBlsHost((host, modelDir) => {
      const { caller } = loadModels(host, modelDir);
      const symbols = host.library.symbols;
      symbols.host_forward_start();
      let stopped = false;
      try {
        // The call is queued for a server that never reads it.
        const submitted = scenario(caller, "async", { target: "adder" }, ADD_INPUTS);
        assertEquals(submitted.parameters.submit_code, "none");
        symbols.host_forward_stop();
        stopped = true;
        const { parameters } = scenario(caller, "async_result", {});
        assertEquals(parameters.last_error_code, "Unavailable");
        assertEquals(
          parameters.last_error_message,
          "the server is shutting down: in-process inference requests are no longer accepted",
        );
        assertEquals([parameters.completed, parameters.released], [true, true]);
        // Forwarding is off: the next call runs in the host again.
        const { result } = scenario(caller, "sync", { target: "adder" }, ADD_INPUTS);
        assertEquals(numbers(result, "OUTPUT0"), [11, 22, 33, 44]);
      } finally {
        if (!stopped) symbols.host_forward_stop();
      }
    }),
);
