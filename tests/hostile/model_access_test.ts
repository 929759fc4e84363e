/**
 * End-to-end, through the stand-in: what a model may do to other models is
 * declared in its config.pbtxt and checked by the trusted parent, before it
 * looks the target up:
 *
 * - `deno.allow_models`: the models it may call (BLS) and ask about
 *   (`models.isReady`);
 * - `deno.allow_model_control`: the models it may load and unload.
 *
 * An undeclared reach fails with a permission error that names the
 * parameter, and is the same whether the target exists or not (no
 * enumeration); Triton's log records the denial. The operator's policy caps
 * what may be declared.
 *
 * @module
 */

import { assert, assertEquals, assertStringIncludes } from "../harness/assert.ts";
import { exampleModelDir, fixtureDir } from "../harness/fixtures.ts";
import type { LoadedModel, RequestResult } from "../harness/host.ts";
import { withHost } from "../harness/session.ts";

const PROBER = fixtureDir("bls_prober");

function reach(prober: LoadedModel, action: string, model: string): string {
  const [result]: RequestResult[] = prober.execute(0, [{
    id: `${action}-${model}`,
    inputs: [{ name: "DUMMY", datatype: "INT32", shape: [1], data: new Int32Array([0]) }],
    parameters: { action, model },
  }]);
  assertEquals(result.error, null, result.error?.message);
  const output = result.outputs.get("RESULT");
  assert(output?.kind === "bytes", "RESULT missing");
  return output.strings[0];
}

/** The refusal with the target's name taken out. */
function anonymous(text: string, target: string): string {
  return text.replaceAll(`'${target}'`, "'<target>'");
}

Deno.test("model access: a model reaches only the models it declared", () =>
  withHost((host) => {
    host.loadModel(exampleModelDir("add_sub"));
    host.loadModel(exampleModelDir("stream_text"));
    const prober = host.loadModel(PROBER);

    assertEquals(reach(prober, "call", "add_sub"), "ok: called");
    assertEquals(reach(prober, "ready", "add_sub"), "ok: ready true");

    const call = reach(prober, "call", "stream_text");
    assertStringIncludes(call, "refused:");
    assertStringIncludes(
      call,
      "permission denied: model 'bls_prober' may not call model 'stream_text'",
    );
    assertStringIncludes(call, "deno.allow_models");
    const ready = reach(prober, "ready", "stream_text");
    assertStringIncludes(ready, "may not ask about model 'stream_text'");

    // A model that does not exist is refused in the very same words.
    assertEquals(
      anonymous(reach(prober, "call", "no_such_model"), "no_such_model"),
      anonymous(call, "stream_text"),
    );
    assertEquals(
      anonymous(reach(prober, "ready", "no_such_model"), "no_such_model"),
      anonymous(ready, "stream_text"),
    );

    // Nothing declared for model control: not even a declared callee.
    for (const action of ["load", "unload"]) {
      const refused = reach(prober, action, "add_sub");
      assertStringIncludes(refused, `may not ${action} model 'add_sub'`);
      assertStringIncludes(refused, "deno.allow_model_control");
    }

    const log = host.log();
    assertStringIncludes(
      log,
      "model 'bls_prober', instance 'bls_prober_0': denied: call model 'stream_text' (not in deno.allow_models)",
    );
    assertStringIncludes(log, "denied: unload model 'add_sub' (not in deno.allow_model_control)");
    prober.unload();
  }));

Deno.test("model access: the operator's policy caps what a model may declare", () =>
  withHost((host) => {
    const config = Deno.readTextFileSync(`${PROBER}/config.pbtxt`)
      .replace('string_value: "add_sub"', 'string_value: "tenant_b_*"');
    let message = "";
    try {
      host.loadModel(PROBER, { configText: config });
    } catch (error) {
      message = error instanceof Error ? error.message : String(error);
    }
    assertStringIncludes(message, '"deno.allow_models"');
    assertStringIncludes(message, "tenant_b_*");
    assertStringIncludes(message, "models: tenant_a_*");
  }, { policy: writePolicy({ version: 1, default: { allow_models: ["tenant_a_*"] } }) }));

function writePolicy(policy: unknown): string {
  const path = Deno.makeTempFileSync({ suffix: ".json" });
  Deno.writeTextFileSync(path, JSON.stringify(policy));
  return path;
}
