/**
 * Real core: python_backend's request API in Triton's own core: the
 * request's timeout and flags, the response sender of a model that is not
 * decoupled, and rescheduling under Triton's iterative sequence batcher
 * (TRITONBACKEND_RequestRelease with TRITONSERVER_REQUEST_RELEASE_RESCHEDULE).
 *
 * @module
 */

import { assertEquals, assertStringIncludes } from "../harness/assert.ts";
import { coreTest, tensor, values } from "./core_session.ts";

const int32 = (name: string, value: number) => tensor(name, "INT32", [1], new Int32Array([value]));

coreTest("request.flags and request.timeoutMicros come from Triton", {
  models: ["request_fields"],
}, async (core) => {
  const answer = await core.infer("request_fields", [int32("INPUT0", 0)], {
    timeoutMicros: 4_000_000,
  });
  assertEquals(answer.error, null, answer.error?.message);
  assertEquals(values(answer, "TIMEOUT_US"), [4_000_000]);
  assertEquals(values(answer, "FLAGS"), [0]);
});

coreTest("a model that is not decoupled answers through its response sender", {
  models: ["sender_not_decoupled"],
}, async (core) => {
  for (const [mode, value] of [["returned", 1], ["now", 2], ["later", 3]] as const) {
    const answer = await core.infer("sender_not_decoupled", [int32("INPUT0", value)], {
      parameters: { mode },
    });
    assertEquals(answer.error, null, `${mode}: ${answer.error?.message}`);
    assertEquals(values(answer, "OUTPUT0"), [value + 1], mode);
  }
  const none = await core.infer("sender_not_decoupled", [int32("INPUT0", 0)], {
    id: "none",
    parameters: { mode: "none" },
  });
  assertStringIncludes(none.error?.message ?? "", "execute returned no response for it");
});

coreTest("Triton's iterative sequence batcher runs a rescheduled request again", {
  models: ["iterative_countdown"],
  realCoreOnly:
    "the stand-in server has no iterative sequence batcher; tests/python_api_test.ts reschedules through its backend API",
}, async (core) => {
  const answer = await core.infer("iterative_countdown", [int32("STEPS", 3)], {
    // START only: Triton's iterative sequencer ends the sequence when the
    // model releases the request for good (END would stop the rescheduling).
    correlationId: 11n,
    flags: 1,
  });
  assertEquals(answer.error, null, answer.error?.message);
  assertEquals(values(answer, "TURNS"), [3]);
});

coreTest("a decoupled model streams one response per turn under iterative sequences", {
  models: ["iterative_stream"],
  realCoreOnly:
    "the stand-in server has no iterative sequence batcher; tests/python_api_test.ts reschedules through its backend API",
}, async (core) => {
  const answers = await core.stream("iterative_stream", [int32("STEPS", 3)], {
    correlationId: 12n,
    flags: 1,
  });
  const sent = answers.filter((answer) => !answer.response.flagsOnly);
  for (const answer of sent) assertEquals(answer.error, null, answer.error?.message);
  assertEquals(sent.map((answer) => values(answer, "REMAINING")[0]), [2, 1, 0]);
});
