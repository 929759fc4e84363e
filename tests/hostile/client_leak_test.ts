/**
 * End-to-end, through the stand-in: what a client sees of a model's failure
 * leaks nothing of the server. The model's message and its own stack frames
 * come through, with paths relative to the model directory; the runtime's
 * frames and every other server path do not; Triton's log keeps the whole
 * text.
 *
 * @module
 */

import { assert, assertStringIncludes } from "../harness/assert.ts";
import { fixtureDir } from "../harness/fixtures.ts";
import { REPOSITORY_ROOT } from "../harness/paths.ts";
import { withHost } from "../harness/session.ts";

function request(id: string) {
  return {
    id,
    inputs: ["INPUT0", "INPUT1"].map((name) => ({
      name,
      datatype: "FP32" as const,
      shape: [4],
      data: new Float32Array(4),
    })),
  };
}

Deno.test("client leak: a failure's text keeps the model's frames, relative, and nothing else of the server", () =>
  withHost((host) => {
    const dir = fixtureDir("throw_in_execute");
    const model = host.loadModel(dir);
    host.clearLog();
    const [result] = model.execute(0, [request("r0")]);
    const message = result.error?.message ?? "";
    assertStringIncludes(message, "fixture execute exploded");
    assert(/at explode \(1\/model\.ts:\d+:\d+\)/.test(message), message);
    for (const secret of [REPOSITORY_ROOT, dir, "runtime/worker", "file://", "ext:core"]) {
      assert(!message.includes(secret), `the client saw ${JSON.stringify(secret)}: ${message}`);
    }
    // The log has it all, the runtime's frames included.
    const log = host.log();
    assertStringIncludes(log, `${dir}/1/model.ts`);
    assertStringIncludes(log, "runtime/worker/");
    model.unload();
  }));

Deno.test("client leak: a model's own huge message full of paths is capped and cleaned", () =>
  withHost((host) => {
    const model = host.loadModel(fixtureDir("leaky_error"));
    const [result] = model.execute(0, [request("r0")]);
    const message = result.error?.message ?? "";
    assert(
      message.startsWith("found 1/data.bin and <server path> and 1/model.ts xxx"),
      message.slice(0, 200),
    );
    assert(new TextEncoder().encode(message).length <= 4096, `${message.length} characters`);
    assert(message.endsWith("(truncated; the whole message is in the server's log)"));
    model.unload();
  }));
