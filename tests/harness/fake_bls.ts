/**
 * The BLS test backend (tests/harness/fake_backend/fake_bls*.c, built by
 * `make build` into `<build>/fake_bls/`) in a host of its own, for the tests
 * of in-process inference, model control and custom metrics: each model
 * picks a role ("add_sub", "stream", "caller", "metrics") with the config
 * parameter "role" (see fake_bls.h).
 *
 * @example
 * ```ts ignore
 * import { withFakeBlsHost } from "./fake_bls.ts";
 *
 * Deno.test("x", () => withFakeBlsHost(async (host, modelDir) => {
 *   host.loadModel(modelDir, { configText: 'name: "adder" backend: "fake_bls"' });
 * }));
 * ```
 *
 * @module
 */

import { Host, type RequestResult } from "./host.ts";
import { buildPaths } from "./paths.ts";
import { assertNoViolations } from "./session.ts";

/** A model configuration for the test backend in the given role. */
export function fakeBlsConfig(
  name: string,
  role: "add_sub" | "stream" | "caller" | "metrics",
  body = "",
): string {
  return `name: "${name}"
backend: "fake_bls"
${body}
parameters { key: "role" value { string_value: "${role}" } }
`;
}

/** add_sub on FP32 INPUT0/INPUT1, two instances. */
export const ADDER_BODY = `
input [
  { name: "INPUT0" data_type: TYPE_FP32 dims: [ -1 ] },
  { name: "INPUT1" data_type: TYPE_FP32 dims: [ -1 ] }
]
output [
  { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ -1 ] },
  { name: "OUTPUT1" data_type: TYPE_FP32 dims: [ -1 ] }
]
instance_group [ { count: 2 kind: KIND_CPU } ]`;

/** A decoupled stream of INT32 OUT values. */
export const STREAMER_BODY = `
model_transaction_policy { decoupled: true }
input [ { name: "INPUT0" data_type: TYPE_INT32 dims: [ 1 ] } ]
output [ { name: "OUT" data_type: TYPE_INT32 dims: [ 1 ] } ]`;

/** Opens a host with the BLS test backend. */
export function openFakeBlsHost(): Host {
  const backendDir = `${buildPaths().buildDir}/fake_bls`;
  return Host.open({
    backendName: "fake_bls",
    backendDir,
    backendLibrary: `${backendDir}/libtriton_fake_bls.so`,
  });
}

/**
 * Runs `body` with a fresh host and an empty model directory (configurations
 * come as text), waits for in-process requests to finish, closes the host and
 * asserts that no rule was broken and nothing leaked.
 */
export async function withFakeBlsHost(
  body: (host: Host, modelDir: string) => void | Promise<void>,
): Promise<void> {
  const modelDir = await Deno.makeTempDir({ prefix: "tdn_fake_bls_model_" });
  const host = openFakeBlsHost();
  host.resetViolations();
  const baseline = host.violations().live;
  try {
    await body(host, modelDir);
    const idle = await host.waitIdle(30_000);
    if (!idle) throw new Error("in-process requests were still in flight after the test");
  } catch (error) {
    host.close();
    throw error;
  } finally {
    await Deno.remove(modelDir, { recursive: true });
  }
  assertNoViolations(host.close(), baseline, "after closing the host");
}

/** The parameters of a request's single response. */
export function responseParameters(result: RequestResult): Record<string, unknown> {
  if (result.responses.length !== 1) {
    throw new Error(`request '${result.id}' got ${result.responses.length} responses`);
  }
  return result.responses[0].parameters;
}
