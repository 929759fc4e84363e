/**
 * End-to-end: a model's static autoCompleteConfig (models/auto_complete)
 * through the test host and the real backend. It runs in the stub that then
 * serves the first instance; Triton gets the completed configuration; with
 * auto-completion off nothing runs; a conflict fails the load clearly.
 */

import { assert, assertEquals, assertStringIncludes } from "./harness/assert.ts";
import {
  exampleModelDir,
  fixtureDir,
  hasModel,
  removeTemporaryCopy,
  temporaryCopy,
} from "./harness/fixtures.ts";
import { type Host, HostError } from "./harness/host.ts";
import { findStubPids } from "./harness/processes.ts";
import { withHost } from "./harness/session.ts";
import { ROOT, startServeProcess } from "./serve/server_process.ts";

const MODEL = exampleModelDir("auto_complete");

function int32Request(a: number[], b: number[]) {
  return {
    id: "r",
    inputs: [
      { name: "INPUT0", datatype: "INT32" as const, shape: [1, a.length], data: new Int32Array(a) },
      { name: "INPUT1", datatype: "INT32" as const, shape: [1, b.length], data: new Int32Array(b) },
    ],
  };
}

Deno.test({
  name: "auto-complete: the model completes its configuration in the stub that then serves",
  ignore: !hasModel(MODEL),
  fn: () =>
    withHost((host) => {
      const model = host.loadModel(MODEL, { autoComplete: true });
      const config = JSON.parse(model.configJson());
      assertEquals(config.max_batch_size, 8);
      assert(config.dynamic_batching !== undefined, "dynamic batching was not set");
      assertEquals(
        config.input.map((
          input: { name: string; data_type: string },
        ) => [input.name, input.data_type]),
        [["INPUT0", "TYPE_INT32"], ["INPUT1", "TYPE_INT32"]],
      );
      assertEquals(config.output.length, 2);
      // One instance, one stub: the auto-completing stub was adopted, not replaced.
      assertEquals(findStubPids(MODEL).length, model.instanceCount);
      assertStringIncludes(host.log(), "configuration auto-completed by the model");
      // The adopted stub is reported with the layers it has, not as unprotected.
      assert(
        !host.log().includes("runs without"),
        `the adopted stub was reported without its layers:\n${host.log()}`,
      );
      const [result] = model.execute(0, [int32Request([1, 2, 3], [10, 20, 30])]);
      assertEquals(result.error, null);
      const sum = result.outputs.get("OUTPUT0");
      assert(sum?.kind === "numeric");
      assertEquals(Array.from(sum.data, Number), [11, 22, 33]);
      model.unload();
    }),
});

Deno.test({
  name: "auto-complete: with auto-completion disabled the method does not run",
  ignore: !hasModel(MODEL),
  fn: () =>
    withHost((host) => {
      const model = host.loadModel(MODEL, { autoComplete: false });
      const config = JSON.parse(model.configJson());
      assertEquals(config.input ?? [], []);
      assertEquals(config.max_batch_size ?? 0, 0);
      model.unload();
    }),
});

Deno.test({
  name: "auto-complete: a conflict with config.pbtxt fails the load, naming it",
  ignore: !hasModel(MODEL),
  fn: () =>
    withHost((host) => {
      let message = "";
      try {
        host.loadModel(MODEL, {
          autoComplete: true,
          configText: `name: "auto_complete" backend: "deno"
            input [{ name: "INPUT0" data_type: TYPE_FP32 dims: [4] }]`,
        });
      } catch (error) {
        assert(error instanceof HostError, String(error));
        message = error.message;
      }
      assertStringIncludes(message, "INPUT0");
      assertEquals(findStubPids(MODEL).length, 0, "the auto-completing stub was left running");
    }),
});

Deno.test({
  name: "auto-complete: deno task serve serves the completed configuration (and not with the flag)",
  ignore: !hasModel(MODEL),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    for (const disabled of [false, true]) {
      const server = await startServeProcess({
        repository: `${ROOT}models`,
        args: ["--model", "auto_complete", ...(disabled ? ["--disable-auto-complete-config"] : [])],
      });
      try {
        const base = `http://127.0.0.1:${server.port}`;
        const config = await (await fetch(`${base}/v2/models/auto_complete/config`)).json();
        assertEquals(config.max_batch_size ?? 0, disabled ? 0 : 8);
        const answer = await fetch(`${base}/v2/models/auto_complete/infer`, {
          method: "POST",
          body: JSON.stringify({
            inputs: [
              { name: "INPUT0", datatype: "INT32", shape: [1, 2], data: [1, 2] },
              { name: "INPUT1", datatype: "INT32", shape: [1, 2], data: [3, 4] },
            ],
          }),
        });
        const body = await answer.json();
        if (disabled) {
          assertEquals(answer.status, 400, JSON.stringify(body));
        } else {
          assertEquals(answer.status, 200, JSON.stringify(body));
          assertEquals(body.outputs[0].data, [4, 6]);
        }
      } finally {
        await server.stop("SIGTERM");
      }
    }
  },
});

/** The load error of `dir` with auto-completion on (as Triton's default is). */
function loadError(host: Host, dir: string): string {
  try {
    host.loadModel(dir, { autoComplete: true }).unload();
  } catch (error) {
    assert(error instanceof HostError, String(error));
    return error.message;
  }
  throw new Error(`${dir} loaded`);
}

Deno.test("auto-complete on: load errors say what failed in the model's terms, not auto-completion", () =>
  withHost((host) => {
    // A type error: what an instance load would say.
    const typeError = temporaryCopy(fixtureDir("type_error"), {
      "1/model.ts.broken": "1/model.ts",
    });
    try {
      const message = loadError(host, typeError);
      assertStringIncludes(message, "does not type-check");
      assertStringIncludes(message, "model.ts:");
      assert(!message.includes("auto-complet"), message);
    } finally {
      removeTemporaryCopy(typeError);
    }
    // A static autoCompleteConfig that throws: named as such.
    const throwing = temporaryCopy(exampleModelDir("add_sub"));
    try {
      Deno.writeTextFileSync(
        `${throwing}/1/model.ts`,
        Deno.readTextFileSync(`${throwing}/1/model.ts`).replace(
          "export default class AddSub implements Model {",
          'export default class AddSub implements Model {\n  static autoCompleteConfig(): void {\n    throw new Error("no shapes known");\n  }\n',
        ),
      );
      const message = loadError(host, throwing);
      assertStringIncludes(message, "its static autoCompleteConfig threw: no shapes known");
    } finally {
      removeTemporaryCopy(throwing);
    }
  }));

Deno.test("auto-complete on: a model that hangs while loading times out in words an author reads", () =>
  withHost((host) => {
    const hanging = temporaryCopy(exampleModelDir("add_sub"));
    try {
      Deno.writeTextFileSync(
        `${hanging}/1/model.ts`,
        "while (true) { /* never loads */ }\n" + Deno.readTextFileSync(`${hanging}/1/model.ts`),
      );
      const message = loadError(host, hanging);
      assertStringIncludes(message, "said nothing for 2 s (stub-timeout-seconds)");
      assertStringIncludes(message, "loading and type-checking the model");
      assert(!message.includes("INIT"), message);
    } finally {
      removeTemporaryCopy(hanging);
    }
  }, { "stub-timeout-seconds": "2" }));
