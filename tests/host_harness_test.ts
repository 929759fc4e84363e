/**
 * Tests of the test host itself (tests/harness/), against a fake backend
 * compiled from tests/harness/fake_backend/fake_backend.c and
 * fake_add_sub.c: the host must hand a backend what Triton hands it (config
 * JSON, sorted inputs, split buffers, correlation ids, parameters) and must
 * notice every way a backend can break Triton's rules, or the end-to-end
 * tests would prove nothing.
 */

import { assert, assertEquals, assertStringIncludes, assertThrows } from "./harness/assert.ts";
import { Host, HostError, type InferRequest } from "./harness/host.ts";
import { REPOSITORY_ROOT } from "./harness/paths.ts";

const CONFIG = `
name: "fake_add_sub"
backend: "fake"
input [
  { name: "INPUT0" data_type: TYPE_FP32 dims: [ -1 ] },
  { name: "INPUT1" data_type: TYPE_FP32 dims: [ -1 ] }
]
output [
  { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ -1 ] },
  { name: "OUTPUT1" data_type: TYPE_FP32 dims: [ -1 ] }
]
instance_group [ { count: 2 kind: KIND_CPU } ]
`;

/** Compiles the fake backend into a temporary directory (once per test module). */
async function buildFakeBackend(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "tdn_fake_backend_" });
  const output = await new Deno.Command(Deno.env.get("CC") || "gcc", {
    args: [
      "-std=c11",
      "-D_GNU_SOURCE",
      "-Wall",
      "-Wextra",
      "-Werror",
      "-fPIC",
      "-shared",
      `-I${REPOSITORY_ROOT}/ffi/include`,
      `${REPOSITORY_ROOT}/tests/harness/fake_backend/fake_backend.c`,
      `${REPOSITORY_ROOT}/tests/harness/fake_backend/fake_add_sub.c`,
      "-o",
      `${dir}/libtriton_fake.so`,
    ],
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(`cannot compile the fake backend: ${new TextDecoder().decode(output.stderr)}`);
  }
  return dir;
}

const fakeDir = await buildFakeBackend();
// The fake model needs no files: its configuration comes as text.
const modelDir = await Deno.makeTempDir({ prefix: "tdn_fake_model_" });
globalThis.addEventListener("unload", () => {
  Deno.removeSync(fakeDir, { recursive: true });
  Deno.removeSync(modelDir, { recursive: true });
});

function openFakeHost(options: Record<string, string> = {}): Host {
  return Host.open({
    backendName: "fake",
    backendDir: fakeDir,
    backendLibrary: `${fakeDir}/libtriton_fake.so`,
    options,
  });
}

function request(id: string, extra: Partial<InferRequest> = {}, bufferCount = 1): InferRequest {
  return {
    id,
    inputs: [
      // Deliberately not in name order: Triton hands inputs over sorted by name.
      {
        name: "INPUT1",
        datatype: "FP32",
        shape: [5],
        data: new Float32Array([1, 1, 1, 1, 1]),
        bufferCount,
      },
      {
        name: "INPUT0",
        datatype: "FP32",
        shape: [5],
        data: new Float32Array([1, 2, 3, 4, 5]),
        bufferCount,
      },
    ],
    ...extra,
  };
}

