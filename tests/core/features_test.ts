/**
 * Real core: python_backend's features as Triton drives them: decoupled
 * streams, cancellation, calls from one model to another (BLS), custom
 * metrics in Triton's own registry, auto-completed configurations, Triton's
 * sequence batcher and dynamic batcher in front of the model, and a stub
 * that dies or overruns its deadline.
 *
 * @module
 */

import { assert, assertEquals, assertStringIncludes } from "../harness/assert.ts";
import { findStubPids, isGone } from "../harness/processes.ts";
import { coreTest, fp32, type ModelSource, tensor, values } from "./core_session.ts";

coreTest("a decoupled model streams one response per word, then FINAL", {
  models: ["stream_text"],
}, async (core) => {
  const answers = await core.stream("stream_text", [
    tensor("TEXT", "BYTES", [1], ["to be or not"]),
  ]);
  const words = answers.filter((answer) => !answer.response.flagsOnly).map((answer) => {
    const token = answer.outputs.get("TOKEN");
    assert(token?.kind === "bytes");
    return token.strings[0];
  });
  assertEquals(words, ["to", "be", "or", "not"]);
  assertEquals(answers.at(-1)?.response.flags, 1, "the last response carries FINAL");
});

coreTest("a request cancelled through Triton is seen cancelled by the model", {
  models: ["poll_cancel"],
}, async (core) => {
  const call = core.server.call({
    model: "poll_cancel",
    inputs: [{ name: "INPUT0", datatype: "INT32", shape: [1], data: new Uint8Array(4) }],
  });
  try {
    call.start();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const cancelledAt = Date.now();
    call.cancel();
    const responses = await call.responses(15_000);
    const answer = responses.find((response) => !response.flagsOnly);
    assert(answer !== undefined, "no response");
    if (answer.error !== null) {
      // Triton may answer a cancelled request itself.
      assertEquals(answer.error.code, "CANCELLED");
    } else {
      const noticed = new Float64Array(answer.outputs.get("NOTICED_MS")!.data.slice().buffer)[0];
      assert(noticed - cancelledAt < 5_000, `noticed ${noticed - cancelledAt} ms after the cancel`);
    }
  } finally {
    call.free();
  }
});

coreTest("BLS: a model calls another through Triton's in-process API", {
  models: ["bls_add_sub", "add_sub"],
}, async (core) => {
  const answer = await core.infer("bls_add_sub", [
    fp32("INPUT0", [1, 2]),
    fp32("INPUT1", [10, 20]),
  ]);
  assertEquals(answer.error, null);
  assertEquals(values(answer, "OUTPUT0"), [11, 22]);
  assertEquals(values(answer, "OUTPUT1"), [-9, -18]);
  // The call went through add_sub's own scheduler: Triton counted it.
  const stats = core.server.modelStatistics("add_sub") as {
    model_stats: { inference_count: number }[];
  };
  assertEquals(stats.model_stats[0].inference_count, 1);
});

/** An example model (models/`name`) with `from` in its configuration replaced by `to`. */
function editedExample(name: string, from: string, to: string): ModelSource {
  const directory = new URL(`../../models/${name}/`, import.meta.url);
  return {
    name,
    files: {
      "1/model.ts": Deno.readTextFileSync(new URL("1/model.ts", directory)),
      "config.pbtxt": Deno.readTextFileSync(new URL("config.pbtxt", directory)).replace(from, to),
    },
  };
}

coreTest("BLS: a model calls a model of Triton's own identity backend", {
  models: [
    // bls_add_sub, declaring the identity model among those it may call.
    editedExample(
      "bls_add_sub",
      'key: "deno.allow_models" value: { string_value: "add_sub" }',
      'key: "deno.allow_models" value: { string_value: "add_sub,identity_pair" }',
    ),
    {
      name: "identity_pair",
      files: {
        "config.pbtxt": `name: "identity_pair"
backend: "identity"
max_batch_size: 0
input [
  { name: "INPUT0" data_type: TYPE_FP32 dims: [ -1 ] },
  { name: "INPUT1" data_type: TYPE_FP32 dims: [ -1 ] }
]
output [
  { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ -1 ] },
  { name: "OUTPUT1" data_type: TYPE_FP32 dims: [ -1 ] }
]
`,
        "1/.keep": "",
      },
    },
  ],
  realCoreOnly: "Triton's identity backend ships with Triton, the stand-in has this build's only",
}, async (core) => {
  const answer = await core.infer("bls_add_sub", [fp32("INPUT0", [1, 2]), fp32("INPUT1", [3, 4])], {
    parameters: { target: "identity_pair" },
  });
  assertEquals(answer.error, null, answer.error?.message);
  assertEquals(values(answer, "OUTPUT0"), [1, 2]);
  assertEquals(values(answer, "OUTPUT1"), [3, 4]);
});

coreTest("two batches of a model that is not decoupled run at once with 2 in flight", {
  // Not decoupled; deno.max_batches_in_flight stays 2.
  models: [editedExample("async_overlap", "model_transaction_policy { decoupled: true }", "")],
}, async (core) => {
  const tagged = (tag: number) =>
    core.infer("async_overlap", [tensor("TAG", "INT32", [1], new Int32Array([tag]))], {
      parameters: { delay_ms: 300 },
    });
  const answers = await Promise.all([tagged(0), tagged(1)]);
  for (const [tag, answer] of answers.entries()) {
    assertEquals(answer.error, null, answer.error?.message);
    assertEquals(values(answer, "TAG"), [tag]);
    // Each saw the other running: Triton gave the instance the second batch
    // while the first one's execute still awaited.
    assertEquals(values(answer, "RUNNING"), [2]);
  }
});

