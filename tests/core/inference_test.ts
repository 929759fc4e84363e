/**
 * Real core: inference through Triton's scheduler and this backend, as a
 * client of Triton sees it: values, every datatype, requested outputs, the
 * errors a model returns or throws, and load failures.
 *
 * @module
 */

import { assert, assertEquals, assertStringIncludes } from "../harness/assert.ts";
import { coreTest, fp32, tensor, values } from "./core_session.ts";

coreTest("add_sub adds and subtracts on both of its instances", {
  models: ["add_sub"],
}, async (core) => {
  // Two instances: concurrent requests spread over both stubs.
  const answers = await Promise.all(
    Array.from(
      { length: 8 },
      (_, i) =>
        core.infer("add_sub", [fp32("INPUT0", [1, 2, 3, 4 + i]), fp32("INPUT1", [10, 20, 30, 40])]),
    ),
  );
  answers.forEach((answer, i) => {
    assertEquals(answer.error, null);
    assertEquals(values(answer, "OUTPUT0"), [11, 22, 33, 44 + i]);
    assertEquals(values(answer, "OUTPUT1"), [-9, -18, -27, -36 + i]);
  });
  const stats = core.server.modelStatistics("add_sub") as {
    model_stats: { inference_count: number; inference_stats: { success: { count: number } } }[];
  };
  assertEquals(stats.model_stats[0].inference_stats.success.count, 8);
});

coreTest("only the requested outputs come back", { models: ["add_sub"] }, async (core) => {
  const answer = await core.infer("add_sub", [fp32("INPUT0", [1]), fp32("INPUT1", [2])], {
    outputs: ["OUTPUT1"],
  });
  assertEquals([...answer.outputs.keys()], ["OUTPUT1"]);
  assertEquals(values(answer, "OUTPUT1"), [-1]);
});

coreTest("every Triton datatype goes in and comes back unchanged", {
  models: ["every_dtype"],
}, async (core) => {
  const inputs = [
    tensor("IN_BOOL", "BOOL", [3], new Uint8Array([1, 0, 1])),
    tensor("IN_UINT8", "UINT8", [2], new Uint8Array([0, 255])),
    tensor("IN_UINT16", "UINT16", [2], new Uint16Array([0, 65535])),
    tensor("IN_UINT32", "UINT32", [2], new Uint32Array([0, 4294967295])),
    tensor("IN_UINT64", "UINT64", [2], new BigUint64Array([0n, 18446744073709551615n])),
    tensor("IN_INT8", "INT8", [2], new Int8Array([-128, 127])),
    tensor("IN_INT16", "INT16", [2], new Int16Array([-32768, 32767])),
    tensor("IN_INT32", "INT32", [2], new Int32Array([-2147483648, 2147483647])),
    tensor(
      "IN_INT64",
      "INT64",
      [2],
      new BigInt64Array([-9223372036854775808n, 9223372036854775807n]),
    ),
    tensor("IN_FP16", "FP16", [2], new Uint16Array([0x3c00, 0xc000])),
    tensor("IN_FP32", "FP32", [3], new Float32Array([1.5, -0, Infinity])),
    tensor("IN_FP64", "FP64", [2], new Float64Array([Math.PI, -1e300])),
    tensor("IN_BYTES", "BYTES", [3], ["", "héllo", new Uint8Array([0, 255, 7])]),
    tensor("IN_BF16", "BF16", [2], new Uint16Array([0x3f80, 0xbf80])),
  ];
  const answer = await core.infer("every_dtype", inputs);
  assertEquals(answer.error, null);
  for (const input of inputs) {
    const name = input.name.replace("IN_", "OUT_");
    const output = answer.outputs.get(name);
    assert(output !== undefined, `no ${name}`);
    assertEquals([output.datatype, output.shape], [input.datatype, [...input.shape]], name);
    if (output.kind === "bytes") {
      assertEquals(
        output.data,
        (input.data as (string | Uint8Array)[]).map((e) =>
          typeof e === "string" ? new TextEncoder().encode(e) : e
        ),
      );
    } else {
      const raw = input.data as ArrayBufferView;
      assertEquals(output.raw, new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength), name);
    }
  }
});

