/**
 * Real core: a model reaches only the models its config.pbtxt declares
 * (`deno.allow_models`, `deno.allow_model_control`); an undeclared one is
 * refused in the same words whether Triton has it or not.
 *
 * @module
 */

import { assertEquals, assertStringIncludes } from "../harness/assert.ts";
import { coreTest, tensor } from "./core_session.ts";

coreTest("model access: undeclared calls are refused, whether the target exists or not", {
  models: ["bls_prober", "add_sub", "stream_text"],
}, async (core) => {
  const reach = async (action: string, model: string) => {
    const answer = await core.infer("bls_prober", [
      tensor("DUMMY", "INT32", [1], new Int32Array([0])),
    ], { parameters: { action, model } });
    assertEquals(answer.error, null, answer.error?.message);
    const result = answer.outputs.get("RESULT");
    return result?.kind === "bytes" ? result.strings[0] : "";
  };
  assertEquals(await reach("call", "add_sub"), "ok: called");
  const refused = await reach("call", "stream_text");
  assertStringIncludes(refused, "permission denied: model 'bls_prober' may not call model");
  assertStringIncludes(refused, "deno.allow_models");
  assertEquals(
    (await reach("call", "no_such_model")).replaceAll("no_such_model", "X"),
    refused.replaceAll("stream_text", "X"),
  );
  assertStringIncludes(await reach("ready", "stream_text"), "may not ask about");
  assertStringIncludes(await reach("unload", "add_sub"), "deno.allow_model_control");
  // Still serving, still ready.
  assertEquals(core.server.modelReady("add_sub"), true);
});
