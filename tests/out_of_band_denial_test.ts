/**
 * End-to-end, through the stand-in: a permission denial that escapes the
 * model outside anything it awaits (Node's `dgram` throws it from a tick of
 * its own, and the model's promise never settles) fails the batch at once
 * with the denial, instead of after the execute deadline; the stub
 * restarts, so that the stuck work can do nothing later, and the next
 * request is served.
 *
 * @module
 */

import { assert, assertEquals, assertStringIncludes } from "./harness/assert.ts";
import { fixtureDir } from "./harness/fixtures.ts";
import type { InferRequest } from "./harness/host.ts";
import { withHost } from "./harness/session.ts";

function request(id: string, value: number, udp: boolean): InferRequest {
  return {
    id,
    inputs: [{ name: "INPUT0", datatype: "INT32", shape: [1], data: new Int32Array([value]) }],
    parameters: { udp },
  };
}

Deno.test("out-of-band denial: the batch fails with the denial, not the deadline, and the stub restarts", () =>
  withHost(async (host) => {
    const model = host.loadModel(fixtureDir("denied_out_of_band"));
    const [denied] = await model.executeAsync(0, [request("udp", 1, true)]);
    assert(denied.error !== null, "the request succeeded");
    // The fixture's deadline is 30 s: this is the denial itself.
    assertStringIncludes(denied.error.message, 'Requires net access to "0.0.0.0:0"');
    assertStringIncludes(denied.error.message, "the stub is restarting");
    assert(!denied.error.message.includes("deadline"), denied.error.message);
    assertEquals([denied.releaseCount, denied.statsReports], [1, 1]);
    assertStringIncludes(host.log(), 'denied net access to "0.0.0.0:0"');

    const [next] = await model.executeAsync(0, [request("after", 7, false)]);
    assertEquals(next.error, null, next.error?.message);
    const output = next.outputs.get("OUTPUT0");
    assert(output?.kind === "numeric");
    assertEquals(Number(output.data[0]), 7);
    model.unload();
  }));