coreTest("BYTES in and out (add_sub_string)", { models: ["add_sub_string"] }, async (core) => {
  const answer = await core.infer("add_sub_string", [
    tensor("INPUT0", "BYTES", [3], ["1", "20", "-300"]),
    tensor("INPUT1", "BYTES", [3], ["2", "5", "7"]),
  ]);
  assertEquals(answer.error, null);
  const sums = answer.outputs.get("OUTPUT0");
  assert(sums?.kind === "bytes");
  assertEquals(sums.strings, ["3", "25", "-293"]);
});

coreTest("an error response fails only its own request", {
  models: ["per_request_error"],
}, async (core) => {
  const [bad, good] = await Promise.all([
    core.infer("per_request_error", [fp32("INPUT0", [1, 2, 3, 4]), fp32("INPUT1", [1, 1, 1, 1])], {
      id: "bad",
    }),
    core.infer("per_request_error", [fp32("INPUT0", [1, 2, 3, 4]), fp32("INPUT1", [1, 1, 1, 1])], {
      id: "good",
    }),
  ]);
  assertEquals(bad.error?.code, "INVALID_ARG");
  assertStringIncludes(bad.error?.message ?? "", "request 'bad' is refused by the fixture");
  assertEquals(good.error, null);
  assertEquals(values(good, "OUTPUT0"), [2, 3, 4, 5]);
});

coreTest("a throw in execute fails the request with the model's message", {
  models: ["throw_in_execute", "add_sub"],
}, async (core) => {
  const answer = await core.infer("throw_in_execute", [
    fp32("INPUT0", [1, 2, 3, 4]),
    fp32("INPUT1", [1, 2, 3, 4]),
  ]);
  assertEquals(answer.error?.code, "INTERNAL");
  assertStringIncludes(answer.error?.message ?? "", "fixture execute exploded");
  // The model keeps serving, and so do the others.
  const again = await core.infer("throw_in_execute", [
    fp32("INPUT0", [1, 2, 3, 4]),
    fp32("INPUT1", [1, 2, 3, 4]),
  ]);
  assertStringIncludes(again.error?.message ?? "", "fixture execute exploded");
  const other = await core.infer("add_sub", [fp32("INPUT0", [1]), fp32("INPUT1", [1])]);
  assertEquals(values(other, "OUTPUT0"), [2]);
});

coreTest("an output of the wrong datatype fails the request, naming it", {
  models: ["wrong_output_dtype"],
}, async (core) => {
  const answer = await core.infer("wrong_output_dtype", [
    fp32("INPUT0", [1, 2, 3, 4]),
    fp32("INPUT1", [1, 2, 3, 4]),
  ]);
  const message = answer.error?.message ?? "";
  for (const part of ["OUTPUT0", "INT32", "FP32"]) assertStringIncludes(message, part);
  assert(!message.includes("OUTPUT1"), `only OUTPUT0 is wrong: ${message}`);
});

coreTest("load failures reach Triton with the model's own file:line", {
  models: ["syntax_error", "throw_in_initialize", "add_sub"],
  startupModels: ["add_sub"],
}, async (core, t) => {
  await t.step("a syntax error", async () => {
    const error = await core.server.loadModel("syntax_error").then(() => undefined, (e) => e);
    assert(error instanceof Error, "the load succeeded");
    assertStringIncludes(error.message, "model.ts:8:38");
    assertStringIncludes(error.message, "Expression expected");
    // Triton answers readiness of a model it could not load with an error.
    assertEquals(
      core.server.repositoryIndex().some((entry) =>
        (entry as { name: string; state?: string }).name === "syntax_error" &&
        (entry as { state?: string }).state === "READY"
      ),
      false,
    );
  });
  await t.step("a throw in initialize", async () => {
    const error = await core.server.loadModel("throw_in_initialize").then(
      () => undefined,
      (e) => e,
    );
    assert(error instanceof Error, "the load succeeded");
    assertStringIncludes(error.message, "fixture initialize exploded");
    assertStringIncludes(error.message, "model.ts:14:11");
  });
  await t.step("the server and the other model are unaffected", async () => {
    assertEquals(core.server.live(), true);
    const answer = await core.infer("add_sub", [fp32("INPUT0", [5]), fp32("INPUT1", [3])]);
    assertEquals(values(answer, "OUTPUT1"), [2]);
  });
});