coreTest("BLS: a model reads a decoupled model's stream and stops it early", {
  models: ["bls_stream", "stream_text"],
}, async (core) => {
  const answer = await core.infer("bls_stream", [tensor("TEXT", "BYTES", [1], ["a b c d e"])], {
    parameters: { max_words: 2 },
  });
  assertEquals(answer.error, null);
  const words = answer.outputs.get("WORDS");
  assert(words?.kind === "bytes");
  assertEquals(words.strings, ["a", "b"]);
});

coreTest("custom metrics land in Triton's own metrics", {
  models: ["custom_metrics"],
}, async (core) => {
  for (let i = 0; i < 3; i++) {
    const answer = await core.infer("custom_metrics", [fp32("INPUT0", [1, 2, 3])]);
    assertEquals(answer.error, null);
  }
  const text = core.server.metricsText();
  const sample = (family: string, label: string) =>
    text.split("\n").find((l) =>
      (l.startsWith(`${family}{`) || l.startsWith(`${family} `)) && l.includes(label)
    )?.split(" ").at(-1);
  assertEquals(sample("custom_metrics_requests_total", 'outcome="ok"'), "3", text);
  assertEquals(sample("custom_metrics_requests_total", 'outcome="refused"'), "0");
  assertEquals(sample("custom_metrics_input_value_count", ""), "9");
  // Triton's own families are there too.
  assertStringIncludes(text, "nv_inference_request_success");
});

coreTest("Triton serves the configuration the model completed itself", {
  models: ["auto_complete"],
  strictModelConfig: false,
}, async (core) => {
  const config = core.server.modelConfig("auto_complete") as {
    max_batch_size: number;
    input: { name: string }[];
    dynamic_batching?: unknown;
  };
  assertEquals(config.max_batch_size, 8);
  assertEquals(config.input.map((input) => input.name).sort(), ["INPUT0", "INPUT1"]);
  assert(config.dynamic_batching !== undefined);
  const int32 = (name: string, values: number[]) =>
    tensor(name, "INT32", [1, values.length], new Int32Array(values));
  const answer = await core.infer("auto_complete", [
    int32("INPUT0", [5, 6]),
    int32("INPUT1", [1, 2]),
  ]);
  assertEquals(values(answer, "OUTPUT0"), [6, 8]);
});

coreTest("Triton's sequence batcher drives the accumulator: START, READY and correlation ids", {
  models: ["accumulator"],
}, async (core) => {
  const send = (id: bigint | string, value: number, flags: number) =>
    core.infer("accumulator", [tensor("INPUT0", "INT32", [1, 1], new Int32Array([value]))], {
      correlationId: id,
      flags,
    });
  const START = 1;
  const END = 2;
  // Two sequences interleaved, one with a numeric id and one with a string id.
  assertEquals(values(await send(7n, 1, START), "OUTPUT0"), [1]);
  assertEquals(values(await send("s", 10, START), "OUTPUT0"), [10]);
  assertEquals(values(await send(7n, 2, 0), "OUTPUT0"), [3]);
  assertEquals(values(await send("s", 5, 0), "OUTPUT0"), [15]);
  assertEquals(values(await send(7n, 3, END), "OUTPUT0"), [6]);
  // Every sequence ends: an open one keeps the model busy at shutdown until
  // its idle timeout (10 s here), past the session's exit timeout.
  assertEquals(values(await send("s", 1, END), "OUTPUT0"), [16]);
  // A request for a sequence that never started is refused by Triton itself.
  const stray = await core.server.call({
    model: "accumulator",
    inputs: [{ name: "INPUT0", datatype: "INT32", shape: [1, 1], data: new Uint8Array(4) }],
    correlationId: 99n,
  }).run().then((r) => r.error, (e: Error) => ({ code: "REFUSED", message: e.message }));
  assert(stray !== null, "a sequence without START was served");
});

coreTest("a stub killed while idle is replaced, and the next request succeeds", {
  models: ["add_sub"],
}, async (core) => {
  const first = await core.infer("add_sub", [fp32("INPUT0", [1]), fp32("INPUT1", [1])]);
  assertEquals(first.error, null);
  const stubs = findStubPids(`${core.repository}/add_sub`);
  assertEquals(stubs.length, 2, "add_sub has two instances");
  for (const pid of stubs) Deno.kill(pid, "SIGKILL");
  for (const pid of stubs) {
    for (let i = 0; i < 200 && !isGone(pid); i++) await new Promise((r) => setTimeout(r, 25));
  }
  // Every request after the crash is served (by restarted stubs).
  for (let i = 0; i < 4; i++) {
    const answer = await core.infer("add_sub", [fp32("INPUT0", [i]), fp32("INPUT1", [1])]);
    assertEquals(answer.error, null, answer.error?.message);
    assertEquals(values(answer, "OUTPUT0"), [i + 1]);
  }
});

coreTest("a request past the execute deadline fails, naming it, and the model recovers", {
  models: ["sleep_in_execute"],
  denoConfig: { "execute-timeout-ms": "1000" },
}, async (core) => {
  const add = [fp32("INPUT0", [1, 2, 3, 4]), fp32("INPUT1", [1, 1, 1, 1])];
  const started = Date.now();
  const slow = await core.infer("sleep_in_execute", add, { id: "sleep" });
  assert(slow.error !== null, "the sleeping request succeeded");
  assertStringIncludes(slow.error.message, "1000 ms");
  assert(Date.now() - started < 10_000, "the deadline did not cut the request short");
  const next = await core.infer("sleep_in_execute", add, { id: "after" });
  assertEquals(next.error, null, next.error?.message);
  assertEquals(values(next, "OUTPUT0"), [2, 3, 4, 5]);
});