Deno.test("the host hands the backend Triton's config, inputs, buffers and ids", () => {
  const host = openFakeHost({ "some-key": "some value" });
  try {
    assertStringIncludes(
      host.log(),
      `"cmdline":{"backend-directory":"${fakeDir.replace(/\/[^/]*$/, "")}",` +
        `"min-compute-capability":"6.000000","default-max-batch-size":"4","some-key":"some value"}`,
    );
    const model = host.loadModel(modelDir, { configText: CONFIG });
    assertEquals(model.instanceCount, 2);
    assertStringIncludes(host.log(), "fake instance initialize fake_add_sub_0_0");
    assertStringIncludes(host.log(), "fake instance initialize fake_add_sub_0_1");

    const results = model.execute(1, [
      request("echo", { correlationId: 42, flags: 3, parameters: { a: "x", n: 7, b: true } }, 3),
      request("echo", { correlationId: "session-7", requestedOutputs: ["OUTPUT1"] }),
    ]);
    const [numeric, text] = results;
    assertEquals(numeric.error, null);
    assertEquals(numeric.instance, "fake_add_sub_0_1");
    assertEquals(numeric.responses[0].parameters, {
      correlation_id: 42,
      flags: 3,
      inputs: "INPUT0:3,INPUT1:3",
      a: "x",
      n: 7,
      b: true,
    });
    const sum = numeric.outputs.get("OUTPUT0");
    assert(sum?.kind === "numeric" && sum.byteSizeMatchesShape);
    assertEquals(Array.from(sum.data, Number), [2, 3, 4, 5, 6]);
    // No requested outputs means all of the config's, as in Triton.
    assertEquals([...numeric.outputs.keys()], ["OUTPUT0", "OUTPUT1"]);

    assertEquals(text.responses[0].parameters.correlation_id, "session-7");
    assertEquals([...text.outputs.keys()], ["OUTPUT1"]);
    assertEquals(model.statistics(1).request_success, 2);
    assertEquals(model.statistics(0).request_success, 0);
    model.unload();
    assertStringIncludes(host.log(), "fake instance finalize fake_add_sub_0_1");
  } finally {
    host.close();
  }
});

Deno.test("a failed Execute gives the requests back: the host answers and releases them", () => {
  const host = openFakeHost();
  let closed = false;
  try {
    host.resetViolations();
    const model = host.loadModel(modelDir, { configText: CONFIG });
    const results = model.execute(0, [request("ok"), request("execute_error")]);
    for (const result of results) {
      assertEquals(result.executeError, "the whole batch failed");
      assertEquals(result.error?.message, "the whole batch failed");
      assertEquals(result.error?.codeString, "Unavailable");
      assert(result.releasedByHost && result.releaseCount === 1 && result.final);
    }
    const [failed, fine] = model.execute(0, [request("fail"), request("ok")]);
    assertEquals(failed.error?.message, "request 'fail' failed");
    assertEquals(failed.error?.code, 3);
    assertEquals(fine.error, null);
    model.unload();
    closed = true;
    const { violations } = host.close();
    assertEquals(Object.values(violations).reduce((a, b) => a + b, 0), 0);
  } finally {
    if (!closed) host.close();
  }
});

Deno.test({
  name: "the host counts each way a backend breaks Triton's rules",
  fn: () => {
    const host = openFakeHost();
    try {
      host.resetViolations();
      const before = host.violations().live;
      const model = host.loadModel(modelDir, { configText: CONFIG });
      const expectations: [string, string][] = [
        ["double_release", "request_released_twice"],
        ["respond_twice", "response_after_final"],
        ["stats_twice", "stats_reported_twice"],
        ["no_release", "request_never_released"],
      ];
      for (const [id, violation] of expectations) {
        const [result] = model.execute(0, [request(id)], { waitMs: 200 });
        assertEquals(result.completed, id !== "no_release");
        assertEquals(host.violations().violations[violation], 1, `${id} -> ${violation}`);
      }
      model.execute(0, [request("leak_error")]);
      assertEquals(host.violations().live.errors - before.errors, 1);
      assertStringIncludes(
        host.log(),
        "host violation request_released_twice: request 'double_release'",
      );
      model.unload();
    } finally {
      host.close();
    }
  },
});

Deno.test("a backend refuses a server whose API version is too old, and load errors come back", () => {
  const host = openFakeHost();
  try {
    const error = assertThrows(
      () =>
        host.loadModel(modelDir, {
          configText: `${CONFIG} parameters { key: "refuse_model" value { string_value: "1" } }`,
        }),
      HostError,
    );
    assertEquals(error.message, "model refused");
    host.setApiVersion(1, 18);
    const tooOld = assertThrows(() => openFakeHost(), HostError);
    assertStringIncludes(tooOld.message, "fake backend needs API 1.19, the server has 1.18");
  } finally {
    host.setApiVersion(1, 19);
    host.close();
  }
});

Deno.test("the ping-pong floor measures a plausible round trip", async () => {
  const host = openFakeHost();
  try {
    const { medianNs, p99Ns } = await host.pingPongFloor(2_000, 20);
    assert(medianNs > 0 && medianNs <= p99Ns, `median ${medianNs} ns, p99 ${p99Ns} ns`);
    assert(medianNs < 1_000_000, `a 64-byte round trip took ${medianNs} ns`);
  } finally {
    host.close();
  }
});
