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
 * never starts, and the load would fail with that instance's error.
 *
 * @module
 */

import { assertEquals } from "../harness/assert.ts";
import { coreTest, tensor, values } from "./core_session.ts";

const INSTANCES = 3;
const root = Deno.makeTempDirSync({ prefix: "instances_meet_" });
const meeting = `${root}/meeting`;
Deno.mkdirSync(meeting);
// The operator lets models use the meeting place (without a policy a model
// reads only its own directory and writes nowhere).
const policy = `${root}/policy.json`;
Deno.writeTextFileSync(
  policy,
  JSON.stringify({ version: 1, default: { allow_read: [meeting], allow_write: [meeting] } }),
);

const model = `import {
  type InferenceRequest,
  InferenceResponse,
  type InitializeArgs,
  type Model,
  Tensor,
} from "@triton/deno";

const MEETING = ${JSON.stringify(meeting)};
const INSTANCES = ${INSTANCES};

/** Initializes only once every instance of the model has begun to. */
export default class Rendezvous implements Model {
  #index = -1;

  async initialize(args: InitializeArgs): Promise<void> {
    Deno.writeTextFileSync(\`\${MEETING}/\${args.modelInstanceName}\`, "");
    this.#index = Number(args.modelInstanceName.split("_").at(-1));
    const deadline = Date.now() + 20_000;
    for (;;) {
      const arrived = [...Deno.readDirSync(MEETING)].length;
      if (arrived >= INSTANCES) return;
      if (Date.now() > deadline) {
        throw new Error(
          \`\${args.modelInstanceName} waited 20 s and saw \${arrived} of \${INSTANCES} instances \` +
            "begin to initialize: the core loads them one after another",
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  execute(requests: InferenceRequest[]): InferenceResponse[] {
    return requests.map(() =>
      new InferenceResponse([new Tensor("INDEX", "INT32", [1], [this.#index])])
    );
  }
}
`;

const config = `name: "rendezvous"
backend: "deno"
max_batch_size: 0
instance_group [{ count: ${INSTANCES}, kind: KIND_CPU }]
input [{ name: "INPUT0" data_type: TYPE_INT32 dims: [ 1 ] }]
output [{ name: "INDEX" data_type: TYPE_INT32 dims: [ 1 ] }]
parameters { key: "deno.allow_read" value: { string_value: ${JSON.stringify(meeting)} } }
parameters { key: "deno.allow_write" value: { string_value: ${JSON.stringify(meeting)} } }
`;

coreTest(`the ${INSTANCES} instances of a model initialize at once`, {
  models: [{ name: "rendezvous", files: { "config.pbtxt": config, "1/model.ts": model } }],
  denoConfig: { policy },
}, async (core) => {
  try {
    const arrived = [...Deno.readDirSync(meeting)].map((entry) => entry.name).sort();
    assertEquals(arrived.length, INSTANCES, `instances that began: ${arrived.join(", ")}`);
    const answer = await core.infer("rendezvous", [
      tensor("INPUT0", "INT32", [1], new Int32Array([0])),
    ]);
    assertEquals(answer.error, null, answer.error?.message);
    const index = values(answer, "INDEX")[0];
    assertEquals(index >= 0 && index < INSTANCES, true, `instance index ${index}`);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});
