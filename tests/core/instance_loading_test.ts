/**
 * Real core: a model's instances start at once. The backend tells the core
 * that instances of one model may initialize on several threads
 * (TRITONBACKEND_GetBackendAttribute, ffi/src/backend.c), so a model with N
 * instances loads in about the time of one stub's start, not N of them. The
 * stand-in core honors the attribute as Triton does.
 *
 * The proof does not time anything: each instance's `initialize` announces
 * itself in a shared directory and then waits until every instance has.
 * Loaded one after another, the first instance would wait for one that
 * never starts, and the load would fail with that instance's error. When
 * one of the instances started together fails, the load fails with its
 * error and no stub of the model is left.
 *
 * @module
 */

import { assert, assertEquals, assertStringIncludes } from "../harness/assert.ts";
import { findStubPids, waitFor } from "../harness/processes.ts";
import { coreTest, tensor, values } from "./core_session.ts";

const INSTANCES = 3;
const root = Deno.makeTempDirSync({ prefix: "instances_meet_" });
// The operator lets models use the meeting places (without a policy a
// model reads only its own directory and writes nowhere).
const policy = `${root}/policy.json`;
Deno.writeTextFileSync(
  policy,
  JSON.stringify({ version: 1, default: { allow_read: [root], allow_write: [root] } }),
);
globalThis.addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));

/**
 * A model whose instances meet in `meeting` before they finish
 * `initialize`; the instance whose name ends in `_<failing>` then throws.
 */
function rendezvous(name: string, meeting: string, failing = -1) {
  Deno.mkdirSync(meeting);
  const model = `import {
  type InferenceRequest,
  InferenceResponse,
  type InitializeArgs,
  type Model,
  Tensor,
} from "@triton/deno";

const MEETING = ${JSON.stringify(meeting)};
const INSTANCES = ${INSTANCES};
const FAILING = ${failing};

/** Initializes only once every instance of the model has begun to. */
export default class Rendezvous implements Model {
  #index = -1;

  async initialize(args: InitializeArgs): Promise<void> {
    Deno.writeTextFileSync(\`\${MEETING}/\${args.modelInstanceName}\`, "");
    this.#index = Number(args.modelInstanceName.split("_").at(-1));
    const deadline = Date.now() + 20_000;
    for (;;) {
      const arrived = [...Deno.readDirSync(MEETING)].length;
      if (arrived >= INSTANCES) break;
      if (Date.now() > deadline) {
        throw new Error(
          \`\${args.modelInstanceName} waited 20 s and saw \${arrived} of \${INSTANCES} instances \` +
            "begin to initialize: the core loads them one after another",
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    if (this.#index === FAILING) throw new Error(\`instance \${this.#index} refuses to start\`);
  }

  execute(requests: InferenceRequest[]): InferenceResponse[] {
    return requests.map(() =>
      new InferenceResponse([new Tensor("INDEX", "INT32", [1], [this.#index])])
    );
  }
}
`;
  const config = `name: "${name}"
backend: "deno"
max_batch_size: 0
instance_group [{ count: ${INSTANCES}, kind: KIND_CPU }]
input [{ name: "INPUT0" data_type: TYPE_INT32 dims: [ 1 ] }]
output [{ name: "INDEX" data_type: TYPE_INT32 dims: [ 1 ] }]
parameters { key: "deno.allow_read" value: { string_value: ${JSON.stringify(meeting)} } }
parameters { key: "deno.allow_write" value: { string_value: ${JSON.stringify(meeting)} } }
`;
  return { name, files: { "config.pbtxt": config, "1/model.ts": model } };
}

coreTest(`the ${INSTANCES} instances of a model initialize at once`, {
  models: [rendezvous("rendezvous", `${root}/together`)],
  denoConfig: { policy },
}, async (core) => {
  const arrived = [...Deno.readDirSync(`${root}/together`)].map((entry) => entry.name);
  assertEquals(arrived.length, INSTANCES, `instances that began: ${arrived.join(", ")}`);
  const answer = await core.infer("rendezvous", [
    tensor("INPUT0", "INT32", [1], new Int32Array([0])),
  ]);
  assertEquals(answer.error, null, answer.error?.message);
  const index = values(answer, "INDEX")[0];
  assert(index >= 0 && index < INSTANCES, `instance index ${index}`);
});

coreTest("one instance failing among those started at once fails the load, and no stub is left", {
  models: [rendezvous("one_fails", `${root}/one_fails`, 1)],
  startupModels: [],
  denoConfig: { policy },
}, async (core) => {
  const error = await core.server.loadModel("one_fails").then(() => undefined, (e) => e);
  assert(error instanceof Error, "the model loaded");
  assertStringIncludes(error.message, "instance 1 refuses to start");
  const arrived = [...Deno.readDirSync(`${root}/one_fails`)];
  assertEquals(arrived.length, INSTANCES, "all instances began before the failure");
  const directory = `${core.repository}/one_fails`;
  assert(
    await waitFor(() => findStubPids(directory).length === 0, 10_000),
    `stubs of the failed model still run: ${findStubPids(directory)}`,
  );
  const entry = (core.server.repositoryIndex() as { name: string; state?: string }[])
    .find((model) => model.name === "one_fails");
  assertEquals(entry?.state, "UNAVAILABLE");
});
